import { createHash } from 'node:crypto';
import { relative, sep } from 'node:path';
import { hashSeed } from './synth/rng.ts';
import type { DatasetItem } from './dataset-types.ts';
import type { LayoutSplitRecord, SeededSplitRecord } from './split-record.ts';
import { groupByView, takeWholeGroups } from './views.ts';

export const DEFAULT_SPLIT_SEED = 0;
export const DEFAULT_TEST_FRACTION = 0.2;


/** Relative to the root with '/' separators, so a copied or moved dataset splits the same. */
export function relativeKey(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

function digest(lines: string[]): string {
  return createHash('sha256').update([...lines].sort().join('\n')).digest('hex');
}

export function itemsDigest(root: string, items: readonly DatasetItem[]): string {
  return digest(items.map((i) => `${relativeKey(root, i.path)}\t${i.isDefect ? 1 : 0}`));
}

/** OK images form one stratum; defective ones one per kind (unnamed kinds together). */
function stratum(item: DatasetItem): string {
  return item.isDefect ? `defect:${item.defectKind ?? ''}` : 'ok';
}

/**
 * The items by stratum, each stratum ordered by a hash of the seed, a salt and the relative
 * path (ties by path): an order that no listing order or added image changes.
 */
function rankedStrata(root: string, items: readonly DatasetItem[], seed: number, salt: string): Array<Array<{ item: DatasetItem; key: string }>> {
  const strata = new Map<string, Array<{ item: DatasetItem; key: string; rank: number }>>();
  for (const item of items) {
    const key = relativeKey(root, item.path);
    const s = stratum(item);
    if (!strata.has(s)) strata.set(s, []);
    strata.get(s)!.push({ item, key, rank: hashSeed(seed, salt, key) });
  }
  return [...strata.values()].map((members) => members.sort((a, b) => a.rank - b.rank || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
}

/**
 * Assigns split to every item: within each stratum, images are ordered by a hash of the seed and
 * their relative path, and the first round(n * testFraction) go to test (at least one when the
 * stratum has two or more, so every kind is scored). Ordering by a hash of the path, not by
 * position, keeps an image's side stable when others are added or listed in another order.
 */
export function applySeededSplit(
  root: string,
  items: DatasetItem[],
  opts: { seed?: number; testFraction?: number } = {},
): SeededSplitRecord {
  const seed = opts.seed ?? DEFAULT_SPLIT_SEED;
  const testFraction = opts.testFraction ?? DEFAULT_TEST_FRACTION;
  if (!(testFraction > 0 && testFraction < 1)) throw new Error(`the test fraction must be between 0 and 1, got ${testFraction}`);
  const byView = items.some((i) => i.view !== undefined);
  if (byView) splitByView(root, items, seed, testFraction);
  else {
    for (const members of rankedStrata(root, items, seed, 'test-split')) {
      const nTest = members.length < 2 ? 0 : Math.max(1, Math.round(members.length * testFraction));
      members.forEach((m, i) => { m.item.split = i < nTest ? 'test' : 'train'; });
    }
  }
  const test = items.filter((i) => i.split === 'test');
  return {
    policy: 'seeded', seed, testFraction, stratifiedBy: 'kind', ...(byView ? { groupedBy: 'view' as const } : {}),
    train: items.length - test.length, test: test.length,
    itemsDigest: itemsDigest(root, items),
    testDigest: digest(test.map((i) => relativeKey(root, i.path))),
  };
}

/**
 * Whole views to test, in an order by a hash of the seed and the view (an image without one is
 * a view of its own), until the test share of the images is reached.
 */
function splitByView(root: string, items: DatasetItem[], seed: number, testFraction: number): void {
  const views = groupByView(items, (i) => i.view, (i) => relativeKey(root, i.path));
  const ranked = [...views.keys()].sort((a, b) => hashSeed(seed, 'test-split', a) - hashSeed(seed, 'test-split', b) || (a < b ? -1 : 1));
  const { taken, rest } = takeWholeGroups(views, ranked, Math.round(items.length * testFraction));
  for (const item of taken) item.split = 'test';
  for (const item of rest) item.split = 'train';
}

/** The share of a layout's test defects that training borrows when its own split has none. */
export const BORROWED_DEFECT_FRACTION = 0.5;

/**
 * A layout whose training split holds no defective image cannot train a classifier on image
 * labels. Within each defect kind, images are ordered by a hash of the seed and their relative
 * path and the first round(n * fraction) move from test to train (at least one, at most all but
 * one, so every kind is both learnt and scored); the OK images keep the layout's split. A set
 * without any training image is left whole.
 */
export function borrowTestDefects(
  root: string,
  items: DatasetItem[],
  opts: { seed?: number; fraction?: number } = {},
): LayoutSplitRecord {
  const training = items.filter((i) => i.split === 'train');
  const testDefects = items.filter((i) => i.split === 'test' && i.isDefect);
  // A set with no training split at all is a test set, to be scored whole.
  if (training.length === 0 || training.some((i) => i.isDefect) || testDefects.length < 2) return { policy: 'layout' };
  const seed = opts.seed ?? DEFAULT_SPLIT_SEED;
  const fraction = opts.fraction ?? BORROWED_DEFECT_FRACTION;
  const moved: string[] = [];
  for (const members of rankedStrata(root, testDefects, seed, 'borrow-defects')) {
    if (members.length < 2) continue;
    const n = Math.min(members.length - 1, Math.max(1, Math.round(members.length * fraction)));
    for (const m of members.slice(0, n)) {
      m.item.split = 'train';
      moved.push(m.key);
    }
  }
  if (moved.length === 0) return { policy: 'layout' };
  return { policy: 'layout', defectsForTraining: { seed, fraction, moved: moved.length, movedDigest: digest(moved) } };
}
