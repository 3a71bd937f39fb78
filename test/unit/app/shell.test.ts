import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MenuItemConstructorOptions, OpenDialogOptions } from 'electron';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { AppCommand, KizuHandlers, ProjectInfo } from '../../../electron/api.ts';
import { rendererResponse } from '../../../electron/shell/app-protocol.ts';
import { findElectronBinary } from '../../../electron/shell/electron-binary.ts';
import { menuTemplate, type MenuActions } from '../../../electron/shell/menu.ts';
import { menuStrings } from '../../../electron/shell/menu-strings.ts';
import { createShellActions } from '../../../electron/shell/shell-actions.ts';
import { APP_URL, denyPermissions, guardWebContents, mainWindowOptions } from '../../../electron/shell/window.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kizu-shell-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('main window', () => {
  it('is sandboxed and isolated, without Node, with web security, no webviews, no navigation on drop', () => {
    const prefs = mainWindowOptions('/app/dist/electron/preload.cjs').webPreferences!;
    expect(prefs).toMatchObject({
      preload: '/app/dist/electron/preload.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false,
      nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false, webSecurity: true, allowRunningInsecureContent: false,
      webviewTag: false, navigateOnDragDrop: false, experimentalFeatures: false,
    });
    expect(APP_URL).toBe('app://kizu/index.html');
  });

  it('blocks every navigation, redirect, webview and new window', () => {
    const listeners = new Map<string, (e: { preventDefault(): void }) => void>();
    let openHandler: ((d: { url: string }) => { action: string }) | undefined;
    const contents = {
      on: (name: string, l: (e: { preventDefault(): void }) => void) => listeners.set(name, l),
      setWindowOpenHandler: (h: typeof openHandler) => (openHandler = h),
    };
    guardWebContents(contents as unknown as Parameters<typeof guardWebContents>[0]);
    for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const preventDefault = vi.fn();
      listeners.get(name)!({ preventDefault });
      expect(preventDefault, name).toHaveBeenCalled();
    }
    expect(openHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
  });

  it('denies every permission request and check', () => {
    let request: ((wc: unknown, p: string, cb: (ok: boolean) => void) => void) | undefined;
    let check: (() => boolean) | undefined;
    denyPermissions({ setPermissionRequestHandler: (h: typeof request) => (request = h), setPermissionCheckHandler: (h: typeof check) => (check = h) } as unknown as Parameters<typeof denyPermissions>[0]);
    const callback = vi.fn();
    request!(null, 'media', callback);
    expect(callback).toHaveBeenCalledWith(false);
    expect(check!()).toBe(false);
  });
});

describe('app:// protocol', () => {
  const dir = join(tmp, 'renderer');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html>');
  writeFileSync(join(dir, 'assets', 'a.css'), 'body{}');
  writeFileSync(join(tmp, 'outside.txt'), 'secret');

  it('serves the renderer with the CSP and the right content type', async () => {
    const index = await rendererResponse(dir, 'app://kizu/index.html');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toMatch(/^default-src 'self'; script-src 'self'/);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await (await rendererResponse(dir, 'app://kizu/assets/a.css')).text()).toBe('body{}');
  });

  it('refuses other hosts and anything outside the folder', async () => {
    expect((await rendererResponse(dir, 'app://evil/index.html')).status).toBe(404);
    expect((await rendererResponse(dir, 'app://kizu/%2e%2e/outside.txt')).status).toBe(404);
    expect((await rendererResponse(dir, 'app://kizu/assets/..%2f..%2foutside.txt')).status).toBe(404);
  });
});

describe('menus', () => {
  const actions = () => ({
    openFolder: vi.fn(), openImages: vi.fn(), exportAnnotations: vi.fn(), showLayer: vi.fn(), zoom: vi.fn(), showShortcuts: vi.fn(), showAbout: vi.fn(),
  }) satisfies MenuActions;
  const find = (items: MenuItemConstructorOptions[], label: string): MenuItemConstructorOptions => {
    for (const item of items) {
      if (item.label?.replace(/&/g, '') === label) return item;
      if (Array.isArray(item.submenu)) {
        const hit = (() => { try { return find(item.submenu, label); } catch { return undefined; } })();
        if (hit) return hit;
      }
    }
    throw new Error(`no menu item "${label}"`);
  };
  const click = (item: MenuItemConstructorOptions) => (item.click as unknown as () => void)();

  it('has File, Edit, View and Help with the shortcuts of UX.md, and the right actions', () => {
    const a = actions();
    const template = menuTemplate(a, false);
    expect(template.map((m) => m.label?.replace(/&/g, ''))).toEqual(['File', 'Edit', 'View', 'Help']);
    expect(find(template, 'Open Folder…').accelerator).toBe('CmdOrCtrl+O');
    click(find(template, 'Open Folder…'));
    click(find(template, 'Open Images…'));
    click(find(template, 'Export Annotations…'));
    click(find(template, 'Layer 3'));
    click(find(template, 'Fused'));
    click(find(template, 'Zoom to Fit'));
    click(find(template, 'Keyboard Shortcuts'));
    click(find(template, 'About Kizu'));
    expect(a.openFolder).toHaveBeenCalledTimes(1);
    expect(a.openImages).toHaveBeenCalledTimes(1);
    expect(a.exportAnnotations).toHaveBeenCalledTimes(1);
    expect(a.showLayer.mock.calls).toEqual([['layer3'], ['fused']]);
    expect(a.zoom).toHaveBeenCalledWith('fit');
    expect(a.showShortcuts).toHaveBeenCalled();
    expect(a.showAbout).toHaveBeenCalled();
    expect(find(template, 'Quit').role).toBe('quit');
  });

  it('shows single-key shortcuts without registering them, so text fields keep their keys', () => {
    const template = menuTemplate(actions(), false);
    for (const [label, key] of [['Layer 2', '2'], ['Layer 3', '3'], ['Layer 4', '4'], ['Fused', 'F'], ['Keyboard Shortcuts', '?']]) {
      expect(find(template, label)).toMatchObject({ accelerator: key, registerAccelerator: false });
    }
    const edit = template[1].submenu as MenuItemConstructorOptions[];
    expect(edit.map((i) => i.role)).not.toContain('undo');
  });

  it('speaks Japanese when the system does, with the same shortcuts and actions', () => {
    const a = actions();
    const ja = menuTemplate(a, false, menuStrings('ja-JP'));
    expect(ja.map((m) => m.label)).toEqual(['ファイル(&F)', '編集(&E)', '表示(&V)', 'ヘルプ(&H)']);
    expect(find(ja, 'フォルダーを開く(F)…').accelerator).toBe('CmdOrCtrl+O');
    click(find(ja, 'レイヤー 3(3)'));
    expect(a.showLayer).toHaveBeenCalledWith('layer3');
    expect(find(ja, '統合(F)')).toMatchObject({ accelerator: 'F', registerAccelerator: false });
    expect(menuTemplate(a, false, menuStrings('en-US')).map((m) => m.label)).toEqual(['&File', '&Edit', '&View', '&Help']);
  });

  it('adds the application menu on macOS', () => {
    expect(menuTemplate(actions(), true)[0].role).toBe('appMenu');
  });
});

describe('shell actions', () => {
  const project: ProjectInfo = { root: '/data/parts', imageCount: 3, reviewedCount: 0, labels: { ok: 0, defect: 0 }, model: null, previousModels: [], quality: null };
  function setup(picked: string[] | null) {
    const sent: AppCommand[] = [];
    const dialogs: OpenDialogOptions[] = [];
    const errors: [string, string][] = [];
    const openFolder = vi.fn(async () => project);
    const openImages = vi.fn(async () => project);
    const actions = createShellActions({
      dialog: {
        showOpenDialog: async (o) => (dialogs.push(o), { canceled: picked === null, filePaths: picked ?? [] }),
        showErrorBox: (t, c) => errors.push([t, c]),
      },
      handlers: { openFolder, openImages } as unknown as KizuHandlers,
      send: (c) => sent.push(c),
      showAbout: vi.fn(),
    });
    return { actions, sent, dialogs, errors, openFolder, openImages };
  }

  it('opens a folder picked in the dialog and tells the renderer', async () => {
    const s = setup(['/data/parts']);
    await s.actions.openFolder();
    expect(s.dialogs[0].properties).toEqual(['openDirectory']);
    expect(s.openFolder).toHaveBeenCalledWith({ path: '/data/parts' });
    expect(s.sent).toEqual([{ kind: 'project-opened', project }]);
  });

  it('does nothing when the dialog is cancelled, and shows an error box when opening fails', async () => {
    const cancelled = setup(null);
    await cancelled.actions.openImages();
    expect([cancelled.openImages.mock.calls.length, cancelled.sent.length, cancelled.errors.length]).toEqual([0, 0, 0]);

    const failing = setup(['/nowhere']);
    failing.openFolder.mockRejectedValueOnce(new Error('openFolder: folder "/nowhere" does not exist'));
    await failing.actions.openFolder();
    expect(failing.errors).toEqual([['Cannot open the folder', 'openFolder: folder "/nowhere" does not exist']]);
  });

  it('picks an export folder and hands it to the renderer\'s export dialog', async () => {
    const s = setup(['/exports/run1']);
    await s.actions.exportAnnotations();
    expect(s.dialogs[0].properties).toContain('createDirectory');
    expect(s.sent).toEqual([{ kind: 'export', outDir: '/exports/run1' }]);
  });

  it('opens a dropped folder as a folder, dropped files as images, and refuses a mix', async () => {
    const folder = join(tmp, 'dropped');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'a.png'), '');
    writeFileSync(join(folder, 'b.png'), '');
    const s = setup(null);
    await s.actions.openDropped([folder]);
    await s.actions.openDropped([join(folder, 'a.png'), join(folder, 'b.png')]);
    await s.actions.openDropped([folder, join(folder, 'a.png')]);
    expect(s.openFolder).toHaveBeenCalledWith({ path: folder });
    expect(s.openImages).toHaveBeenCalledWith({ paths: [join(folder, 'a.png'), join(folder, 'b.png')] });
    expect(s.sent).toHaveLength(2);
    expect(s.errors).toEqual([['Cannot open what was dropped', 'drop one folder, or any number of image files']]);
  });

  it('sends view commands to the renderer', () => {
    const s = setup(null);
    s.actions.showLayer('layer4');
    s.actions.zoom('in');
    s.actions.showShortcuts();
    expect(s.sent).toEqual([{ kind: 'show-layer', layer: 'layer4' }, { kind: 'zoom', action: 'in' }, { kind: 'show-shortcuts' }]);
  });
});

describe('finding the Electron binary', () => {
  it('says plainly when it was never downloaded, is missing, or is there', () => {
    const pkg = join(tmp, 'electron');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    expect(findElectronBinary(pkg, {})).toEqual({ found: false, reason: expect.stringMatching(/never downloaded/) });
    writeFileSync(join(pkg, 'path.txt'), 'electron');
    expect(findElectronBinary(pkg, {})).toEqual({ found: false, reason: expect.stringMatching(/binary is missing/) });
    writeFileSync(join(pkg, 'dist', 'electron'), '');
    expect(findElectronBinary(pkg, {})).toEqual({ found: true, path: join(pkg, 'dist', 'electron') });
    expect(findElectronBinary(null, {})).toEqual({ found: false, reason: expect.stringMatching(/not installed/) });
  });

  it('follows ELECTRON_OVERRIDE_DIST_PATH as the electron package does', () => {
    const dist = join(tmp, 'override');
    mkdirSync(dist, { recursive: true });
    expect(findElectronBinary(join(tmp, 'electron'), { ELECTRON_OVERRIDE_DIST_PATH: dist })).toEqual({ found: false, reason: expect.stringMatching(/does not exist/) });
    writeFileSync(join(dist, 'electron'), '');
    expect(findElectronBinary(join(tmp, 'electron'), { ELECTRON_OVERRIDE_DIST_PATH: dist })).toEqual({ found: true, path: join(dist, 'electron') });
  });
});
