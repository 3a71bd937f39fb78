import type { MenuItemConstructorOptions } from 'electron';
import type { MapLayer } from '../api.ts';
import { menuStrings, type MenuStrings } from './menu-strings.ts';

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
export function menuTemplate(actions: MenuActions, isMac: boolean, s: MenuStrings = menuStrings('en')): MenuItemConstructorOptions[] {
  const shownOnly = (accelerator: string) => ({ accelerator, registerAccelerator: false });
  const layer = (label: string, value: MapLayer, key: string): MenuItemConstructorOptions => ({ label, ...shownOnly(key), click: () => actions.showLayer(value) });
  const template: MenuItemConstructorOptions[] = [
    {
      label: s.file,
      submenu: [
        { label: s.openFolder, accelerator: 'CmdOrCtrl+O', click: () => actions.openFolder() },
        { label: s.openImages, accelerator: 'CmdOrCtrl+Shift+O', click: () => actions.openImages() },
        { type: 'separator' },
        { label: s.exportAnnotations, accelerator: 'CmdOrCtrl+E', click: () => actions.exportAnnotations() },
        { type: 'separator' },
        { label: s.quit, role: 'quit' },
      ],
    },
    {
      label: s.edit,
      // Text editing only: Ctrl+Z in the viewer is the mask's undo, which the renderer handles.
      submenu: [{ role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
    },
    {
      label: s.view,
      submenu: [
        layer(s.layer(2), 'layer2', '2'),
        layer(s.layer(3), 'layer3', '3'),
        layer(s.layer(4), 'layer4', '4'),
        layer(s.fused, 'fused', 'F'),
        { type: 'separator' },
        { label: s.zoomIn, accelerator: 'CmdOrCtrl+=', click: () => actions.zoom('in') },
        { label: s.zoomOut, accelerator: 'CmdOrCtrl+-', click: () => actions.zoom('out') },
        { label: s.zoomFit, accelerator: 'CmdOrCtrl+0', click: () => actions.zoom('fit') },
      ],
    },
    {
      label: s.help,
      submenu: [
        { label: s.shortcuts, ...shownOnly('?'), click: () => actions.showShortcuts() },
        { type: 'separator' },
        { label: s.about, click: () => actions.showAbout() },
      ],
    },
  ];
  return isMac ? [{ role: 'appMenu' }, ...template] : template;
}
