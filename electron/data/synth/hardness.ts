import { auroc, miou, type SegmentationCounts } from '../metrics.ts';

/**
 * Measures how far a dataset is from being solved by brightness alone: a naive local-median
 * detector and whole-image mean/std. A dataset where these work would make every learned
 * figure meaningless.
 */

export interface HardnessImage {
  /** 8-bit grey pixels, row-major. */
  image: Uint8Array;
  width: number;
  height: number;
  /** Ground truths (e.g. exact mask and weak label), nonzero = defect; all zero for a clean image. */
  truths: Uint8Array[];
  isDefect: boolean;
}

/** Median over a (2r+1)^2 window with edge pixels repeated (Huang's sliding histogram). */
export function medianFilter(img: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const out = new Uint8Array(img.length);
  const hist = new Int32Array(256);
  const side = 2 * radius + 1, half = (side * side - 1) / 2;
  const rows = new Int32Array(side);
  const cols = new Int32Array(width + side);
  for (let i = 0; i < cols.length; i++) cols[i] = Math.min(width - 1, Math.max(0, i - radius));
  for (let y = 0; y < height; y++) {
    for (let j = 0; j < side; j++) rows[j] = Math.min(height - 1, Math.max(0, y - radius + j)) * width;
    hist.fill(0);
    for (let j = 0; j < side; j++) for (let i = 0; i < side; i++) hist[img[rows[j] + cols[i]]]++;
    let med = 0, below = 0;
    while (below + hist[med] <= half) below += hist[med++];
    const o = y * width;
    for (let x = 0; x < width; x++) {
      out[o + x] = med;
      if (x === width - 1) break;
      // cols[x] is column x - radius (clamped), cols[x + side] is column x + radius + 1.
      const gone = cols[x], come = cols[x + side];
      for (let j = 0; j < side; j++) {
        const a = img[rows[j] + gone], b = img[rows[j] + come];
        hist[a]--;
        hist[b]++;
        below += (b < med ? 1 : 0) - (a < med ? 1 : 0);
      }
      while (below > half) below -= hist[--med];
      while (below + hist[med] <= half) below += hist[med++];
    }
  }
  return out;
}

const BIN = 0.05;
const BINS = 200;

/**
 * Histograms of z = |x - median| / sigma (sigma: the image's residual std), kept apart for
 * defect and background pixels of each truth, so every threshold k is scored in one pass.
 */
function addResiduals(img: HardnessImage, radius: number, hists: Array<{ defect: Float64Array; back: Float64Array }>): void {
  const med = medianFilter(img.image, img.width, img.height, radius);
  const n = img.image.length;
  let s = 0, s2 = 0;
  for (let i = 0; i < n; i++) { const r = img.image[i] - med[i]; s += r; s2 += r * r; }
  const sigma = Math.sqrt(Math.max(1e-12, s2 / n - (s / n) ** 2));
  const bins = new Uint8Array(n);
  for (let i = 0; i < n; i++) bins[i] = Math.min(BINS - 1, Math.floor(Math.abs(img.image[i] - med[i]) / sigma / BIN));
  for (const [t, truth] of img.truths.entries()) {
    const h = hists[t];
    for (let i = 0; i < n; i++) (truth[i] ? h.defect : h.back)[bins[i]]++;
  }
}

export interface DetectorResult {
  radius: number;
  /** The k with the highest mIoU on the split (Infinity: flagging nothing scored best). */
  bestK: number;
  miou: number;
  counts: SegmentationCounts;
}

/**
 * The naive detector |x - median_(2r+1)| > k * sigma at its best k for this split, scored
 * against each of the images' truths (in their order).
 */
export function naiveDetector(images: readonly HardnessImage[], radius: number): DetectorResult[] {
  const truths = images[0]?.truths.length ?? 0;
  const hists = Array.from({ length: truths }, () => ({ defect: new Float64Array(BINS), back: new Float64Array(BINS) }));
  for (const img of images) addResiduals(img, radius, hists);
  return hists.map(({ defect, back }) => {
    const totalDefect = defect.reduce((a, b) => a + b, 0), totalBack = back.reduce((a, b) => a + b, 0);
    const none = { tp: 0, fp: 0, fn: totalDefect, tn: totalBack };
    let best: DetectorResult = { radius, bestK: Infinity, miou: miou(none), counts: none };
    // Pixels in bins >= b are flagged: the threshold is k = b * BIN.
    let tp = 0, fp = 0;
    for (let b = BINS - 1; b >= 1; b--) {
      tp += defect[b];
      fp += back[b];
      const counts = { tp, fp, fn: totalDefect - tp, tn: totalBack - fp };
      const m = miou(counts);
      if (m > best.miou) best = { radius, bestK: b * BIN, miou: m, counts };
    }
    return best;
  });
}

/** AUROC of a whole-image statistic as a defect score, taken in its better direction. */
export function separability(images: readonly HardnessImage[], stat: 'mean' | 'std'): number {
  const scores = images.map((img) => {
    let s = 0, s2 = 0;
    for (const v of img.image) { s += v; s2 += v * v; }
    const mean = s / img.image.length;
    return stat === 'mean' ? mean : Math.sqrt(Math.max(0, s2 / img.image.length - mean * mean));
  });
  const a = auroc(scores, images.map((i) => i.isDefect));
  return Math.max(a, 1 - a);
}
