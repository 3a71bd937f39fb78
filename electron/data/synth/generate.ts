import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  DAGM_SPLITS, exactMaskName, formatLabelsTxt, imageName, splitDir, weakLabelName, type DagmSplit,
} from '../dagm-layout.ts';
import { DEFECT_KINDS, type DefectKind } from './defects.ts';
import { hashSeed, Rng } from './rng.ts';
import type { SampleTask } from './sample-task.ts';
import { TEXTURE_FAMILIES } from './textures.ts';
import { defaultWorkerCount, runSampleTasks } from './worker-pool.ts';

export interface GenerateOptions {
  out: string;
  /** Number of ClassN folders; class N uses texture family (N - 1) modulo the families. */
  classes?: number;
  /** Image counts per class, as DAGM gives them. */
  trainClean?: number;
  trainDefect?: number;
  testClean?: number;
  testDefect?: number;
  size?: number;
  seed?: number;
  /** Worker threads; the output does not depend on it. */
  workers?: number;
  /** Write into a folder that already has files (same-named files are replaced). */
  force?: boolean;
}

export const GENERATE_DEFAULTS = {
  classes: 6, trainClean: 100, trainDefect: 50, testClean: 100, testDefect: 50, size: 512, seed: 1,
} as const;

/** Written at the dataset root; everything in it follows from the arguments, so it is deterministic too. */
export const SYNTH_MANIFEST = 'kizu-synth.json';

/** The manifest of a set this generator wrote into `root`; undefined where there is none to read. */
export async function readSynthManifest(root: string): Promise<SynthManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(root, SYNTH_MANIFEST), 'utf8')) as SynthManifest;
  } catch {
    return undefined;
  }
}

export interface SynthManifest {
  generator: 'kizu-synth';
  version: 1;
  seed: number;
  size: number;
  counts: { trainClean: number; trainDefect: number; testClean: number; testDefect: number };
  classes: Array<{
    name: string;
    family: string;
    /** Defect kind of every defective image, by split and file name. */
    defects: Record<DagmSplit, Record<string, DefectKind>>;
  }>;
}

export interface GenerateResult {
  out: string;
  images: number;
  seconds: number;
  manifest: SynthManifest;
}

function count(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new Error(`${name} must be an integer from 0 to ${max}, got ${v}`);
  return v;
}

/**
 * Writes a synthetic DAGM-layout dataset. Each image's content follows from (seed, class,
 * split, index) alone, so the files are byte-identical for the same arguments whatever the
 * number of workers or the order they finish in.
 */
export async function generateDataset(
  opts: GenerateOptions, onProgress?: (done: number, total: number) => void,
): Promise<GenerateResult> {
  const o = { ...GENERATE_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as
    Required<Omit<GenerateOptions, 'workers' | 'force'>> & GenerateOptions;
  const classes = count('classes', o.classes, 99);
  if (classes < 1) throw new Error('classes must be at least 1');
  const counts = {
    trainClean: count('train-clean', o.trainClean, 9999), trainDefect: count('train-defect', o.trainDefect, 9999),
    testClean: count('test-clean', o.testClean, 9999), testDefect: count('test-defect', o.testDefect, 9999),
  };
  if (counts.trainClean + counts.trainDefect > 9999 || counts.testClean + counts.testDefect > 9999) {
    throw new Error('at most 9,999 images per class and split (DAGM names files NNNN.PNG)');
  }
  const size = count('size', o.size, 4096);
  if (size < 64) throw new Error(`size must be at least 64, got ${size}`);
  const seed = count('seed', o.seed, 0xffffffff);
  const out = resolve(o.out);
  await ensureWritable(out, o.force ?? false);

  const started = performance.now();
  const tasks: SampleTask[] = [];
  const manifest: SynthManifest = { generator: 'kizu-synth', version: 1, seed, size, counts, classes: [] };
  const labels: Array<{ dir: string; entries: Array<{ image: string; isDefect: boolean; label?: string }> }> = [];
  for (let c = 1; c <= classes; c++) {
    const family = TEXTURE_FAMILIES[(c - 1) % TEXTURE_FAMILIES.length].name;
    manifest.classes.push({ name: `Class${c}`, family, defects: { Train: {}, Test: {} } });
    for (const split of DAGM_SPLITS) {
      const [clean, defect] = split === 'Train' ? [counts.trainClean, counts.trainDefect] : [counts.testClean, counts.testDefect];
      // Defective images are interleaved with clean ones, as in DAGM, not numbered last, and
      // the defect kinds are dealt evenly, so every kind shows up in every class and split.
      const order = new Rng(hashSeed(seed, 'order', c, split));
      const flags = order.shuffle([...Array<boolean>(clean).fill(false), ...Array<boolean>(defect).fill(true)]);
      const kinds = Array.from({ length: Math.ceil(defect / DEFECT_KINDS.length) }, () => order.shuffle([...DEFECT_KINDS])).flat();
      const dir = splitDir(out, c, split);
      await mkdir(join(dir, 'Label'), { recursive: true });
      const entries: Array<{ image: string; isDefect: boolean; label?: string }> = [];
      for (const [index, isDefect] of flags.entries()) {
        const image = imageName(index);
        const kind: DefectKind | false = isDefect ? kinds.pop()! : false;
        entries.push(isDefect ? { image, isDefect, label: weakLabelName(image) } : { image, isDefect });
        if (kind) manifest.classes[c - 1].defects[split][image] = kind;
        tasks.push({
          id: tasks.length, family, size, defect: kind, seed: hashSeed(seed, c, split, index),
          imagePath: join(dir, image), weakLabelPath: join(dir, 'Label', weakLabelName(image)),
          maskPath: join(dir, 'Label', exactMaskName(image)),
        });
      }
      labels.push({ dir, entries });
    }
  }

  let done = 0;
  onProgress?.(0, tasks.length);
  const workers = Math.max(1, Math.min(opts.workers ?? defaultWorkerCount(), 64));
  await runSampleTasks(tasks, workers, () => onProgress?.(++done, tasks.length));

  for (const { dir, entries } of labels) await writeFile(join(dir, 'Label', 'Labels.txt'), formatLabelsTxt(entries));
  await writeFile(join(out, SYNTH_MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
  return { out, images: tasks.length, seconds: (performance.now() - started) / 1000, manifest };
}

async function ensureWritable(out: string, force: boolean): Promise<void> {
  let existing: string[] = [];
  try {
    existing = await readdir(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot use ${out}: ${(err as Error).message}`);
  }
  if (existing.length > 0 && !force) {
    throw new Error(`${out} is not empty; choose a new folder, or pass --force to write over same-named files`);
  }
  await mkdir(out, { recursive: true });
}
