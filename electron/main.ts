import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { forwardJobEvents, registerIpcHandlers, sendAppCommand, APP_SCHEME } from './ipc.ts';
import { createKizuService } from './service/kizu-service.ts';
import { demoDirIn, pickModelPath } from './service/startup.ts';
import { rendererResponse } from './shell/app-protocol.ts';
import { menuTemplate } from './shell/menu.ts';
import { menuStrings } from './shell/menu-strings.ts';
import { modelsDir } from './shell/resources.ts';
import { createShellActions } from './shell/shell-actions.ts';
import { APP_URL, denyPermissions, guardWebContents, mainWindowOptions } from './shell/window.ts';
import { EngineClient } from './worker/engine-client.ts';

/*
 * The desktop shell: app lifecycle, the window, menus, dialogs. Everything it decides lives in
 * tested modules (shell/, ipc.ts, service/); this file only wires them to Electron. It runs
 * bundled (dist/electron/main.js, with preload.cjs and engine-worker.js beside it).
 */

const here = dirname(fileURLToPath(import.meta.url));
const workerUrl = new URL('./engine-worker.js', import.meta.url);
const { values: args } = parseArgs({ args: process.argv.slice(app.isPackaged ? 1 : 2), options: { model: { type: 'string' } }, strict: false });

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
app.enableSandbox();
app.on('web-contents-created', (_event, contents) => guardWebContents(contents));

async function start(): Promise<void> {
  denyPermissions(session.defaultSession);
  const rendererDir = join(app.getAppPath(), 'dist', 'renderer');
  protocol.handle(APP_SCHEME, (request) => rendererResponse(rendererDir, request.url));

  const models = modelsDir({ isPackaged: app.isPackaged, appPath: app.getAppPath(), resourcesPath: process.resourcesPath }, process.env);
  const modelPath = pickModelPath(typeof args.model === 'string' ? args.model : undefined, process.env, join(models, 'default'));
  const engine = new EngineClient(workerUrl, { modelPath });
  const service = createKizuService({
    engine,
    runIsolated: (op, request, options) => EngineClient.once(workerUrl, op, request, options),
    demoDir: demoDirIn(app.getPath('userData')),
    appVersion: app.getVersion(),
  });
  void engine.start().catch((err: unknown) => dialog.showErrorBox('The engine did not start', String(err)));

  const window = new BrowserWindow(mainWindowOptions(join(here, 'preload.cjs')));
  const actions = createShellActions({
    dialog: { showOpenDialog: (options) => dialog.showOpenDialog(window, options), showErrorBox: (t, c) => dialog.showErrorBox(t, c) },
    handlers: service.handlers,
    send: (command) => sendAppCommand(window.webContents, command),
    showAbout: () => app.showAboutPanel(),
  });
  const unregister = registerIpcHandlers(ipcMain, service.handlers, { onDrop: (paths) => actions.openDropped(paths), log: (line) => console.error(line) });
  const unforward = forwardJobEvents(service.jobs, window.webContents);
  // The system language, which the renderer also starts in; its in-app switch does not reach the native menus.
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(actions, process.platform === 'darwin', menuStrings(app.getLocale()))));
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    unforward();
    unregister();
    engineClosing = engine.close();
  });
  await window.loadURL(APP_URL);
}

app.setAboutPanelOptions({ applicationName: 'Kizu', applicationVersion: app.getVersion(), copyright: 'MIT licence' });
/** Set when the window closes; quitting waits for it, since ending the engine thread mid-call would abort the process. */
let engineClosing: Promise<void> | undefined;
app.on('window-all-closed', () => app.quit());
app.on('will-quit', (event) => {
  const closing = engineClosing;
  if (!closing) return;
  engineClosing = undefined;
  event.preventDefault();
  void closing.finally(() => app.quit());
});
app.whenReady().then(start).catch((err: unknown) => {
  dialog.showErrorBox('Kizu could not start', err instanceof Error ? err.stack ?? err.message : String(err));
  app.exit(1);
});
