import { describe, expect, it, vi } from 'vitest';
import type { AppCommand, JobEvent, KizuHandlers } from '../../../electron/api.ts';
import { createIpcClient, KizuApiError } from '../../../electron/ipc-client.ts';
import { API_METHOD_NAMES, APP_COMMAND_CHANNEL, channelOf, DROP_CHANNEL, JOB_EVENT_CHANNEL } from '../../../electron/ipc-channels.ts';
import { forwardJobEvents, isTrustedSender, registerIpcHandlers, sendAppCommand, type InvokeEvent, type SenderFrame } from '../../../electron/ipc.ts';
import { requestSchemas } from '../../../electron/api.ts';
import { JobRegistry } from '../../../electron/service/jobs.ts';

type Listener = (event: InvokeEvent, ...args: unknown[]) => unknown;

function fakeIpcMain() {
  const handlers = new Map<string, Listener>();
  return {
    handlers,
    handle: (channel: string, listener: Listener) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, listener);
    },
    removeHandler: (channel: string) => handlers.delete(channel),
    invoke: (channel: string, frame: SenderFrame | null, arg: unknown) => handlers.get(channel)!({ senderFrame: frame }, arg),
  };
}

const appFrame: SenderFrame = { url: 'app://kizu/index.html', parent: null };

function fakeHandlers() {
  const getThumbnail = vi.fn(async (r: { id: string; size: number }) => ({ width: r.size, height: r.size, png: new Uint8Array([1]) }));
  const listImages = vi.fn(async () => []);
  return { getThumbnail, listImages, handlers: { getThumbnail, listImages } as unknown as KizuHandlers };
}

describe('IPC handlers', () => {
  it('registers exactly one channel per API method, plus the drop channel, and unregisters them', () => {
    const ipc = fakeIpcMain();
    const unregister = registerIpcHandlers(ipc, fakeHandlers().handlers, { onDrop: async () => undefined });
    expect([...ipc.handlers.keys()].sort()).toEqual([...Object.keys(requestSchemas).map((m) => `kizu:api:${m}`), DROP_CHANNEL].sort());
    expect(API_METHOD_NAMES.sort()).toEqual(Object.keys(requestSchemas).sort());
    unregister();
    expect(ipc.handlers.size).toBe(0);
  });

  it('answers the app\'s own top frame with the handler\'s value', async () => {
    const ipc = fakeIpcMain();
    const fake = fakeHandlers();
    registerIpcHandlers(ipc, fake.handlers, { onDrop: async () => undefined });
    const reply = await ipc.invoke(channelOf('getThumbnail'), appFrame, { id: 'a.png', size: 64 });
    expect(reply).toEqual({ ok: true, value: { width: 64, height: 64, png: new Uint8Array([1]) } });
    expect(fake.getThumbnail).toHaveBeenCalledWith({ id: 'a.png', size: 64 });
  });

  it('refuses other senders: another origin, an iframe, a destroyed frame, file://', async () => {
    const ipc = fakeIpcMain();
    const fake = fakeHandlers();
    const log = vi.fn();
    registerIpcHandlers(ipc, fake.handlers, { onDrop: async () => undefined, log });
    const senders: (SenderFrame | null)[] = [
      { url: 'https://evil.example/', parent: null },
      { url: 'app://kizu/index.html', parent: appFrame },
      { url: 'app://other/index.html', parent: null },
      { url: 'file:///work/main/dist/renderer/index.html', parent: null },
      { url: 'not a url', parent: null },
      null,
    ];
    for (const frame of senders) {
      const reply = await ipc.invoke(channelOf('listImages'), frame, {});
      expect(reply).toEqual({ ok: false, error: { error: 'refused: this call did not come from the Kizu window' } });
    }
    expect(fake.listImages).not.toHaveBeenCalled();
    expect(log).toHaveBeenCalledTimes(senders.length);
    expect(isTrustedSender(appFrame)).toBe(true);
  });

  it('validates every argument with the schema and names the field at fault', async () => {
    const ipc = fakeIpcMain();
    const fake = fakeHandlers();
    registerIpcHandlers(ipc, fake.handlers, { onDrop: async () => undefined });
    const reply = (await ipc.invoke(channelOf('getThumbnail'), appFrame, { id: 'a.png', size: 'big' })) as { ok: false; error: { error: string; where: string; method: string } };
    expect(reply.ok).toBe(false);
    expect(reply.error).toMatchObject({ method: 'getThumbnail', where: 'size' });
    expect(reply.error.error).toMatch(/getThumbnail: invalid request: size:/);
    const empty = (await ipc.invoke(channelOf('getThumbnail'), appFrame, { id: '', size: 64 })) as { ok: boolean; error: { where: string } };
    expect([empty.ok, empty.error.where]).toEqual([false, 'id']);
    const none = (await ipc.invoke(channelOf('getThumbnail'), appFrame, undefined)) as { ok: boolean; error: { where: string } };
    expect([none.ok, none.error.where]).toEqual([false, 'id']);
    expect(fake.getThumbnail).not.toHaveBeenCalled();
  });

  it('turns a handler error into data, never a rejection', async () => {
    const ipc = fakeIpcMain();
    const handlers = { listImages: async () => { throw new Error('no folder is open'); } } as unknown as KizuHandlers;
    registerIpcHandlers(ipc, handlers, { onDrop: async () => undefined, log: () => undefined });
    expect(await ipc.invoke(channelOf('listImages'), appFrame, {})).toEqual({ ok: false, error: { error: 'no folder is open', method: 'listImages' } });
  });

  it('hands dropped paths to onDrop only from the app and only as a list of paths', async () => {
    const ipc = fakeIpcMain();
    const onDrop = vi.fn(async () => undefined);
    registerIpcHandlers(ipc, fakeHandlers().handlers, { onDrop, log: () => undefined });
    expect(await ipc.invoke(DROP_CHANNEL, appFrame, ['/data/a.png', '/data/b.png'])).toEqual({ ok: true, value: null });
    expect(onDrop).toHaveBeenCalledWith(['/data/a.png', '/data/b.png']);
    expect(await ipc.invoke(DROP_CHANNEL, appFrame, 'rm -rf /')).toMatchObject({ ok: false, error: { where: 'paths' } });
    expect(await ipc.invoke(DROP_CHANNEL, { url: 'https://evil.example/', parent: null }, ['/etc'])).toMatchObject({ ok: false });
    expect(onDrop).toHaveBeenCalledTimes(1);
  });

  it('forwards job events and app commands to the window while it lives', async () => {
    const sent: [string, unknown][] = [];
    let destroyed = false;
    const target = { send: (c: string, p: unknown) => sent.push([c, p]), isDestroyed: () => destroyed };
    const jobs = new JobRegistry();
    const stop = forwardJobEvents(jobs, target);
    await jobs.start('export', 1, 'x', async () => ({})).done;
    sendAppCommand(target, { kind: 'zoom', action: 'fit' });
    destroyed = true;
    sendAppCommand(target, { kind: 'show-shortcuts' });
    stop();
    expect(sent.map(([c, p]) => [c, (p as { state?: string; kind: string }).state ?? (p as { kind: string }).kind])).toEqual([
      [JOB_EVENT_CHANNEL, 'running'], [JOB_EVENT_CHANNEL, 'done'], [APP_COMMAND_CHANNEL, 'zoom'],
    ]);
  });
});

describe('IPC client (what the preload exposes)', () => {
  function fakeTransport(answer: (channel: string, request: unknown) => unknown) {
    const listeners = new Map<string, Set<(p: unknown) => void>>();
    return {
      emit: (channel: string, payload: unknown) => listeners.get(channel)?.forEach((l) => l(payload)),
      invoke: async (channel: string, request: unknown) => answer(channel, request),
      on: (channel: string, listener: (p: unknown) => void) => {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel)!.add(listener);
        return () => listeners.get(channel)!.delete(listener);
      },
    };
  }

  it('has exactly the API methods plus onJobEvent and onAppCommand', () => {
    const client = createIpcClient(fakeTransport(() => ({ ok: true, value: null })));
    expect(Object.keys(client).sort()).toEqual([...Object.keys(requestSchemas), 'onAppCommand', 'onJobEvent'].sort());
  });

  it('returns values and throws errors with their message and field', async () => {
    const transport = fakeTransport((channel, request) =>
      channel === channelOf('listImages') ? { ok: true, value: [{ id: 'a.png', request }] } : { ok: false, error: { error: 'getImage: invalid request: id: too short', where: 'id' } });
    const client = createIpcClient(transport);
    expect(await client.listImages({})).toEqual([{ id: 'a.png', request: {} }]);
    const err = await client.getImage({ id: '' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KizuApiError);
    expect((err as KizuApiError).message).toBe('getImage: invalid request: id: too short');
    expect((err as KizuApiError).where).toBe('id');
  });

  it('delivers job events and app commands until unsubscribed', () => {
    const transport = fakeTransport(() => ({ ok: true, value: null }));
    const client = createIpcClient(transport);
    const events: JobEvent[] = [];
    const commands: AppCommand[] = [];
    const off = client.onJobEvent((e) => events.push(e));
    client.onAppCommand!((c) => commands.push(c));
    const event = { jobId: 'j', kind: 'export', state: 'running', done: 0, total: 1, etaSeconds: null, message: '' } as JobEvent;
    transport.emit(JOB_EVENT_CHANNEL, event);
    transport.emit(APP_COMMAND_CHANNEL, { kind: 'show-layer', layer: 'layer3' });
    off();
    transport.emit(JOB_EVENT_CHANNEL, event);
    expect(events).toEqual([event]);
    expect(commands).toEqual([{ kind: 'show-layer', layer: 'layer3' }]);
  });
});
