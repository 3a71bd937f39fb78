import { z } from 'zod';
import type { AppCommand, JobEvent, KizuHandlers } from './api.ts';
import { API_METHOD_NAMES, APP_COMMAND_CHANNEL, channelOf, DROP_CHANNEL, JOB_EVENT_CHANNEL, type IpcResult } from './ipc-channels.ts';
import { messageOf, statusOf } from './service/error-status.ts';
import { checkRequest } from './service/request-check.ts';

/** The parts of Electron's ipcMain, invoke event and webContents this module uses (tests pass fakes). */
export interface SenderFrame {
  url: string;
  parent: SenderFrame | null;
}

export interface InvokeEvent {
  senderFrame: SenderFrame | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface MessageTarget {
  send(channel: string, payload: unknown): void;
  isDestroyed(): boolean;
}

/** The renderer's own origin: Electron serves dist/renderer as app://kizu/ (main.ts). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'kizu';

export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/** Only the app's own top-level page may call: not an iframe, not a page navigated elsewhere. */
export function isTrustedSender(frame: SenderFrame | null): boolean {
  return frame !== null && frame.parent === null && isAppUrl(frame.url);
}

const droppedPaths = z.array(z.string().min(1).max(4096)).min(1).max(100_000);

export interface IpcOptions {
  /** Files or folders dropped on the window (already validated), e.g. to open them. */
  onDrop(paths: string[]): Promise<void>;
  log?(line: string): void;
}

/**
 * One ipcMain.handle per API method: the sender is checked, the argument validated against
 * api.ts's schema, and the answer (or the error, as data) returned. Returns an unregister.
 */
export function registerIpcHandlers(ipcMain: IpcMainLike, handlers: KizuHandlers, options: IpcOptions): () => void {
  const log = options.log ?? (() => undefined);
  const refused = (channel: string, frame: SenderFrame | null): IpcResult<never> => {
    log(`kizu: refused ${channel} from ${frame?.url ?? 'a destroyed frame'}`);
    return { ok: false, error: { error: 'refused: this call did not come from the Kizu window' } };
  };
  const channels: string[] = [];
  for (const method of API_METHOD_NAMES) {
    const channel = channelOf(method);
    channels.push(channel);
    ipcMain.handle(channel, async (event, raw): Promise<IpcResult<unknown>> => {
      if (!isTrustedSender(event.senderFrame)) return refused(channel, event.senderFrame);
      try {
        const request = checkRequest(method, raw);
        const handler = handlers[method] as (r: unknown) => Promise<unknown>;
        return { ok: true, value: await handler(request) };
      } catch (err) {
        if (statusOf(err) === 500) log(`kizu: ${method} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
        const where = (err as { where?: string }).where;
        return { ok: false, error: { error: messageOf(err), method, ...(where ? { where } : {}) } };
      }
    });
  }
  channels.push(DROP_CHANNEL);
  ipcMain.handle(DROP_CHANNEL, async (event, raw): Promise<IpcResult<null>> => {
    if (!isTrustedSender(event.senderFrame)) return refused(DROP_CHANNEL, event.senderFrame);
    const paths = droppedPaths.safeParse(raw);
    if (!paths.success) return { ok: false, error: { error: 'dropped items: expected a list of file paths', where: 'paths' } };
    try {
      await options.onDrop(paths.data);
      return { ok: true, value: null };
    } catch (err) {
      return { ok: false, error: { error: messageOf(err) } };
    }
  });
  return () => channels.forEach((c) => ipcMain.removeHandler(c));
}

/** Job events to the window, for as long as it lives. */
export function forwardJobEvents(jobs: { subscribe(listener: (e: JobEvent) => void): () => void }, target: MessageTarget): () => void {
  return jobs.subscribe((event) => {
    if (!target.isDestroyed()) target.send(JOB_EVENT_CHANNEL, event);
  });
}

export function sendAppCommand(target: MessageTarget, command: AppCommand): void {
  if (!target.isDestroyed()) target.send(APP_COMMAND_CHANNEL, command);
}
