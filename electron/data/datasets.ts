import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readCsvDataset } from './csv-dataset.ts';
import { dagmSplitDirs, readDagm } from './dagm.ts';
import { readLabelFolders } from './label-folders.ts';

export interface DatasetItem {
  path: string;
  label: string;
  isDefect: boolean;
  /** Ground-truth mask; for DAGM, the weak label (filled ellipse). */
  maskPath?: string;
  /** Exact pixel mask, when the dataset has one beside the weak label (Kizu's generator writes it). */
  exactMaskPath?: string;
  split?: 'train' | 'test';
  /** e.g. DAGM ClassN. */
  group?: string;
  /** Defect kind of a generated image (scratch, crack, spot, stain, disturbance). */
  defectKind?: string;
}

export interface DatasetProblem {
  /** file or file:line */
  where: string;
  message: string;
}

export interface Dataset {
  root: string;
  items: DatasetItem[];
  problems: DatasetProblem[];
}

export interface OpenOptions {
  /** Which label means "defect" (folders and CSV); other labels then mean OK. */
  defectLabel?: string;
  /** Throw a DatasetError on the first bad entry instead of reporting and skipping it. */
  strict?: boolean;
  /** Open every image's header to check it is readable (default true). */
  checkImages?: boolean;
}

export type DatasetFormat = 'dagm' | 'folders' | 'csv';

/** Which reader a path needs: a file is a CSV; a folder is DAGM if it has the layout, else one folder per label. */
export async function detectDatasetFormat(path: string): Promise<DatasetFormat> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new Error(`${path}: not found`);
  }
  if (s.isFile()) return 'csv';
  return (await dagmSplitDirs(path)).length > 0 ? 'dagm' : 'folders';
}

/** Opens a DAGM 2007 folder, a folder per label, or a CSV of path,label[,mask]. */
export async function openDataset(pathOrCsv: string, opts: OpenOptions = {}): Promise<Dataset> {
  const path = resolve(pathOrCsv);
  const format = await detectDatasetFormat(path);
  const dataset = format === 'csv' ? await readCsvDataset(path, opts)
    : format === 'dagm' ? await readDagm(path, opts)
      : await readLabelFolders(path, opts);
  if (dataset.items.length === 0) {
    const first = dataset.problems[0];
    throw new Error(`${path}: no usable images${first ? ` (first problem: ${first.where}: ${first.message})` : ''}`);
  }
  return dataset;
}

export { DatasetError } from './dataset-problems.ts';
