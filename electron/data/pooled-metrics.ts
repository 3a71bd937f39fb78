import { labelComponents } from '../annotate/components.ts';

/**
 * Bins over [0, 1]. A power of two, so a score k / BINS lands exactly in bin k: metrics of
 * scores on that grid are exact, and of any other scores exact to 1/65536 (a map divided by
 * its model's validation maximum may use only a small part of [0, 1]; 1024 bins were too few).
 */
export const POOLED_BINS = 65536;

/** The false-positive rate up to which AUPRO integrates, as MVTec AD and anomalib report it. */
export const AUPRO_FPR_LIMIT = 0.3;

export function binOf(score: number): number {
  return Math.min(POOLED_BINS - 1, Math.max(0, Math.floor(score * POOLED_BINS)));
}

/** An image's truth as AUPRO needs it: defect pixels, their 8-connected regions, 1 / each region's area. */
export interface TruthRegions {
  defect: Uint8Array;
  /** Region label per pixel (1-based), null when the image has no defect pixel. */
  labels: Int32Array | null;
  /** share[label] = 1 / the region's area; share[0] is unused. */
  share: number[];
  count: number;
}

/** `truth` is nonzero on defect pixels, row-major with rows of `width`. */
export function truthRegions(truth: Uint8Array, width: number): TruthRegions {
  if (width <= 0 || truth.length % width !== 0) throw new Error(`truthRegions: ${truth.length} pixels do not make rows of ${width}`);
  const defect = new Uint8Array(truth.length);
  let any = false;
  for (let i = 0; i < truth.length; i++) if (truth[i] !== 0) { defect[i] = 1; any = true; }
  if (!any) return { defect, labels: null, share: [0], count: 0 };
  const { labels, components } = labelComponents({ width, height: truth.length / width, data: defect });
  return { defect, labels, share: [0, ...components.map((c) => 1 / c.area)], count: components.length };
}

/**
 * Pixel metrics pooled over every image of a split on one score scale in [0, 1], the field's
 * protocol (MVTec AD, anomalib): pixel AUROC, pixel average precision and AUPRO, in fixed
 * memory however many pixels are added. An OK image is added with an all-zero truth.
 *
 * AUPRO follows MVTec AD's reference (pro_curve_util.py): the truth's regions are its
 * 8-connected components (scipy.ndimage.label with a 3x3 structure of ones); at each threshold
 * the PRO is the mean over all regions of the share of the region's pixels scored at or above
 * it, the false-positive rate is over every truth-negative pixel of every image, and the curve,
 * from (0, 0) to (1, 1), is integrated by trapezoids up to FPR 0.3 (interpolated there) and
 * divided by 0.3. Weighting each region's pixels by 1 / its area turns the mean over regions
 * into one histogram, so no per-region state is kept.
 */
export class PooledPixelMetrics {
  private readonly pos = new Float64Array(POOLED_BINS);
  private readonly neg = new Float64Array(POOLED_BINS);
  /** Per bin, the sum over its truth pixels of 1 / (area of the pixel's region). */
  private readonly regionShare = new Float64Array(POOLED_BINS);
  private regionCount = 0;

  /** Adds one image's scores against its truth's regions (one truthRegions serves every map of the image). */
  add(scores: ArrayLike<number>, truth: TruthRegions): void {
    if (scores.length !== truth.defect.length) throw new Error(`PooledPixelMetrics: ${scores.length} scores but ${truth.defect.length} truth pixels`);
    this.regionCount += truth.count;
    for (let i = 0; i < scores.length; i++) {
      const bin = binOf(scores[i]);
      if (truth.defect[i]) {
        this.pos[bin]++;
        this.regionShare[bin] += truth.share[truth.labels![i]];
      } else {
        this.neg[bin]++;
      }
    }
  }

  get regions(): number {
    return this.regionCount;
  }

  private totals(): { pos: number; neg: number } {
    let pos = 0, neg = 0;
    for (let b = 0; b < POOLED_BINS; b++) { pos += this.pos[b]; neg += this.neg[b]; }
    return { pos, neg };
  }

  /** Pixel AUROC, ties counted half (sklearn's roc_auc_score); NaN without both classes. */
  auroc(): number {
    const { pos, neg } = this.totals();
    if (pos === 0 || neg === 0) return NaN;
    let negBelow = 0, area = 0;
    for (let b = 0; b < POOLED_BINS; b++) {
      area += this.pos[b] * (negBelow + this.neg[b] / 2);
      negBelow += this.neg[b];
    }
    return area / (pos * neg);
  }

  /**
   * Average precision as sklearn's average_precision_score: the sum over thresholds, from the
   * highest score down, of the recall gained times the precision there; NaN without defect pixels.
   */
  averagePrecision(): number {
    const { pos } = this.totals();
    if (pos === 0) return NaN;
    let tp = 0, fp = 0, ap = 0;
    for (let b = POOLED_BINS - 1; b >= 0; b--) {
      if (this.pos[b] === 0 && this.neg[b] === 0) continue;
      tp += this.pos[b];
      fp += this.neg[b];
      ap += (this.pos[b] / pos) * (tp / (tp + fp));
    }
    return ap;
  }

  /** Normalised area under the PRO curve up to `fprLimit`; NaN without regions or negatives. */
  aupro(fprLimit = AUPRO_FPR_LIMIT): number {
    const { neg } = this.totals();
    if (this.regionCount === 0 || neg === 0) return NaN;
    let fprPrev = 0, proPrev = 0, negAbove = 0, shareAbove = 0, area = 0;
    for (let b = POOLED_BINS - 1; b >= 0; b--) {
      if (this.pos[b] === 0 && this.neg[b] === 0) continue;
      negAbove += this.neg[b];
      shareAbove += this.regionShare[b];
      const fpr = Math.min(1, negAbove / neg);
      const pro = Math.min(1, shareAbove / this.regionCount);
      if (fpr >= fprLimit) {
        const proAtLimit = fpr === fprPrev ? pro : proPrev + ((pro - proPrev) * (fprLimit - fprPrev)) / (fpr - fprPrev);
        return (area + ((proPrev + proAtLimit) / 2) * (fprLimit - fprPrev)) / fprLimit;
      }
      area += ((proPrev + pro) / 2) * (fpr - fprPrev);
      fprPrev = fpr;
      proPrev = pro;
    }
    // Every pixel counted and the rate still short of the limit cannot happen (it ends at 1).
    throw new Error('PooledPixelMetrics.aupro: the false-positive rate never reached its limit');
  }

  /**
   * The threshold on the bins' edges that maximises Kizu's mIoU (mean of IoU(defect) and
   * IoU(background)) over the pixels added; null without defect pixels. Drawing (almost)
   * nothing, threshold 1, is a candidate too: a map that finds nothing must not get threshold 0,
   * which would mark every pixel of every image. Thresholds under `atLeast` are not candidates.
   */
  bestMiouThreshold(atLeast = 0): { threshold: number; miou: number } | null {
    const { pos, neg } = this.totals();
    if (pos === 0) return null;
    let tp = 0, fp = 0;
    let best = { threshold: 1, miou: neg / (neg + pos) / 2 };
    for (let b = POOLED_BINS - 1; b >= 0 && b / POOLED_BINS >= atLeast; b--) {
      tp += this.pos[b];
      fp += this.neg[b];
      if (this.pos[b] === 0 && this.neg[b] === 0) continue;
      const fn = pos - tp, tn = neg - fp;
      const iouDefect = tp / (tp + fp + fn);
      const iouBackground = tn + fp + fn === 0 ? 1 : tn / (tn + fp + fn);
      const m = (iouDefect + iouBackground) / 2;
      if (m > best.miou) best = { threshold: b / POOLED_BINS, miou: m };
    }
    return best;
  }
}
