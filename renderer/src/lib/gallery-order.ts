import type { ImageEntry, LabelCounts, ReviewState } from '../../../electron/api.ts';

export type StateFilter = 'all' | ReviewState;
export const SORT_KEYS = ['score', 'uncertainty', 'name', 'date'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

const byName = (a: ImageEntry, b: ImageEntry): number =>
  a.name.localeCompare(b.name, undefined, { numeric: true }) || a.id.localeCompare(b.id);

/** Highest defect probability first (what an inspector reviews first); unscored last, by name. */
const byScore = (a: ImageEntry, b: ImageEntry): number => {
  if (a.score === null && b.score === null) return byName(a, b);
  if (a.score === null) return 1;
  if (b.score === null) return -1;
  return b.score - a.score || byName(a, b);
};

/**
 * Scores nearest 0.5 first: the images the model is least sure of, whose labels teach the next
 * training the most. Unscored last, by name.
 */
const byUncertainty = (a: ImageEntry, b: ImageEntry): number => {
  if (a.score === null && b.score === null) return byName(a, b);
  if (a.score === null) return 1;
  if (b.score === null) return -1;
  return Math.abs(a.score - 0.5) - Math.abs(b.score - 0.5) || byName(a, b);
};

/** Newest first. */
const byDate = (a: ImageEntry, b: ImageEntry): number => b.modifiedAt - a.modifiedAt || byName(a, b);

const COMPARATORS: Record<SortKey, (a: ImageEntry, b: ImageEntry) => number> = { score: byScore, uncertainty: byUncertainty, name: byName, date: byDate };

/** The gallery's rows: entries in the chosen state, in the chosen order. */
export function orderImages(entries: readonly ImageEntry[], filter: StateFilter, sort: SortKey): ImageEntry[] {
  const kept = filter === 'all' ? entries.slice() : entries.filter((e) => e.state === filter);
  return kept.sort(COMPARATORS[sort]);
}

export function countByState(entries: readonly ImageEntry[]): Record<ReviewState, number> {
  const counts: Record<ReviewState, number> = { unreviewed: 0, accepted: 0, rejected: 0, ok: 0, edited: 0 };
  for (const e of entries) counts[e.state]++;
  return counts;
}

export function countLabels(entries: readonly ImageEntry[]): LabelCounts & { unlabelled: number } {
  const counts = { ok: 0, defect: 0, unlabelled: 0 };
  for (const e of entries) counts[e.label ?? 'unlabelled']++;
  return counts;
}

/**
 * The image to review after `currentId`: the next unreviewed one in `order`, wrapping round;
 * null when none is left.
 */
export function nextUnreviewed(order: readonly ImageEntry[], currentId: string | null): string | null {
  const start = currentId === null ? -1 : order.findIndex((e) => e.id === currentId);
  for (let k = 1; k <= order.length; k++) {
    const e = order[(start + k + order.length) % order.length];
    if (e.state === 'unreviewed' && e.id !== currentId) return e.id;
  }
  return null;
}

/** The neighbour `step` rows away in `order`, clamped at the ends. */
export function neighbour(order: readonly ImageEntry[], currentId: string | null, step: number): string | null {
  if (order.length === 0) return null;
  const i = currentId === null ? -1 : order.findIndex((e) => e.id === currentId);
  if (i < 0) return order[step >= 0 ? 0 : order.length - 1].id;
  return order[Math.min(order.length - 1, Math.max(0, i + step))].id;
}
