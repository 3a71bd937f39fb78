import type { DatasetSplitRecord } from './split-record.ts';

/**
 * The types every dataset reader shares. They live apart from datasets.ts, which dispatches to
 * the readers, so that no reader imports the module that imports it.
 */
export interface DatasetItem {
  path: string;
  /** The label as the dataset names it (a folder name, a CSV cell), or ok/defect where it has none. */
  label: string;
  isDefect: boolean;
  /** Ground-truth mask; for DAGM, the weak label (filled ellipse). */
  maskPath?: string;
  /** Exact pixel mask, when the dataset has one beside the weak label (Kizu's generator writes it). */
  exactMaskPath?: string;
  /** From the layout, or from the seeded split when the layout has none. */
  split?: 'train' | 'test';
  /** e.g. DAGM ClassN, an MVTec category, a part folder. */
  group?: string;
  /**
   * The physical view this photograph shows (a CSV's view column): a line that photographs the
   * same part position again and again makes near-duplicates, and every split Kizu makes keeps a
   * view's images on one side, so no test or validation image shows a surface trained on.
   */
  view?: string;
  /** Defect kind: an MVTec defect folder, a folder per kind, a CSV kind column, the generator's kind. */
  defectKind?: string;
}

export interface DatasetProblem {
  /** file or file:line */
  where: string;
  message: string;
}

export type DatasetFormat = 'dagm' | 'mvtec' | 'labelme' | 'parts' | 'folders' | 'csv';

export interface Dataset {
  root: string;
  items: DatasetItem[];
  problems: DatasetProblem[];
  /** Set by openDataset: which reader read it. */
  format?: DatasetFormat;
  /** Set by openDataset: where the train/test split came from. */
  split?: DatasetSplitRecord;
}

export interface OpenOptions {
  /** Which label means "defect" (folders and CSV); other labels then mean OK. */
  defectLabel?: string;
  /** Which folder holds the OK images (folders); every other folder is then a defect kind. */
  okLabel?: string;
  /** Throw a DatasetError on the first bad entry instead of reporting and skipping it. */
  strict?: boolean;
  /** Open every image's header to check it is readable (default true). */
  checkImages?: boolean;
  /** The seeded split for layouts without one (defaults: seed 0, a fifth for test). */
  split?: { seed?: number; testFraction?: number };
  /**
   * A regular expression over each image's path relative to the root that names the view it
   * shows (see views.ts assignViews): every split then keeps each view whole.
   */
  viewPattern?: string;
}
