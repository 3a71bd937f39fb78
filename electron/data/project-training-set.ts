import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { parse } from 'csv-parse/sync';
import type { ImageLabel, LabelCounts, TrainingSetSummary } from '../api.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { hashSeed } from './synth/rng.ts';

/**
 * A project's labelled images as a training set, and the reviewed masks kept out of it to
 * measure the model it gives. The set is written as a CSV (path,label,mask,split) into the model's
 * folder before training, so `kizu train --data <that csv>` repeats the run, and so the quality
 * check knows, for any model, which images it learnt from and must never be measured on.
 */

export const TRAINING_SET_FILE = 'training-set.csv';
/** Fewer than this many of either label gives a validation split of nothing and a model of noise. */
export const TRAINING_MINIMUM: LabelCounts = { ok: 4, defect: 4 };
/**
 * Share of the reviewed-mask images held out to measure the model. A third: enough to show
 * whether maps localise, while most hand-checked defects still teach the model.
 */
export const MEASURE_FRACTION = 1 / 3;

export interface ProjectImage {
  id: string;
  path: string;
  label: ImageLabel | null;
  /** An accepted or edited review with its mask stored. */
  reviewedMask: boolean;
  /** That mask's file (a PNG in .kizu/), where the caller read it: the CSV names it for `kizu train --masks`. */
  maskPath?: string;
}

export interface TrainingPlan {
  train: ProjectImage[];
  /** Reviewed-mask images held out: split=test in the CSV, which `kizu train` never reads. */
  measure: ProjectImage[];
}

/**
 * Which images train and which measure. A pure function of the images, with no seed: an
 * image's place depends on its id alone, so it stays in the measure set from one training to
 * the next instead of being measured by a model that learnt it.
 */
export function planProjectTraining(images: readonly ProjectImage[]): TrainingPlan {
  const masked = images.filter((i) => i.label === 'defect' && i.reviewedMask);
  const order = masked.map((i) => ({ i, key: hashSeed('measure', i.id) })).sort((a, b) => a.key - b.key || a.i.id.localeCompare(b.i.id));
  const measureIds = new Set(order.slice(0, Math.floor(masked.length * MEASURE_FRACTION)).map((o) => o.i.id));
  return {
    train: images.filter((i) => i.label !== null && !measureIds.has(i.id)),
    measure: images.filter((i) => measureIds.has(i.id)),
  };
}

export function summarisePlan(plan: TrainingPlan): TrainingSetSummary {
  const ok = plan.train.filter((i) => i.label === 'ok').length;
  const defect = plan.train.filter((i) => i.label === 'defect').length;
  const masks = plan.train.filter((i) => i.label === 'defect' && i.reviewedMask).length;
  return { ok, defect, measure: plan.measure.length, masks, minimum: TRAINING_MINIMUM, enough: ok >= TRAINING_MINIMUM.ok && defect >= TRAINING_MINIMUM.defect };
}

/**
 * The CSV `kizu train --data` reads; measure images are in it as split=test so it is
 * self-describing. A reviewed defect's mask is named beside it: `kizu train --masks` learns
 * from the training rows' (never a test row's), `kizu evaluate` measures on the test rows'.
 */
export async function writeTrainingSet(modelDir: string, plan: TrainingPlan): Promise<string> {
  const mask = (i: ProjectImage) => (i.label === 'defect' && i.reviewedMask ? i.maskPath ?? '' : '');
  const rows = [
    ...plan.train.map((i) => [i.path, i.label, mask(i), 'train']),
    ...plan.measure.map((i) => [i.path, i.label, mask(i), 'test']),
  ];
  const path = join(modelDir, TRAINING_SET_FILE);
  await writeFileAtomic(path, stringify([['path', 'label', 'mask', 'split'], ...rows]));
  return path;
}

/** The images a model learnt from, by absolute path; empty for a model not trained from a project (it saw none of them). */
export async function trainedPaths(modelDir: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(join(modelDir, TRAINING_SET_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw err;
  }
  const rows = parse(text, { columns: true, skip_empty_lines: true }) as Array<{ path: string; split: string }>;
  return new Set(rows.filter((r) => r.split !== 'test').map((r) => r.path));
}
