import { relative, sep } from 'node:path';
import type { ImageLabel } from '../api.ts';
import { openDataset } from '../data/datasets.ts';
import { labelMeaning } from '../data/labels.ts';
import type { ImageSet } from '../data/image-folder.ts';

/**
 * The labels a folder's own layout gives its images (ok/ and defect/ folders, DAGM's
 * Labels.txt, MVTec's good/ and defect folders), by image id: what the gallery shows before
 * the operator labels anything. A folder with no layout Kizu knows gives none; that is not an
 * error, most folders of images are just images. Beside an ok/ folder, the dataset reader
 * takes any other folder for a defect kind; here only folders named as a label (defect, NG,
 * good...) label their images, so an "unsorted" folder stays for the operator to label.
 */
export async function folderLabels(set: ImageSet): Promise<Map<string, ImageLabel>> {
  const labels = new Map<string, ImageLabel>();
  let dataset;
  try {
    dataset = await openDataset(set.root, { checkImages: false });
  } catch {
    return labels;
  }
  const named = labelMeaning([]);
  const ids = new Set(set.images.map((i) => i.id));
  for (const item of dataset.items) {
    if (dataset.format === 'folders' && named(item.label) === undefined) continue;
    const id = relative(set.root, item.path).split(sep).join('/');
    if (ids.has(id)) labels.set(id, item.isDefect ? 'defect' : 'ok');
  }
  return labels;
}
