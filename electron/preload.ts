import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { createIpcClient } from './ipc-client.ts';
import { DROP_CHANNEL } from './ipc-channels.ts';

/**
 * The sandboxed preload: exposes KizuApi as window.kizu and nothing else (no ipcRenderer, no
 * Node). It also turns files dropped on the window into paths, which only a preload can do
 * (webUtils), and hands them to the main process to open; the page never sees them.
 */

contextBridge.exposeInMainWorld(
  'kizu',
  createIpcClient({
    invoke: (channel, request) => ipcRenderer.invoke(channel, request),
    on: (channel, listener) => {
      const wrapped = (_event: unknown, payload: unknown) => listener(payload);
      ipcRenderer.on(channel, wrapped);
      return () => {
        ipcRenderer.removeListener(channel, wrapped);
      };
    },
  }),
);

// The preload has no DOM typings (tsconfig is Node's): the little it touches, typed here.
interface DropEvent {
  preventDefault(): void;
  dataTransfer: { files: ArrayLike<File> } | null;
}
const page = globalThis as unknown as { addEventListener(type: 'dragover' | 'drop', listener: (event: DropEvent) => void): void };

page.addEventListener('dragover', (event) => event.preventDefault());
page.addEventListener('drop', (event) => {
  event.preventDefault();
  const paths = Array.from(event.dataTransfer?.files ?? []).map((file) => webUtils.getPathForFile(file)).filter((p) => p !== '');
  if (paths.length > 0) void ipcRenderer.invoke(DROP_CHANNEL, paths);
});
