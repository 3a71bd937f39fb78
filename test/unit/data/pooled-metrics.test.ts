import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { averagePrecision } from '../../../electron/data/metrics.ts';
import { POOLED_BINS, PooledPixelMetrics, truthRegions } from '../../../electron/data/pooled-metrics.ts';
import { Rng } from '../../../electron/data/synth/rng.ts';

function pooled(images: Array<{ scores: number[]; truth: number[]; width: number }>): PooledPixelMetrics {
  const m = new PooledPixelMetrics();
  for (const { scores, truth, width } of images) m.add(Float32Array.from(scores), truthRegions(Uint8Array.from(truth), width));
  return m;
}

describe('pixel metrics pooled over every test image', () => {
  // An OK image whose hottest pixel (0.95) outranks both defect pixels of the defective image:
  // per image it would not count, pooled it does.
  const ok = { scores: [0.1, 0.2, 0.95, 0.4], truth: [0, 0, 0, 0], width: 2 };
  const defective = { scores: [0.5, 0.25, 0.1, 0.9], truth: [1, 0, 0, 1], width: 2 };

  it('pools the AUROC over OK images\' pixels: 10 of 12 (defect, background) pairs in order', () => {
    expect(pooled([ok, defective]).auroc()).toBeCloseTo(10 / 12, 12);
    expect(pooled([defective]).auroc()).toBe(1);
  });

  it('computes average precision as sklearn does: recall gained times precision, from the top score down', () => {
    // 0.95 (OK), 0.9 (defect): precision 1/2 at recall 1/2; 0.5 (defect): 2/3 at recall 1.
    expect(pooled([ok, defective]).averagePrecision()).toBeCloseTo(0.5 * (1 / 2) + 0.5 * (2 / 3), 12);
  });

  it('computes AUPRO to FPR 0.3 as MVTec AD\'s reference does', () => {
    // Regions {0, 1} (area 2) and {4} (area 1); negatives 0.7, 0.2 and the OK image's 0.8, 0.1 x 4.
    // Curve: (0, 0.25) to (2/7, 0.25), up to (2/7, 1) at 0.4, flat at 1 on to (3/7, 1).
    const m = pooled([
      { scores: [0.9, 0.6, 0.7, 0.2, 0.4], truth: [1, 1, 0, 0, 1], width: 5 },
      { scores: [0.8, 0.1, 0.1, 0.1, 0.1], truth: [0, 0, 0, 0, 0], width: 5 },
    ]);
    expect(m.regions).toBe(2);
    expect(m.aupro()).toBeCloseTo((0.25 * (2 / 7) + 1 * (0.3 - 2 / 7)) / 0.3, 12);
    // Interpolated inside a segment: to FPR 0.2 the curve is still at 0.25 from 1/7 to 2/7.
    expect(m.aupro(0.2)).toBeCloseTo(0.25, 12);
  });

  it('finds regions with 8-connectivity, as scipy.ndimage.label with a 3x3 structure of ones', () => {
    // (0,0) and (1,1) touch diagonally: one region; (3,3) is another.
    const truth = new Uint8Array(16);
    truth[0] = 1; truth[5] = 1; truth[15] = 1;
    const r = truthRegions(truth, 4);
    expect(r.count).toBe(2);
    expect(r.share[r.labels![0]]).toBe(1 / 2);
    expect(r.share[r.labels![15]]).toBe(1);
  });

  it('leaves metrics it cannot compute as NaN: no defect pixel, no region', () => {
    const m = pooled([ok]);
    expect(m.auroc()).toBeNaN();
    expect(m.averagePrecision()).toBeNaN();
    expect(m.aupro()).toBeNaN();
    expect(m.bestMiouThreshold()).toBeNull();
  });

  it('tunes the mIoU threshold on bin edges over every pixel added, OK images\' included', () => {
    // At 0.5 on the defective image alone: tp 2, nothing else, mIoU 1. With the OK image's 0.95
    // above it, 0.9 gives tp 1 fn 1 fp 1, 0.5 gives tp 2 fp 1: the best stays at or below 0.5.
    const alone = pooled([defective]).bestMiouThreshold()!;
    expect(alone.miou).toBe(1);
    expect(alone.threshold).toBeLessThanOrEqual(0.5);
    expect(alone.threshold).toBeGreaterThan(0.25);
    const both = pooled([ok, defective]).bestMiouThreshold()!;
    // tp 2, fp 1, tn 5: IoU(defect) 2/3, IoU(background) 5/6.
    expect(both.miou).toBeCloseTo((2 / 3 + 5 / 6) / 2, 12);
  });

  it('draws nothing, not everything, when the map finds nothing', () => {
    // A flat zero map: threshold 0 would mark all 8 pixels (mIoU (2/8 + 0) / 2); drawing
    // nothing keeps the background whole (mIoU (0 + 6/8) / 2).
    const flat = pooled([{ scores: [0, 0, 0, 0, 0, 0, 0, 0], truth: [0, 0, 1, 1, 0, 0, 0, 0], width: 4 }]).bestMiouThreshold()!;
    expect(flat.threshold).toBe(1);
    expect(flat.miou).toBeCloseTo(6 / 8 / 2, 12);
  });
});

describe('averagePrecision of image scores', () => {
  it('matches hand-computed values, ties as one threshold', () => {
    expect(averagePrecision([0.9, 0.8, 0.7, 0.6], [true, false, true, false])).toBeCloseTo(0.5 + 0.5 * (2 / 3), 12);
    expect(averagePrecision([0.5, 0.5, 0.1], [true, false, true])).toBeCloseTo(0.5 * 0.5 + 0.5 * (2 / 3), 12);
    expect(averagePrecision([0.1, 0.2], [false, true])).toBe(1);
  });
});

function sklearnPresent(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import sklearn, scipy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// MVTec AD's compute_pro and trapezoid (pro_curve_util.py, generic_util.py), abridged, beside sklearn.
const REFERENCE = `
import json, sys
import numpy as np
from scipy.ndimage import label
from sklearn.metrics import roc_auc_score, average_precision_score
d = json.load(sys.stdin)
maps = [np.array(i['scores'], dtype=np.float64).reshape(i['height'], i['width']) for i in d]
gts = [np.array(i['truth'], dtype=np.uint8).reshape(i['height'], i['width']) for i in d]
scores = np.concatenate([m.ravel() for m in maps]); truth = np.concatenate([g.ravel() for g in gts])
fp_change, pro_change, regions, ok = [], [], 0, 0
for g in gts:
    lab, n = label(g, np.ones((3, 3), dtype=int))
    regions += n; ok += np.sum(lab == 0)
    f = (lab == 0).astype(np.float64); p = np.zeros(g.shape)
    for k in range(n):
        r = lab == k + 1; p[r] = 1.0 / np.sum(r)
    fp_change.append(f.ravel()); pro_change.append(p.ravel())
order = np.argsort(scores, kind='stable')[::-1]
s = scores[order]
fprs = np.cumsum(np.concatenate(fp_change)[order]) / ok
pros = np.cumsum(np.concatenate(pro_change)[order]) / regions
keep = np.append(np.diff(s) != 0, True)
fprs = np.concatenate(([0.0], np.clip(fprs[keep], None, 1), [1.0])); pros = np.concatenate(([0.0], np.clip(pros[keep], None, 1), [1.0]))
def trapezoid(x, y, x_max):
    correction = 0.0
    if x_max not in x:
        ins = np.searchsorted(x, x_max, side='right')
        y_interp = y[ins - 1] + (y[ins] - y[ins - 1]) * (x_max - x[ins - 1]) / (x[ins] - x[ins - 1])
        correction = 0.5 * (y_interp + y[ins - 1]) * (x_max - x[ins - 1])
    m = x <= x_max
    return np.sum(0.5 * (y[m][1:] + y[m][:-1]) * (x[m][1:] - x[m][:-1])) + correction
print(json.dumps({'auroc': roc_auc_score(truth, scores), 'ap': average_precision_score(truth, scores), 'aupro': trapezoid(fprs, pros, 0.3) / 0.3}))
`;

describe('pooled pixel metrics against sklearn and MVTec AD\'s reference', () => {
  it('agree on seeded random maps with blob masks and OK images', (ctx) => {
    if (!sklearnPresent()) {
      ctx.skip('python3 with sklearn and scipy is not installed (apt-get install python3-sklearn); the hand-computed cases above still run');
      return;
    }
    const rng = new Rng(2107);
    const images = Array.from({ length: 8 }, (_, n) => {
      const width = rng.int(9, 20), height = rng.int(7, 16);
      const truth = new Array<number>(width * height).fill(0);
      const blobs = n % 3 === 0 ? 0 : rng.int(1, 3);
      for (let b = 0; b < blobs; b++) {
        const x0 = rng.int(0, width - 3), y0 = rng.int(0, height - 3), w = rng.int(1, 5), h = rng.int(1, 4);
        for (let y = y0; y < Math.min(height, y0 + h); y++) for (let x = x0; x < Math.min(width, x0 + w); x++) truth[y * width + x] = 1;
      }
      // Scores on the bins' grid (k / 65536), so binning loses nothing; few levels make ties.
      const scores = truth.map((t) => ((rng.int(0, 40) + (t ? rng.int(0, 20) : 0)) * 1024 + rng.int(0, 3)) / POOLED_BINS);
      return { scores, truth, width, height };
    });
    const want = JSON.parse(execFileSync('/usr/bin/python3', ['-c', REFERENCE], { input: JSON.stringify(images) }).toString()) as { auroc: number; ap: number; aupro: number };
    const m = pooled(images);
    expect(m.auroc()).toBeCloseTo(want.auroc, 10);
    expect(m.averagePrecision()).toBeCloseTo(want.ap, 10);
    expect(m.aupro()).toBeCloseTo(want.aupro, 10);
  });

  it('chooses only among thresholds at or above a floor', () => {
    // Unbounded, an OK image and a defective one are best cut at or below 0.5; with a floor of 0.96
    // the OK image's 0.95 is left dark and the best candidate above it is drawing nothing.
    const m = pooled([{ scores: [0.1, 0.2, 0.95, 0.4], truth: [0, 0, 0, 0], width: 2 }, { scores: [0.5, 0.25, 0.1, 0.9], truth: [1, 0, 0, 1], width: 2 }]);
    expect(m.bestMiouThreshold()!.threshold).toBeLessThanOrEqual(0.5);
    const floored = m.bestMiouThreshold(0.96)!;
    expect(floored.threshold).toBeGreaterThanOrEqual(0.96);
    expect(floored.threshold).toBe(1);
  });
});

