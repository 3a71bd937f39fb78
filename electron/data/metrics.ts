/** Pixel counts of a binary segmentation against the truth; nonzero means "defect". */
export interface SegmentationCounts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export function emptyCounts(): SegmentationCounts {
  return { tp: 0, fp: 0, fn: 0, tn: 0 };
}

/**
 * Counts one image's pixels. Pass `into` to accumulate a whole split: Kizu's mIoU is computed
 * from counts summed over the split, not averaged per image.
 */
export function segmentationCounts(
  predicted: ArrayLike<number>,
  truth: ArrayLike<number>,
  into: SegmentationCounts = emptyCounts(),
): SegmentationCounts {
  if (predicted.length !== truth.length) {
    throw new Error(`segmentationCounts: prediction has ${predicted.length} pixels, truth has ${truth.length}`);
  }
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < predicted.length; i++) {
    const p = predicted[i] !== 0, t = truth[i] !== 0;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  into.tp += tp;
  into.fp += fp;
  into.fn += fn;
  into.tn += predicted.length - tp - fp - fn;
  return into;
}

/** IoU of one class; a class absent from both prediction and truth is perfectly segmented (1). */
function iou(hit: number, union: number): number {
  return union === 0 ? 1 : hit / union;
}

export function iouDefect(c: SegmentationCounts): number {
  return iou(c.tp, c.tp + c.fp + c.fn);
}

export function iouBackground(c: SegmentationCounts): number {
  return iou(c.tn, c.tn + c.fp + c.fn);
}

/** Kizu's mIoU: the mean of IoU(defect) and IoU(background). */
export function miou(c: SegmentationCounts): number {
  return (iouDefect(c) + iouBackground(c)) / 2;
}

/**
 * Area under the ROC curve (Mann-Whitney U, ties counted half): the probability that a random
 * positive scores above a random negative.
 */
export function auroc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  if (scores.length !== positive.length) throw new Error('auroc: scores and labels differ in length');
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let nPos = 0, rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (positive[order[k]]) { nPos++; rankSum += midRank; }
    }
    i = j + 1;
  }
  const nNeg = scores.length - nPos;
  if (nPos === 0 || nNeg === 0) throw new Error('auroc: needs at least one positive and one negative');
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

const HISTOGRAM_BINS = 1024;

/** Pixel scores binned by value: an exact-to-1/1024 ROC over millions of pixels in fixed memory. */
export class PixelRoc {
  readonly pos = new Float64Array(HISTOGRAM_BINS);
  readonly neg = new Float64Array(HISTOGRAM_BINS);

  add(scores: Float32Array, truth: Uint8Array): void {
    for (let i = 0; i < scores.length; i++) {
      const bin = Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(scores[i] * HISTOGRAM_BINS)));
      if (truth[i]) this.pos[bin]++;
      else this.neg[bin]++;
    }
  }

  auroc(): number {
    let negBelow = 0;
    let area = 0;
    let totalPos = 0;
    let totalNeg = 0;
    for (let b = 0; b < HISTOGRAM_BINS; b++) {
      area += this.pos[b] * (negBelow + this.neg[b] / 2);
      negBelow += this.neg[b];
      totalPos += this.pos[b];
      totalNeg += this.neg[b];
    }
    return totalPos && totalNeg ? area / (totalPos * totalNeg) : NaN;
  }
}

/**
 * Average precision as sklearn's average_precision_score: over the distinct scores from the
 * highest down, the recall gained at each times the precision there (no interpolation).
 */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  if (scores.length !== positive.length) throw new Error('averagePrecision: scores and labels differ in length');
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let nPos = 0;
  for (let i = 0; i < positive.length; i++) if (positive[i]) nPos++;
  if (nPos === 0) throw new Error('averagePrecision: needs at least one positive');
  let tp = 0, fp = 0, ap = 0;
  for (let i = 0; i < order.length;) {
    let gained = 0;
    let j = i;
    for (; j < order.length && scores[order[j]] === scores[order[i]]; j++) {
      if (positive[order[j]]) gained++;
      else fp++;
    }
    tp += gained;
    ap += (gained / nPos) * (tp / (tp + fp));
    i = j;
  }
  return ap;
}
