import { basename, join } from 'node:path';
import { isImageFile, unreadableImages } from './dataset-images.ts';
import type { Dataset, DatasetItem, OpenOptions } from './dataset-types.ts';
import { ProblemLog } from './dataset-problems.ts';
import { dirNames, fileNames, stemOf } from './fs-names.ts';
import { isLabelName } from './labels.ts';
import { isMaskDirName, listImagesWithoutMasks, MaskFinder } from './mask-finder.ts';
import { maskIsEmpty } from './mask-pixels.ts';

/**
 * Part folders with labelled masks, as several public surface-defect sets ship them (KolektorSDD:
 * `kos01/Part0.jpg` with `kos01/Part0_label.bmp`; KolektorSDD2: `train/10000.png` with
 * `10000_GT.png`): the folders name parts, not labels, and the mask is the label: all zero is OK.
 * Folders named train and test are the split.
 */
const LABEL_SUFFIXES = ['_label', '_gt'];

function partFoldersOf(root: string, opts: OpenOptions): Promise<string[]> {
  return dirNames(root).then((names) => names.filter((n) => !isMaskDirName(n) && !isLabelName(n, opts)));
}

/** True when every image in the root's part folders (at least one) has a `_label`/`_GT` mask beside it. */
export async function isPartFolders(root: string, opts: OpenOptions = {}): Promise<boolean> {
  const all = await dirNames(root);
  const parts = await partFoldersOf(root, opts);
  // A folder named as a label (ok/, defect/, --ok-label) makes it a folder-per-label dataset.
  if (parts.length === 0 || parts.length !== all.filter((n) => !isMaskDirName(n)).length) return false;
  let images = 0;
  for (const part of parts) {
    const files = (await fileNames(join(root, part))).filter(isImageFile);
    const stems = new Set(files.map((f) => stemOf(f).toLowerCase()));
    for (const f of files) {
      const stem = stemOf(f).toLowerCase();
      if (LABEL_SUFFIXES.some((s) => stem.endsWith(s) && stems.has(stem.slice(0, -s.length)))) continue;
      if (!LABEL_SUFFIXES.some((s) => stems.has(`${stem}${s}`))) return false;
      images++;
    }
  }
  return images > 0;
}

export async function readPartFolders(root: string, opts: OpenOptions = {}): Promise<Dataset> {
  const log = new ProblemLog(opts.strict ?? false);
  const parts = await partFoldersOf(root, opts);
  const bySplit = parts.length === 2 && parts.every((p) => ['train', 'test'].includes(p.toLowerCase()));
  const masks = new MaskFinder(root);
  const found: Array<{ path: string; part: string }> = [];
  for (const part of parts) {
    const listed = await listImagesWithoutMasks(join(root, part));
    for (const path of listed.images) found.push({ path, part });
    for (const path of listed.orphanMasks) log.report(path, 'named like a mask but no image of its name is beside it; ignored');
  }
  const bad = opts.checkImages === false ? new Map<number, string>() : await unreadableImages(found.map((f) => f.path));
  const items: DatasetItem[] = [];
  for (const [i, { path, part }] of found.entries()) {
    if (bad.has(i)) {
      log.report(path, `unreadable image: ${bad.get(i)}; skipped`);
      continue;
    }
    const maskPath = await masks.find(path);
    if (maskPath === undefined) {
      log.report(path, `no mask beside it (looked for ${stemOf(basename(path))}_label.bmp); skipped, as the mask is what says OK or defect here`);
      continue;
    }
    let empty: boolean;
    try {
      empty = await maskIsEmpty(maskPath);
    } catch (err) {
      log.report(maskPath, `unreadable mask of ${path}: ${err instanceof Error ? err.message : String(err)}; skipped`);
      continue;
    }
    const item: DatasetItem = { path, label: empty ? 'ok' : 'defect', isDefect: !empty, maskPath };
    if (bySplit) item.split = part.toLowerCase() as 'train' | 'test';
    else item.group = part;
    items.push(item);
  }
  return { root, items, problems: log.problems };
}
