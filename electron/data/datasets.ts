import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readCsvDataset } from './csv-dataset.ts';
import { dagmSplitDirs, readDagm } from './dagm.ts';
import { ProblemLog } from './dataset-problems.ts';
import type { Dataset, DatasetFormat, OpenOptions } from './dataset-types.ts';
import { readLabelFolders } from './label-folders.ts';
import { isLabelmeFolders, readLabelmeFolders } from './labelme-folders.ts';
import { checkMaskSizes } from './mask-sizes.ts';
import { mvtecCategories, readMvtec } from './mvtec.ts';
import { isPartFolders, readPartFolders } from './part-folders.ts';
import { applySeededSplit, borrowTestDefects, relativeKey } from './seeded-split.ts';
import { assignViews } from './views.ts';

export type { Dataset, DatasetFormat, DatasetItem, DatasetProblem, OpenOptions } from './dataset-types.ts';
export { DatasetError } from './dataset-problems.ts';

/**
 * Which reader a path needs: a file is a CSV; a folder is DAGM or MVTec AD if it has that layout,
 * LabelMe annotations if it holds LabelMe JSON files, part folders if every image has a `_label`
 * mask beside it, else one folder per label.
 */
export async function detectDatasetFormat(path: string, opts: OpenOptions = {}): Promise<DatasetFormat> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new Error(`${path}: not found`);
  }
  if (s.isFile()) return 'csv';
  if ((await dagmSplitDirs(path)).length > 0) return 'dagm';
  if ((await mvtecCategories(path)).length > 0) return 'mvtec';
  if (await isLabelmeFolders(path)) return 'labelme';
  return (await isPartFolders(path, opts)) ? 'parts' : 'folders';
}

const READERS: Record<DatasetFormat, (path: string, opts: OpenOptions) => Promise<Dataset>> = {
  csv: readCsvDataset, dagm: readDagm, mvtec: readMvtec, labelme: readLabelmeFolders, parts: readPartFolders, folders: readLabelFolders,
};

/**
 * Opens any layout detectDatasetFormat knows, checks its masks' sizes, and gives it a split: the
 * layout's own (with half its test defects moved to training where its training split has
 * none), or else a seeded one stratified by kind, the same in `kizu train` and `kizu evaluate`
 * for the same seed. A view pattern names views first, so that every split keeps them whole.
 */
export async function openDataset(pathOrCsv: string, opts: OpenOptions = {}): Promise<Dataset> {
  const path = resolve(pathOrCsv);
  const format = await detectDatasetFormat(path, opts);
  const dataset = await READERS[format](path, opts);
  if (dataset.items.length === 0) {
    const first = dataset.problems[0];
    throw new Error(`${path}: no usable images${first ? ` (first problem: ${first.where}: ${first.message})` : ''}`);
  }
  const log = new ProblemLog(opts.strict ?? false);
  await checkMaskSizes(dataset.items, log);
  dataset.problems.push(...log.problems);
  dataset.format = format;
  if (opts.viewPattern !== undefined) assignViews(dataset.items, (i) => relativeKey(dataset.root, i.path), opts.viewPattern);
  const split = dataset.items.some((i) => i.split !== undefined)
    ? borrowTestDefects(dataset.root, dataset.items, { seed: opts.split?.seed })
    : applySeededSplit(dataset.root, dataset.items, opts.split);
  dataset.split = opts.viewPattern !== undefined ? { ...split, viewPattern: opts.viewPattern } : split;
  return dataset;
}
