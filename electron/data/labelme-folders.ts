import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { isImageFile, unreadableImages } from './dataset-images.ts';
import type { Dataset, DatasetItem, OpenOptions } from './dataset-types.ts';
import { ProblemLog } from './dataset-problems.ts';
import { dirNames, fileNames, stemOf } from './fs-names.ts';

/**
 * Images with LabelMe JSON annotations, as sets drawn in LabelMe or X-AnyLabeling ship (BSData:
 * `data/*.jpg` and `label/*.json`): the JSON files lie beside the images or in one folder of
 * their own, and name their image in `imagePath`. An image with shapes is defective, its mask
 * the shapes' union; an image without an annotation file, or with no shape in it, is OK.
 */
const labelmeHeader = z.object({
  shapes: z.array(z.object({ label: z.string() })),
  imagePath: z.string(),
});
type LabelmeHeader = z.infer<typeof labelmeHeader>;

async function readHeader(path: string): Promise<LabelmeHeader | null> {
  try {
    const parsed = labelmeHeader.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The folders (root first) that hold images or LabelMe files, one level deep. */
async function folders(root: string): Promise<string[]> {
  return [root, ...(await dirNames(root)).map((n) => join(root, n))];
}

async function jsonFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const dir of await folders(root)) out.push(...(await fileNames(dir)).filter((f) => f.toLowerCase().endsWith('.json')).map((f) => join(dir, f)));
  return out;
}

/** True when the folder's JSON files (checking the first few) are LabelMe annotations and images lie beside or near them. */
export async function isLabelmeFolders(root: string): Promise<boolean> {
  const json = await jsonFiles(root);
  if (json.length === 0) return false;
  for (const path of json.slice(0, 3)) if (!(await readHeader(path))) return false;
  for (const dir of await folders(root)) if ((await fileNames(dir)).some(isImageFile)) return true;
  return false;
}

export async function readLabelmeFolders(root: string, opts: OpenOptions = {}): Promise<Dataset> {
  const log = new ProblemLog(opts.strict ?? false);
  const images: string[] = [];
  for (const dir of await folders(root)) images.push(...(await fileNames(dir)).filter(isImageFile).map((f) => join(dir, f)));
  const byName = new Map<string, string>();
  for (const path of images) {
    const key = basename(path).toLowerCase();
    if (byName.has(key)) log.report(path, `another image is also named ${basename(path)} (${byName.get(key)}); annotations name images by file name, so this one is skipped`);
    else byName.set(key, path);
  }
  const annotations = new Map<string, { json: string; labels: string[] }>();
  for (const json of await jsonFiles(root)) {
    const header = await readHeader(json);
    if (!header) {
      log.report(json, 'not a LabelMe annotation (needs "shapes" and "imagePath"); ignored');
      continue;
    }
    const named = basename(header.imagePath.replace(/\\/g, '/')).toLowerCase();
    const image = byName.get(named) ?? [...byName.values()].find((p) => stemOf(basename(p)).toLowerCase() === stemOf(basename(json)).toLowerCase());
    if (!image) {
      log.report(json, `its image "${header.imagePath}" is not in the dataset; ignored`);
      continue;
    }
    annotations.set(image, { json, labels: [...new Set(header.shapes.map((s) => s.label))].sort() });
  }
  const kept = [...byName.values()].sort();
  const bad = opts.checkImages === false ? new Map<number, string>() : await unreadableImages(kept);
  const items: DatasetItem[] = [];
  kept.forEach((path, i) => {
    if (bad.has(i)) {
      log.report(path, `unreadable image: ${bad.get(i)}; skipped`);
      return;
    }
    const annotation = annotations.get(path);
    if (annotation && annotation.labels.length > 0) {
      items.push({ path, label: 'defect', isDefect: true, maskPath: annotation.json, defectKind: annotation.labels.join('+') });
    } else {
      items.push({ path, label: 'ok', isDefect: false });
    }
  });
  return { root, items, problems: log.problems };
}
