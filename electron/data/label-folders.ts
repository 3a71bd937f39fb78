import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isImageFile, listImages, unreadableImages } from './dataset-images.ts';
import type { Dataset, DatasetItem, OpenOptions } from './datasets.ts';
import { ProblemLog } from './dataset-problems.ts';
import { labelMeaning } from './labels.ts';

/** One folder per label (ok/, defect/, or any names): every image below a folder carries its name. */
export async function readLabelFolders(root: string, opts: OpenOptions = {}): Promise<Dataset> {
  const log = new ProblemLog(opts.strict ?? false);
  const entries = await readdir(root, { withFileTypes: true });
  const folders = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  for (const e of entries) {
    if (e.isFile() && isImageFile(e.name)) log.report(join(root, e.name), 'image is not inside a label folder; skipped');
  }
  const found: Array<{ path: string; label: string }> = [];
  for (const label of folders) {
    for (const path of await listImages(join(root, label))) found.push({ path, label });
  }
  const meaning = labelMeaning(folders.filter((f) => found.some((i) => i.label === f)), opts.defectLabel);
  const bad = opts.checkImages === false ? new Map<number, string>() : await unreadableImages(found.map((f) => f.path));
  for (const label of folders) {
    const n = found.filter((f) => f.label === label).length;
    if (n > 0 && meaning(label) === undefined) {
      log.report(join(root, label), `unknown label '${label}': ${n} image(s) skipped; name the defect label (--defect-label) to use this folder`);
    }
  }
  const items: DatasetItem[] = [];
  for (const [i, { path, label }] of found.entries()) {
    const isDefect = meaning(label);
    if (isDefect === undefined) continue;
    if (bad.has(i)) {
      log.report(path, `unreadable image: ${bad.get(i)}; skipped`);
    } else {
      items.push({ path, label, isDefect });
    }
  }
  return { root, items, problems: log.problems };
}
