import { describe, expect, it } from 'vitest';
import { auroc, emptyCounts, iouBackground, iouDefect, miou, segmentationCounts } from '../../../electron/data/metrics.ts';
import { Rng } from '../../../electron/data/synth/rng.ts';

describe('segmentation counts and mIoU', () => {
  it('counts one image', () => {
    const c = segmentationCounts([1, 1, 0, 0, 255, 0], [1, 0, 1, 0, 7, 0]);
    expect(c).toEqual({ tp: 2, fp: 1, fn: 1, tn: 2 });
    expect(iouDefect(c)).toBeCloseTo(2 / 4);
    expect(iouBackground(c)).toBeCloseTo(2 / 4);
    expect(miou(c)).toBeCloseTo(0.5);
  });

  it('accumulates over a split before dividing (not a mean of per-image IoUs)', () => {
    const acc = emptyCounts();
    segmentationCounts([1, 0, 0, 0], [1, 0, 0, 0], acc); // perfect
    segmentationCounts([0, 0, 0, 0], [1, 1, 1, 0], acc); // missed 3
    expect(acc).toEqual({ tp: 1, fp: 0, fn: 3, tn: 4 });
    expect(iouDefect(acc)).toBeCloseTo(1 / 4);
    expect(iouBackground(acc)).toBeCloseTo(4 / 7);
    expect(miou(acc)).toBeCloseTo((1 / 4 + 4 / 7) / 2);
  });

  it('scores a class absent from both truth and prediction as perfect', () => {
    const c = segmentationCounts([0, 0], [0, 0]);
    expect(iouDefect(c)).toBe(1);
    expect(miou(c)).toBe(1);
  });

  it('rejects mismatched sizes', () => {
    expect(() => segmentationCounts([0, 1], [0])).toThrow(/2 pixels, truth has 1/);
  });
});

describe('auroc', () => {
  it('is 1 for perfect separation, 0 for reversed, 0.5 for all ties', () => {
    expect(auroc([0.1, 0.2, 0.8, 0.9], [false, false, true, true])).toBe(1);
    expect(auroc([0.9, 0.8, 0.2, 0.1], [false, false, true, true])).toBe(0);
    expect(auroc([3, 3, 3, 3], [false, true, false, true])).toBe(0.5);
  });

  it('matches the pairwise definition, ties counting half', () => {
    const rng = new Rng(42);
    const scores = Array.from({ length: 60 }, () => rng.int(0, 9));
    const labels = scores.map(() => rng.chance(0.4));
    let wins = 0, pairs = 0;
    for (let i = 0; i < scores.length; i++) {
      for (let j = 0; j < scores.length; j++) {
        if (!labels[i] || labels[j]) continue;
        pairs++;
        wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
    }
    expect(auroc(scores, labels)).toBeCloseTo(wins / pairs, 12);
  });

  it('needs both classes', () => {
    expect(() => auroc([1, 2], [true, true])).toThrow(/at least one positive and one negative/);
  });
});
