import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { requestSchemas, type ApiMethod, type KizuHandlers } from '../../../electron/api.ts';
import { bundleElectron } from '../../../electron/bundle/bundle-electron.ts';
import { API_METHOD_NAMES, channelOf, DROP_CHANNEL } from '../../../electron/ipc-channels.ts';
import { registerIpcHandlers, type InvokeEvent, type SenderFrame } from '../../../electron/ipc.ts';
import { CONTENT_SECURITY_POLICY } from '../../../electron/service/renderer-files.ts';

/*
 * Electron's security checklist (electronjs.org/docs/latest/tutorial/security), item by item,
 * against the real main.ts run on a recording fake of Electron (the binary cannot run here),
 * the real bundled preload, the IPC layer and the CSP. Fuses are checked with the installer
 * configuration (test/unit/build/electron-builder-config.test.ts); Electronegativity runs in
 * test/unit/build/electronegativity.test.ts.
 */

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kizu-security-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Listener = (...args: unknown[]) => unknown;

/** What main.ts did to the fake Electron, in order. */
const electron = vi.hoisted(() => {
  const record = {
    calls: [] as string[],
    ready: false,
    windows: [] as { options: Record<string, unknown>; loaded: string[] }[],
    appListeners: new Map<string, (...args: unknown[]) => unknown>(),
    schemes: [] as unknown[],
    protocolHandlers: new Map<string, (request: { url: string }) => Promise<Response>>(),
    permissionRequest: undefined as undefined | ((wc: unknown, permission: string, callback: (ok: boolean) => void, details?: unknown) => void),
    permissionCheck: undefined as undefined | ((...args: unknown[]) => boolean),
    ipcHandlers: new Map<string, (event: unknown, ...args: unknown[]) => unknown>(),
    openExternal: [] as string[],
    errors: [] as string[],
    appPath: '',
    loaded: undefined as undefined | (() => void),
  };
  const loadedOnce = new Promise<void>((resolve) => { record.loaded = resolve; });
  class BrowserWindow {
    readonly webContents = { send: () => undefined, isDestroyed: () => false };
    private readonly entry: { options: Record<string, unknown>; loaded: string[] };
    constructor(options: Record<string, unknown>) {
      this.entry = { options, loaded: [] };
      record.windows.push(this.entry);
      record.calls.push('new BrowserWindow');
    }
    once(): void {}
    on(): void {}
    show(): void {}
    async loadURL(url: string): Promise<void> {
      this.entry.loaded.push(url);
      record.loaded?.();
    }
    async loadFile(file: string): Promise<void> {
      this.entry.loaded.push(`loadFile:${file}`);
    }
  }
  const fake = {
    app: {
      isPackaged: false,
      enableSandbox: () => record.calls.push(record.ready ? 'enableSandbox after ready' : 'enableSandbox'),
      on: (name: string, listener: (...args: unknown[]) => unknown) => record.appListeners.set(name, listener),
      whenReady: () => new Promise<void>((resolve) => setTimeout(() => { record.ready = true; resolve(); }, 0)),
      getAppPath: () => record.appPath,
      getPath: () => record.appPath,
      getVersion: () => '0.0.0-test',
      getLocale: () => 'en-US',
      setAboutPanelOptions: () => undefined,
      showAboutPanel: () => undefined,
      quit: () => undefined,
      exit: () => undefined,
    },
    BrowserWindow,
    dialog: {
      showErrorBox: (title: string, content: string) => record.errors.push(`${title}: ${content}`),
      showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
    },
    ipcMain: {
      handle: (channel: string, listener: (event: unknown, ...args: unknown[]) => unknown) => record.ipcHandlers.set(channel, listener),
      removeHandler: (channel: string) => record.ipcHandlers.delete(channel),
    },
    Menu: { buildFromTemplate: (t: unknown) => t, setApplicationMenu: () => undefined },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => {
        record.schemes.push(...schemes);
        record.calls.push(record.ready ? 'registerSchemes after ready' : 'registerSchemes');
      },
      handle: (scheme: string, handler: (request: { url: string }) => Promise<Response>) => record.protocolHandlers.set(scheme, handler),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h: typeof record.permissionRequest) => { record.permissionRequest = h; },
        setPermissionCheckHandler: (h: typeof record.permissionCheck) => { record.permissionCheck = h; },
      },
    },
    shell: { openExternal: async (url: string) => { record.openExternal.push(url); } },
  };
  return { record, fake, loadedOnce };
});

vi.mock('electron', () => ({ ...electron.fake, default: electron.fake }));

// The engine worker is not what this test is about; main.ts gets an engine that starts at once.
vi.mock('../../../electron/worker/engine-client.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../electron/worker/engine-client.ts')>();
  class EngineClient {
    static once = async () => ({});
    start = async () => ({ backend: null, model: null });
    call = async () => ({});
    close = async () => undefined;
  }
  return { ...original, EngineClient };
});

const SECURE_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  navigateOnDragDrop: false,
  disableBlinkFeatures: 'Auxclick',
};

beforeAll(async () => {
  electron.record.appPath = join(tmp, 'app');
  mkdirSync(join(electron.record.appPath, 'dist', 'renderer'), { recursive: true });
  writeFileSync(join(electron.record.appPath, 'dist', 'renderer', 'index.html'), '<!doctype html><title>Kizu</title>');
  await import('../../../electron/main.ts');
  await electron.loadedOnce;
});

describe('main.ts on Electron, checklist item by item', () => {
  it('only loads its own content, through a custom protocol: never http(s) nor file://', () => {
    expect(electron.record.windows).toHaveLength(1);
    expect(electron.record.windows[0].loaded).toEqual(['app://kizu/index.html']);
    expect(electron.record.schemes).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    expect(electron.record.calls.indexOf('registerSchemes')).toBeGreaterThanOrEqual(0);
  });

  it('every window: no Node integration, context isolation, process sandbox, web security, no insecure content, no experimental features or enableBlinkFeatures', () => {
    for (const { options } of electron.record.windows) {
      const prefs = options.webPreferences as Record<string, unknown>;
      expect(prefs).toMatchObject(SECURE_PREFERENCES);
      expect(prefs).not.toHaveProperty('enableBlinkFeatures');
      expect(prefs.preload).toBe(join(repo, 'electron', 'preload.cjs'));
    }
    // The sandbox is forced for every renderer, before the app is ready.
    expect(electron.record.calls).toContain('enableSandbox');
    expect(electron.record.calls.indexOf('enableSandbox')).toBeLessThan(electron.record.calls.indexOf('new BrowserWindow'));
  });

  it('handles session permission requests: refuses every one, and every check', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read', 'fileSystem', 'hid', 'serial', 'usb']) {
      const callback = vi.fn();
      electron.record.permissionRequest!(null, permission, callback, {});
      expect(callback, permission).toHaveBeenCalledWith(false);
      expect(electron.record.permissionCheck!(null, permission, 'app://kizu', {}), permission).toBe(false);
    }
  });

  it('limits navigation and new windows, and verifies <webview> (none allowed): for every web contents, including later ones', () => {
    const created = electron.record.appListeners.get('web-contents-created')!;
    expect(created).toBeDefined();
    const listeners = new Map<string, Listener>();
    let openHandler: ((details: { url: string }) => { action: string }) | undefined;
    created({}, { on: (name: string, l: Listener) => listeners.set(name, l), setWindowOpenHandler: (h: typeof openHandler) => (openHandler = h) });
    for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const event = { preventDefault: vi.fn() };
      listeners.get(name)!(event, 'https://evil.example/');
      expect(event.preventDefault, name).toHaveBeenCalled();
    }
    for (const url of ['https://evil.example/', 'app://kizu/index.html', 'file:///etc/passwd', 'javascript:alert(1)']) {
      expect(openHandler!({ url })).toEqual({ action: 'deny' });
    }
  });

  it('does not use shell.openExternal, allowpopups, enableBlinkFeatures, or any switched-off protection anywhere in electron/', () => {
    expect(electron.record.openExternal).toEqual([]);
    const sources = readdirSync(join(repo, 'electron'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts'))
      .map((e) => join(e.parentPath, e.name));
    expect(sources.length).toBeGreaterThan(50);
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const risky of ['openExternal', 'enableBlinkFeatures', 'allowpopups', 'nodeIntegration: true', 'contextIsolation: false', 'webSecurity: false', 'sandbox: false', 'bypassCSP']) {
        expect(text.includes(risky), `${file} contains ${risky}`).toBe(false);
      }
    }
  });

  it('defines a Content-Security-Policy on every app:// response, errors included', async () => {
    const handler = electron.record.protocolHandlers.get('app')!;
    for (const url of ['app://kizu/index.html', 'app://kizu/missing.js', 'app://other/index.html', 'app://kizu/%2e%2e/%2e%2e/etc/passwd']) {
      const response = await handler({ url });
      expect(response.headers.get('content-security-policy'), url).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers.get('x-content-type-options'), url).toBe('nosniff');
    }
    expect((await handler({ url: 'app://kizu/index.html' })).status).toBe(200);
  });

  it('validates the sender of all IPC messages: a handler per API method, each refusing other frames', async () => {
    const channels = [...API_METHOD_NAMES.map(channelOf), DROP_CHANNEL];
    expect([...electron.record.ipcHandlers.keys()].sort()).toEqual(channels.sort());
    const foreign = { senderFrame: { url: 'https://evil.example/', parent: null } };
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    for (const channel of channels) {
      const reply = await electron.record.ipcHandlers.get(channel)!(foreign, {});
      expect(reply, channel).toEqual({ ok: false, error: { error: 'refused: this call did not come from the Kizu window' } });
    }
    expect(logged.mock.calls.map(([line]) => String(line))).toEqual(channels.map((c) => `kizu: refused ${c} from https://evil.example/`));
    logged.mockRestore();
    expect(electron.record.errors).toEqual([]);
  });
});

describe('IPC: sender and schema checks on every method', () => {
  const appFrame: SenderFrame = { url: 'app://kizu/index.html', parent: null };
  const calls: string[] = [];
  const handlers = Object.fromEntries(API_METHOD_NAMES.map((m) => [m, async (request: unknown) => (calls.push(m), request)])) as unknown as KizuHandlers;
  const ipc = new Map<string, (event: InvokeEvent, arg: unknown) => Promise<unknown>>();
  registerIpcHandlers({ handle: (c, l) => ipc.set(c, l as never), removeHandler: () => undefined }, handlers, { onDrop: async () => undefined, log: () => undefined });

  /** Methods whose request has at least one required field: anything that is not an object of them fails. */
  const withFields = API_METHOD_NAMES.filter((m) => !requestSchemas[m].safeParse({}).success);

  it('refuses, for every method, frames that are not the app\'s top frame', async () => {
    const frames: (SenderFrame | null)[] = [
      null,
      { url: 'https://evil.example/', parent: null },
      { url: 'app://kizu/index.html', parent: { url: 'https://evil.example/', parent: null } },
      { url: 'app://kizu.evil.example/index.html', parent: null },
      { url: 'file:///app/dist/renderer/index.html', parent: null },
      { url: 'http://127.0.0.1:5173/', parent: null },
    ];
    for (const method of API_METHOD_NAMES) {
      for (const frame of frames) {
        const reply = (await ipc.get(channelOf(method))!({ senderFrame: frame }, {})) as { ok: boolean };
        expect(reply.ok, `${method} from ${frame?.url}`).toBe(false);
      }
    }
    expect(calls).toEqual([]);
  });

  it('refuses, for every method with fields, arguments that fail its schema, naming the method', async () => {
    expect(withFields.length).toBeGreaterThanOrEqual(12);
    for (const method of withFields) {
      for (const bad of [undefined, null, 42, 'listImages', [], { id: 7 }, { path: ['/etc'] }, { id: 'x'.repeat(5000) }]) {
        const reply = (await ipc.get(channelOf(method))!({ senderFrame: appFrame }, bad)) as { ok: boolean; error?: { method: string; where: string } };
        expect(reply.ok, `${method}(${JSON.stringify(bad)})`).toBe(false);
        expect(reply.error?.method).toBe(method);
        expect(reply.error?.where).toBeTruthy();
      }
    }
    expect(calls).toEqual([]);
  });

  it('hands the handler only the fields of the schema: unknown keys and prototype tricks are dropped', async () => {
    const raw = JSON.parse('{"id": "a.png", "size": 64, "admin": true, "__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}') as unknown;
    const reply = (await ipc.get(channelOf('getThumbnail'))!({ senderFrame: appFrame }, raw)) as { ok: true; value: Record<string, unknown> };
    expect(reply.ok).toBe(true);
    expect(reply.value).toEqual({ id: 'a.png', size: 64 });
    expect(Object.keys(reply.value).sort()).toEqual(['id', 'size']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(calls).toEqual(['getThumbnail']);
  });
});

describe('the Content-Security-Policy', () => {
  const directives = (csp: string) => new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((p) => p[0]).map(([name, ...values]) => [name, values]));

  it('allows scripts, connections and everything by default only from the app itself, and no plugins, base or framing', () => {
    const d = directives(CONTENT_SECURITY_POLICY);
    expect(d.get('default-src')).toEqual(["'self'"]);
    expect(d.get('script-src')).toEqual(["'self'"]);
    expect(d.get('connect-src')).toEqual(["'self'"]);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('base-uri')).toEqual(["'none'"]);
    expect(d.get('form-action')).toEqual(["'none'"]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    for (const [name, values] of d) {
      for (const v of values) {
        expect(["'unsafe-eval'", "'unsafe-hashes'", '*', 'http:', 'https:', 'file:', 'ws:'], `${name} ${v}`).not.toContain(v);
        expect(v, `${name} names a host`).not.toMatch(/^[a-z]+:\/\//);
      }
    }
    // Vue's style bindings need inline styles; nowhere else is anything inline allowed.
    for (const [name, values] of d) if (name !== 'style-src') expect(values, name).not.toContain("'unsafe-inline'");
  });

  it('the renderer page carries a policy no looser than the one served with it', () => {
    const html = readFileSync(join(repo, 'renderer', 'index.html'), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBeDefined();
    const page = directives(meta!);
    expect(page.get('script-src')).toEqual(["'self'"]);
    expect(page.get('default-src')).toEqual(["'self'"]);
    expect(page.get('object-src')).toEqual(["'none'"]);
    expect(meta).not.toContain('unsafe-eval');
  });
});

describe('does not expose Electron APIs to web content: the preload gives the API and nothing else', () => {
  it('puts one object, window.kizu, in the page: API calls over fixed channels, no ipcRenderer, no Node', async () => {
    const out = await bundleElectron(repo, join(tmp, 'bundle'));
    const code = readFileSync(join(out, 'preload.cjs'), 'utf8');
    const exposed: [string, unknown][] = [];
    const invoked: [string, unknown][] = [];
    const required: string[] = [];
    const fakeElectron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.push([key, api]) },
      ipcRenderer: {
        invoke: async (channel: string, arg: unknown) => (invoked.push([channel, arg]), { ok: true, value: 'answer' }),
        on: () => undefined,
        removeListener: () => undefined,
      },
      webUtils: { getPathForFile: () => '' },
    };
    const module = { exports: {} };
    runInNewContext(code, {
      require: (name: string) => {
        required.push(name);
        if (name !== 'electron') throw new Error(`the preload asked for ${name}`);
        return fakeElectron;
      },
      module,
      exports: module.exports,
      addEventListener: () => undefined,
    });
    expect(required).toEqual(['electron']);
    expect(exposed.map(([key]) => key)).toEqual(['kizu']);
    const api = exposed[0][1] as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual([...API_METHOD_NAMES, 'onAppCommand', 'onJobEvent'].sort());
    for (const value of Object.values(api)) expect(typeof value).toBe('function');
    expect(Object.values(api)).not.toContain(fakeElectron.ipcRenderer.invoke);
    expect(await (api.listImages as (r: unknown) => Promise<unknown>)({})).toBe('answer');
    expect(invoked).toEqual([[channelOf('listImages' satisfies ApiMethod), {}]]);
  });
});
