import { basename, join } from 'node:path';
import { unreadableImages } from './dataset-images.ts';
import type { Dataset, DatasetItem, OpenOptions } from './dataset-types.ts';
import { ProblemLog } from './dataset-problems.ts';
import { dirNames, fileNames, findName, stemOf } from './fs-names.ts';
import { folderMeaning } from './labels.ts';
import { isMaskDirName, listImagesWithoutMasks, MaskFinder } from './mask-finder.ts';

/**
 * MVTec AD's layout, as anomalib reads it: `<category>/train/good/`, `<category>/test/good/`,
 * `<category>/test/<defect kind>/` and `<category>/ground_truth/<defect kind>/<name>_mask.png`.
 * The same shape with other folder names (train/ok, test/defect) reads too: the folders below
 * train/ and test/ mean what a folder per label means.
 */
const SPLITS = ['train', 'test'] as const;

/** A category folder: train/ and test/, each holding label folders. */
async function isCategory(dir: string): Promise<boolean> {
  const names = await dirNames(dir);
  const train = findName(names, 'train'), test = findName(names, 'test');
  if (!train || !test) return false;
  return (await dirNames(join(dir, train))).length > 0 && (await dirNames(join(dir, test))).length > 0;
}

/** The category folders a path holds: itself, or its sub-folders (MVTec AD's root of 15 categories). */
export async function mvtecCategories(root: string): Promise<Array<{ dir: string; group?: string }>> {
  if (await isCategory(root)) return [{ dir: root }];
  const out: Array<{ dir: string; group?: string }> = [];
  for (const name of await dirNames(root)) {
    if (await isCategory(join(root, name))) out.push({ dir: join(root, name), group: name });
  }
  return out;
}

/** `ground_truth/<kind>/<stem>_mask.*`, or `<stem>.*` there, in the category's mask folder. */
async function groundTruth(category: string, kind: string, stem: string): Promise<string | undefined> {
  const gtName = (await dirNames(category)).find(isMaskDirName);
  if (!gtName) return undefined;
  const kindDir = findName(await dirNames(join(category, gtName)), kind);
  if (!kindDir) return undefined;
  const files = await fileNames(join(category, gtName, kindDir));
  const hit = [`${stem}_mask`, stem].map((s) => files.find((f) => stemOf(f).toLowerCase() === s.toLowerCase())).find((f) => f);
  return hit ? join(category, gtName, kindDir, hit) : undefined;
}

export async function readMvtec(root: string, opts: OpenOptions = {}): Promise<Dataset> {
  const log = new ProblemLog(opts.strict ?? false);
  const candidates: DatasetItem[] = [];
  for (const { dir, group } of await mvtecCategories(root)) {
    const names = await dirNames(dir);
    const hasGroundTruth = names.some(isMaskDirName);
    const masks = new MaskFinder(dir);
    const labelDirs = await Promise.all(SPLITS.map(async (split) => {
      const splitDir = join(dir, findName(names, split)!);
      return { split, splitDir, labels: await dirNames(splitDir) };
    }));
    const meaning = folderMeaning([...new Set(labelDirs.flatMap((l) => l.labels))], opts);
    for (const { split, splitDir, labels } of labelDirs) {
      for (const label of labels) {
        const m = meaning(label);
        const listed = await listImagesWithoutMasks(join(splitDir, label));
        if (m === undefined) {
          if (listed.images.length > 0) log.report(join(splitDir, label), `unknown label '${label}': ${listed.images.length} image(s) skipped; name the OK folder (--ok-label) to use it`);
          continue;
        }
        for (const path of listed.images) {
          const item: DatasetItem = { path, label, isDefect: m.isDefect, split };
          if (group !== undefined) item.group = group;
          if (m.kind !== undefined) item.defectKind = m.kind;
          if (m.isDefect) {
            const maskPath = (await groundTruth(dir, label, stemOf(basename(path)))) ?? (await masks.find(path));
            if (maskPath) item.maskPath = maskPath;
            else if (hasGroundTruth) log.report(path, `no mask in ground_truth/${label}/ (looked for ${stemOf(basename(path))}_mask.png); kept without a mask`);
          }
          candidates.push(item);
        }
      }
    }
  }
  const bad = opts.checkImages === false ? new Map<number, string>() : await unreadableImages(candidates.map((c) => c.path));
  const items: DatasetItem[] = [];
  for (const [i, item] of candidates.entries()) {
    if (bad.has(i)) log.report(item.path, `unreadable image: ${bad.get(i)}; skipped`);
    else items.push(item);
  }
  return { root, items, problems: log.problems };
}
