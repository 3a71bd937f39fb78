import type { MenuItemConstructorOptions } from 'electron';
import type { MapLayer } from '../api.ts';

/** What the menu items do; the ones that open dialogs return their promise (the menu ignores it). */
export interface MenuActions {
  openFolder(): unknown;
  openImages(): unknown;
  exportAnnotations(): unknown;
  showLayer(layer: MapLayer): void;
  zoom(action: 'in' | 'out' | 'fit'): void;
  showShortcuts(): void;
  showAbout(): void;
}

/**
 * The native menus. Single-key shortcuts (2/3/4/F, ?) are shown but not registered
 * (`registerAccelerator: false`): the renderer owns them, and a registered "2" would be
 * taken from every text field.
 */
export function menuTemplate(actions: MenuActions, isMac: boolean): MenuItemConstructorOptions[] {
  const shownOnly = (accelerator: string) => ({ accelerator, registerAccelerator: false });
  const layer = (label: string, value: MapLayer, key: string): MenuItemConstructorOptions => ({ label, ...shownOnly(key), click: () => actions.showLayer(value) });
  const template: MenuItemConstructorOptions[] = [
    {
      label: '&File',
      submenu: [
        { label: 'Open &Folder…', accelerator: 'CmdOrCtrl+O', click: () => actions.openFolder() },
        { label: 'Open &Images…', accelerator: 'CmdOrCtrl+Shift+O', click: () => actions.openImages() },
        { type: 'separator' },
        { label: '&Export Annotations…', accelerator: 'CmdOrCtrl+E', click: () => actions.exportAnnotations() },
        { type: 'separator' },
        { label: '&Quit', role: 'quit' },
      ],
    },
    {
      label: '&Edit',
      // Text editing only: Ctrl+Z in the viewer is the mask's undo, which the renderer handles.
      submenu: [{ role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
    },
    {
      label: '&View',
      submenu: [
        layer('Layer &2', 'layer2', '2'),
        layer('Layer &3', 'layer3', '3'),
        layer('Layer &4', 'layer4', '4'),
        layer('&Fused', 'fused', 'F'),
        { type: 'separator' },
        { label: 'Zoom &In', accelerator: 'CmdOrCtrl+=', click: () => actions.zoom('in') },
        { label: 'Zoom &Out', accelerator: 'CmdOrCtrl+-', click: () => actions.zoom('out') },
        { label: 'Zoom to &Fit', accelerator: 'CmdOrCtrl+0', click: () => actions.zoom('fit') },
      ],
    },
    {
      label: '&Help',
      submenu: [
        { label: '&Keyboard Shortcuts', ...shownOnly('?'), click: () => actions.showShortcuts() },
        { type: 'separator' },
        { label: '&About Kizu', click: () => actions.showAbout() },
      ],
    },
  ];
  return isMac ? [{ role: 'appMenu' }, ...template] : template;
}
