import { describe, expect, it } from 'vitest';
import { averageWeights } from '../../../electron/engine/train/weight-average.ts';

describe('averageWeights', () => {
  it('is the element-wise mean, whatever the order of the epochs', () => {
    const a = Float32Array.from([1, -2, 0.1, 1e8]);
    const b = Float32Array.from([3, 2, 0.2, 1]);
    const c = Float32Array.from([5, 3, 0.3, -1e8]);
    const mean = averageWeights([a, b, c]);
    expect(Array.from(mean)).toEqual(Array.from(Float32Array.from([3, 1, 0.2, 1 / 3])));
    expect(Array.from(averageWeights([c, a, b]))).toEqual(Array.from(mean));
  });

  it('refuses nothing to average and vectors of different lengths, saying which', () => {
    expect(() => averageWeights([])).toThrow(/no parameters/);
    expect(() => averageWeights([new Float32Array(3), new Float32Array(4)])).toThrow(/3 and 4/);
  });
});
