import { assertScoreMap } from './mask.ts';
import type { Mask, ScoreMap } from './types.ts';

/** How to pick the cut-off; a pixel is foreground iff its score >= the threshold value. */
export type ThresholdMethod =
  | { kind: 'value'; value: number }
  | { kind: 'fraction-of-max'; fraction: number }
  | { kind: 'otsu' }
  | { kind: 'top-percent'; percent: number };

const OTSU_BINS = 256;

/** The score value a method cuts at, for this map. */
export function thresholdValue(map: ScoreMap, method: ThresholdMethod): number {
  assertScoreMap(map, 'threshold');
  switch (method.kind) {
    case 'value':
      if (!Number.isFinite(method.value)) throw new Error(`threshold: value must be a finite number, got ${method.value}`);
      return method.value;
    case 'fraction-of-max': {
      const f = method.fraction;
      if (!(f > 0 && f <= 1)) throw new Error(`threshold: fraction-of-max must be in (0, 1], got ${f}`);
      let max = 0;
      const d = map.data;
      for (let i = 0; i < d.length; i++) if (d[i] > max) max = d[i];
      // An all-zero map has no maximum to take a fraction of: nothing is foreground.
      return max > 0 ? f * max : Number.POSITIVE_INFINITY;
    }
    case 'otsu':
      return otsuThreshold(map.data);
    case 'top-percent': {
      const p = method.percent;
      if (!(p > 0 && p <= 100)) throw new Error(`threshold: top-percent must be in (0, 100], got ${p}`);
      return kthLargest(map.data, Math.max(1, Math.ceil((map.data.length * p) / 100)));
    }
  }
}

/** Binary mask (0/1) of the pixels whose score is >= the method's threshold. */
export function thresholdMap(map: ScoreMap, method: ThresholdMethod): { mask: Mask; threshold: number } {
  const threshold = thresholdValue(map, method);
  const d = map.data;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = d[i] >= threshold ? 1 : 0;
  return { mask: { width: map.width, height: map.height, data: out }, threshold };
}

/**
 * Otsu's method on a 256-bin histogram of [0, 1]. Returns the lower edge of the first
 * foreground bin, so `v >= t` selects exactly the bins above the split (both sides are
 * exact in float arithmetic: the bin width is a power of two).
 */
function otsuThreshold(d: Float32Array): number {
  const hist = new Float64Array(OTSU_BINS);
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    const b = v > 0 ? Math.min(OTSU_BINS - 1, Math.floor(v * OTSU_BINS)) : 0;
    hist[b]++;
  }
  const total = d.length;
  let sumAll = 0;
  for (let b = 0; b < OTSU_BINS; b++) sumAll += b * hist[b];
  let wB = 0;
  let sumB = 0;
  let best = -1;
  let split = OTSU_BINS - 1;
  for (let b = 0; b < OTSU_BINS - 1; b++) {
    wB += hist[b];
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += b * hist[b];
    const mB = sumB / wB;
    const mF = (sumAll - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) {
      best = between;
      split = b;
    }
  }
  return (split + 1) / OTSU_BINS;
}

/**
 * The k-th largest score (k >= 1), by a two-pass radix select on the float bits: for
 * non-negative floats the bit patterns order like the values, and this is O(n) where a
 * sort of 262,144 values costs more than the whole clean-up budget.
 */
function kthLargest(d: Float32Array, k: number): number {
  // Keys: the float bits of positive scores, 0 for the rest (zero, negatives and NaN).
  const bits = new Uint32Array(d.length);
  bits.set(new Uint32Array(d.buffer, d.byteOffset, d.length));
  for (let i = 0; i < d.length; i++) if (!(d[i] > 0)) bits[i] = 0;
  const high = new Uint32Array(65536);
  for (let i = 0; i < bits.length; i++) high[bits[i] >>> 16]++;
  let remaining = k;
  let hb = 65535;
  for (; hb > 0; hb--) {
    if (high[hb] >= remaining) break;
    remaining -= high[hb];
  }
  const low = new Uint32Array(65536);
  for (let i = 0; i < bits.length; i++) {
    const key = bits[i];
    if (key >>> 16 === hb) low[key & 0xffff]++;
  }
  let lb = 65535;
  for (; lb > 0; lb--) {
    if (low[lb] >= remaining) break;
    remaining -= low[lb];
  }
  const f = new Float32Array(1);
  new Uint32Array(f.buffer)[0] = ((hb << 16) | lb) >>> 0;
  return f[0];
}
