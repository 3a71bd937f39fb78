/**
 * The native menus' labels. The main process has no access to the renderer's i18n (it is
 * bundled for the page), so the shell keeps its own few strings; `&` marks the access key
 * on Windows and Linux. Roles (cut, copy, paste...) are labelled by Electron itself.
 */
export interface MenuStrings {
  file: string;
  openFolder: string;
  openImages: string;
  exportAnnotations: string;
  quit: string;
  edit: string;
  view: string;
  layer: (n: 2 | 3 | 4) => string;
  fused: string;
  zoomIn: string;
  zoomOut: string;
  zoomFit: string;
  help: string;
  shortcuts: string;
  about: string;
}

const EN: MenuStrings = {
  file: '&File', openFolder: 'Open &Folder…', openImages: 'Open &Images…', exportAnnotations: '&Export Annotations…', quit: '&Quit',
  edit: '&Edit', view: '&View', layer: (n) => `Layer &${n}`, fused: '&Fused',
  zoomIn: 'Zoom &In', zoomOut: 'Zoom &Out', zoomFit: 'Zoom to &Fit',
  help: '&Help', shortcuts: '&Keyboard Shortcuts', about: '&About Kizu',
};

// Japanese menus put the access key in parentheses after the label, as Windows' own do.
const JA: MenuStrings = {
  file: 'ファイル(&F)', openFolder: 'フォルダーを開く(&F)…', openImages: '画像を開く(&I)…', exportAnnotations: 'アノテーションをエクスポート(&E)…', quit: '終了(&Q)',
  edit: '編集(&E)', view: '表示(&V)', layer: (n) => `レイヤー ${n}(&${n})`, fused: '統合(&F)',
  zoomIn: '拡大(&I)', zoomOut: '縮小(&O)', zoomFit: '全体表示(&F)',
  help: 'ヘルプ(&H)', shortcuts: 'キーボード ショートカット(&K)', about: 'Kizu について(&A)',
};

/** The strings for a BCP 47 tag such as app.getLocale() gives ("ja", "ja-JP", "en-US"). */
export function menuStrings(locale: string): MenuStrings {
  return locale.toLowerCase().startsWith('ja') ? JA : EN;
}
