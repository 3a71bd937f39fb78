import type { OpenDialogOptions, OpenDialogReturnValue } from 'electron';
import { stat } from 'node:fs/promises';
import type { AppCommand, KizuHandlers, ProjectInfo } from '../api.ts';
import { messageOf } from '../service/error-status.ts';
import { IMAGE_EXTENSIONS } from '../data/dataset-images.ts';
import { checkRequest } from '../service/request-check.ts';
import type { MenuActions } from './menu.ts';

/** The dialogs the shell uses (Electron's dialog module; tests pass a fake). */
export interface DialogPort {
  showOpenDialog(options: OpenDialogOptions): Promise<OpenDialogReturnValue>;
  showErrorBox(title: string, content: string): void;
}

export interface ShellDeps {
  dialog: DialogPort;
  handlers: KizuHandlers;
  send(command: AppCommand): void;
  showAbout(): void;
}

export interface ShellActions extends MenuActions {
  openFolder(): Promise<void>;
  openImages(): Promise<void>;
  exportAnnotations(): Promise<void>;
  /** Files and folders dropped on the window: one folder, or image files. */
  openDropped(paths: string[]): Promise<void>;
}

/** What the menus, dialogs and drag-and-drop do: open through the API, then tell the renderer. */
export function createShellActions(deps: ShellDeps): ShellActions {
  const { dialog, handlers, send } = deps;
  const opened = (project: ProjectInfo) => send({ kind: 'project-opened', project });
  const attempt = async (title: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (err) {
      dialog.showErrorBox(title, messageOf(err));
    }
  };
  const openFolder = (path: string) => handlers.openFolder(checkRequest('openFolder', { path })).then(opened);
  const openImages = (paths: string[]) => handlers.openImages(checkRequest('openImages', { paths })).then(opened);

  return {
    openFolder: () => attempt('Cannot open the folder', async () => {
      const picked = await dialog.showOpenDialog({ title: 'Open a folder of images', properties: ['openDirectory'] });
      if (!picked.canceled && picked.filePaths.length > 0) await openFolder(picked.filePaths[0]);
    }),
    openImages: () => attempt('Cannot open the images', async () => {
      const picked = await dialog.showOpenDialog({
        title: 'Open images',
        properties: ['openFile', 'multiSelections'],
        filters: [{ name: 'Images', extensions: IMAGE_EXTENSIONS.map((e) => e.slice(1)) }],
      });
      if (!picked.canceled && picked.filePaths.length > 0) await openImages(picked.filePaths);
    }),
    exportAnnotations: () => attempt('Cannot export', async () => {
      const picked = await dialog.showOpenDialog({
        title: 'Export annotations into a folder', buttonLabel: 'Export Here', properties: ['openDirectory', 'createDirectory', 'promptToCreate'],
      });
      if (!picked.canceled && picked.filePaths.length > 0) send({ kind: 'export', outDir: picked.filePaths[0] });
    }),
    showLayer: (layer) => send({ kind: 'show-layer', layer }),
    zoom: (action) => send({ kind: 'zoom', action }),
    showShortcuts: () => send({ kind: 'show-shortcuts' }),
    showAbout: () => deps.showAbout(),
    openDropped: (paths) => attempt('Cannot open what was dropped', async () => {
      const kinds = await Promise.all(paths.map(async (p) => ((await stat(p)).isDirectory() ? 'folder' : 'file')));
      if (kinds.every((k) => k === 'file')) return openImages(paths);
      if (paths.length === 1) return openFolder(paths[0]);
      throw new Error('drop one folder, or any number of image files');
    }),
  };
}
