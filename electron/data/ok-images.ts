import { resolve } from 'node:path';
import { listImages } from './dataset-images.ts';
import { openDataset, type Dataset, type OpenOptions } from './datasets.ts';

/**
 * The OK images of a folder, for the pretext that needs no label: a dataset in any layout
 * gives its OK training images (its test split kept out, so a later `kizu evaluate` on it
 * scores images the pretext never saw); a folder of images with no layout is all OK images.
 */
export async function openOkImages(path: string, opts: OpenOptions = {}): Promise<Dataset> {
  let dataset: Dataset;
  try {
    dataset = await openDataset(path, opts);
  } catch (err) {
    const root = resolve(path);
    const images = await listImages(root).catch(() => [] as string[]);
    if (images.length === 0) throw err;
    return { root, items: images.map((p) => ({ path: p, label: 'ok', isDefect: false })), problems: [] };
  }
  const items = dataset.items.filter((i) => !i.isDefect);
  if (items.length === 0) throw new Error(`${resolve(path)}: no OK images to pretrain on (every image is labelled defect)`);
  return { ...dataset, items };
}
