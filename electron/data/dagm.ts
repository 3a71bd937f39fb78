import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DAGM_SPLITS, exactMaskName, parseLabelsTxt, weakLabelName, type DagmSplit } from './dagm-layout.ts';
import { isImageFile, unreadableImages } from './dataset-images.ts';
import type { Dataset, DatasetItem, OpenOptions } from './dataset-types.ts';
import { ProblemLog } from './dataset-problems.ts';
import { dirNames, exists, findName } from './fs-names.ts';
import { readSynthManifest } from './synth/generate.ts';

interface SplitDir { dir: string; split?: DagmSplit; group?: string }

/** The Train/Test folders a path holds, whether it is a DAGM root, a ClassN folder or a split folder. */
export async function dagmSplitDirs(root: string): Promise<SplitDir[]> {
  const names = await dirNames(root);
  const classes = names.filter((n) => /^class\d+$/i.test(n)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  const out: SplitDir[] = [];
  const splitsOf = async (dir: string, group?: string) => {
    const sub = await dirNames(dir);
    for (const split of DAGM_SPLITS) {
      const name = findName(sub, split);
      if (name && findName(await dirNames(join(dir, name)), 'Label')) out.push({ dir: join(dir, name), split, group });
    }
  };
  if (classes.length > 0) {
    for (const c of classes) await splitsOf(join(root, c), c);
    return out;
  }
  await splitsOf(root, /^class\d+$/i.test(basename(root)) ? basename(root) : undefined);
  if (out.length > 0) return out;
  const label = findName(names, 'Label');
  // A Train or Test folder opened alone keeps its side of the split, so that training on
  // ClassN/Train and evaluating on ClassN/Test score every test image and no training one.
  const side = DAGM_SPLITS.find((s) => s.toLowerCase() === basename(root).toLowerCase());
  if (label && (await exists(join(root, label, 'Labels.txt')))) out.push(side ? { dir: root, split: side } : { dir: root });
  return out;
}

/**
 * Reads the DAGM 2007 layout. maskPath is DAGM's weak label (the ellipse); exactMaskPath is the
 * pixel mask Kizu's generator writes beside it, when there.
 */
export async function readDagm(root: string, opts: OpenOptions = {}): Promise<Dataset> {
  const log = new ProblemLog(opts.strict ?? false);
  const manifest = await readSynthManifest(root);
  const candidates: Array<{ item: DatasetItem; where: string }> = [];
  for (const { dir, split, group } of await dagmSplitDirs(root)) {
    const labelDir = join(dir, findName(await dirNames(dir), 'Label') ?? 'Label');
    const labelsPath = join(labelDir, 'Labels.txt');
    const onDisk = (await readdir(dir)).filter(isImageFile).sort();
    let rows: Array<{ image: string; isDefect: boolean; label?: string; where: string }>;
    if (await exists(labelsPath)) {
      const parsed = parseLabelsTxt(await readFile(labelsPath, 'utf8'));
      for (const p of parsed.problems) log.report(`${labelsPath}:${p.line}`, p.message);
      rows = parsed.entries.map((e) => ({ ...e, where: `${labelsPath}:${e.line}` }));
      const listed = new Set(rows.map((r) => r.image));
      for (const f of onDisk) if (!listed.has(f)) log.report(join(dir, f), 'not listed in Label/Labels.txt; skipped');
    } else {
      log.report(labelsPath, 'missing; defect flags inferred from the Label/NNNN_label.PNG files present');
      const labels = new Set((await readdir(labelDir)).map((f) => f.toLowerCase()));
      rows = onDisk.map((image) => {
        const isDefect = labels.has(weakLabelName(image).toLowerCase());
        return { image, isDefect, ...(isDefect ? { label: weakLabelName(image) } : {}), where: join(dir, image) };
      });
    }
    const kinds = manifest?.classes.find((c) => c.name === group)?.defects[split ?? 'Train'];
    for (const row of rows) {
      const path = join(dir, row.image);
      if (!(await exists(path))) {
        log.report(row.where, `image not found: ${path}`);
        continue;
      }
      const item: DatasetItem = { path, label: row.isDefect ? 'defect' : 'ok', isDefect: row.isDefect };
      if (split) item.split = split === 'Train' ? 'train' : 'test';
      if (group) item.group = group;
      if (row.isDefect) {
        if (!row.label) log.report(row.where, 'defective image without a label file; kept without a mask');
        else if (await exists(join(labelDir, row.label))) item.maskPath = join(labelDir, row.label);
        else log.report(row.where, `label file not found: ${join(labelDir, row.label)}; kept without a mask`);
        const exact = join(labelDir, exactMaskName(row.image));
        if (await exists(exact)) item.exactMaskPath = exact;
        const kind = kinds?.[row.image];
        if (kind) item.defectKind = kind;
      }
      candidates.push({ item, where: row.where });
    }
  }
  const bad = opts.checkImages === false ? new Map<number, string>() : await unreadableImages(candidates.map((c) => c.item.path));
  const items: DatasetItem[] = [];
  for (const [i, c] of candidates.entries()) {
    if (bad.has(i)) log.report(c.where, `unreadable image ${c.item.path}: ${bad.get(i)}; skipped`);
    else items.push(c.item);
  }
  return { root, items, problems: log.problems };
}
