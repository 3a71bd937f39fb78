import { hashSeed, Rng } from '../../data/synth/rng.ts';
import { groupByView, takeWholeGroups } from '../../data/views.ts';

export interface LabelledIndex {
  index: number;
  isDefect: boolean;
  /** Images of one view (DatasetItem.view) stay on one side of the split. */
  view?: string;
}

/** A seeded Fisher-Yates shuffle: the same order for the same seed on every platform. */
export function shuffled<T>(values: readonly T[], seed: number): T[] {
  const out = [...values];
  const rng = new Rng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * A validation split stratified by label, the same for the same seed. Where images name their
 * view, whole views go to validation instead (a seeded order of views, until the share is
 * reached): stratifying would put a view on both sides.
 */
export function splitTrainVal(items: readonly LabelledIndex[], valFraction: number, seed: number): { train: number[]; val: number[] } {
  const train: number[] = [];
  const val: number[] = [];
  if (items.some((i) => i.view !== undefined)) {
    const views = groupByView(items, (i) => i.view, (i) => String(i.index));
    const { taken, rest } = takeWholeGroups(views, shuffled([...views.keys()].sort(), hashSeed(seed, 'val-split', 'views')), Math.round(items.length * valFraction));
    const sorted = (list: LabelledIndex[]) => list.map((i) => i.index).sort((a, b) => a - b);
    return { train: sorted(rest), val: sorted(taken) };
  }
  for (const defect of [false, true]) {
    const group = shuffled(items.filter((i) => i.isDefect === defect).map((i) => i.index), hashSeed(seed, 'val-split', defect ? 1 : 0));
    const nVal = Math.round(group.length * valFraction);
    val.push(...group.slice(0, nVal));
    train.push(...group.slice(nVal));
  }
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}

/**
 * One epoch's sample order, class-balanced: as many defective as clean draws, the minority
 * class cycled through reshuffled copies. A pure function of (seed, epoch), so a resumed run
 * sees exactly the batches the uninterrupted run would have.
 */
export function epochOrder(train: readonly LabelledIndex[], epoch: number, seed: number, balance: boolean): number[] {
  if (!balance) return shuffled(train.map((t) => t.index), hashSeed(seed, 'epoch', epoch));
  const pos = train.filter((t) => t.isDefect).map((t) => t.index);
  const neg = train.filter((t) => !t.isDefect).map((t) => t.index);
  if (pos.length === 0 || neg.length === 0) throw new Error('training needs both clean and defective images');
  const perClass = Math.max(pos.length, neg.length);
  const draw = (group: number[], salt: string): number[] => {
    const out: number[] = [];
    for (let round = 0; out.length < perClass; round++) out.push(...shuffled(group, hashSeed(seed, salt, epoch, round)));
    return out.slice(0, perClass);
  };
  const mixed = [...draw(pos, 'pos'), ...draw(neg, 'neg')];
  return shuffled(mixed, hashSeed(seed, 'mix', epoch));
}
