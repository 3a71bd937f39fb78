import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isImageFile, unreadableImages } from './dataset-images.ts';
import type { Dataset, DatasetItem, OpenOptions } from './dataset-types.ts';
import { ProblemLog } from './dataset-problems.ts';
import { folderMeaning } from './labels.ts';
import { isMaskDirName, listImagesWithoutMasks, MaskFinder } from './mask-finder.ts';
import { maskIsEmpty } from './mask-pixels.ts';

/**
 * One folder per label (ok/, defect/, or any names), or per defect kind beside an OK folder:
 * every image below a folder carries its name. Masks are found beside the images by
 * MaskFinder's conventions; a defect-folder image whose mask is all zero is an OK image.
 */
export async function readLabelFolders(root: string, opts: OpenOptions = {}): Promise<Dataset> {
  const log = new ProblemLog(opts.strict ?? false);
  const entries = await readdir(root, { withFileTypes: true });
  const folders = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.') && !isMaskDirName(e.name)).map((e) => e.name).sort();
  for (const e of entries) {
    if (e.isFile() && isImageFile(e.name)) log.report(join(root, e.name), 'image is not inside a label folder; skipped');
  }
  const found: Array<{ path: string; label: string }> = [];
  for (const label of folders) {
    const listed = await listImagesWithoutMasks(join(root, label));
    for (const path of listed.images) found.push({ path, label });
    for (const path of listed.orphanMasks) log.report(path, 'named like a mask but no image of its name is beside it; ignored');
  }
  const meaning = folderMeaning(folders.filter((f) => found.some((i) => i.label === f)), opts);
  for (const label of folders) {
    const n = found.filter((f) => f.label === label).length;
    if (n > 0 && meaning(label) === undefined) {
      log.report(join(root, label), `unknown label '${label}': ${n} image(s) skipped; name the defect label (--defect-label) or the OK folder (--ok-label) to use this folder`);
    }
  }
  const known = found.filter((f) => meaning(f.label) !== undefined);
  const bad = opts.checkImages === false ? new Map<number, string>() : await unreadableImages(known.map((f) => f.path));
  const masks = new MaskFinder(root);
  const items: DatasetItem[] = [];
  for (const [i, { path, label }] of known.entries()) {
    if (bad.has(i)) {
      log.report(path, `unreadable image: ${bad.get(i)}; skipped`);
      continue;
    }
    const m = meaning(label)!;
    const item: DatasetItem = { path, label, isDefect: m.isDefect };
    const maskPath = await masks.find(path);
    if (maskPath !== undefined) {
      let empty: boolean;
      try {
        empty = await maskIsEmpty(maskPath);
      } catch (err) {
        log.report(maskPath, `unreadable mask of ${path}: ${err instanceof Error ? err.message : String(err)}; image kept without it`);
        items.push(withKind(item, m.kind));
        continue;
      }
      if (!m.isDefect && !empty) {
        log.report(maskPath, `the mask marks a defect but ${path} is in the OK folder '${label}'; kept as OK, without the mask`);
        items.push(item);
        continue;
      }
      item.maskPath = maskPath;
      // The mask is the finer label: a defect folder's image with nothing marked is OK.
      if (empty) item.isDefect = false;
    }
    items.push(item.isDefect ? withKind(item, m.kind) : item);
  }
  return { root, items, problems: log.problems };
}

function withKind(item: DatasetItem, kind: string | undefined): DatasetItem {
  return kind === undefined ? item : { ...item, defectKind: kind };
}
