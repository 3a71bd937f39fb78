import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';
import { APP_HOST, APP_SCHEME } from '../ipc.ts';

/** Where the window loads the renderer from: dist/renderer, served by main.ts's app:// handler. */
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/**
 * The main window: the renderer is sandboxed and isolated from the preload, has no Node,
 * keeps web security, and cannot open webviews or navigate by dropping a file on it.
 */
export function mainWindowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    title: 'Kizu',
    show: false,
    backgroundColor: '#1f2124',
    webPreferences: {
      preload,
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
      safeDialogs: true,
      spellcheck: false,
      // A middle click must not open links in a new window (the open handler refuses them too).
      disableBlinkFeatures: 'Auxclick',
    },
  };
}

/**
 * Every web contents stays on the app: navigation, redirects, new windows and webviews are
 * refused (links the app shows are plain text, never followed).
 */
export function guardWebContents(contents: Pick<WebContents, 'on' | 'setWindowOpenHandler'>): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** No camera, microphone, notifications, geolocation...: the app asks for none. */
export function denyPermissions(session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
