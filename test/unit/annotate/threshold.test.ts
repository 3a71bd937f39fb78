import { describe, expect, it } from 'vitest';
import { cleanMask, maskFromMap } from '../../../electron/annotate/cleanup.ts';
import { fillHoles } from '../../../electron/annotate/fill-holes.ts';
import { countForeground } from '../../../electron/annotate/mask.ts';
import { closeMask, dilate, erode, openMask } from '../../../electron/annotate/morphology.ts';
import { thresholdMap, thresholdValue } from '../../../electron/annotate/threshold.ts';
import type { Mask, ScoreMap } from '../../../electron/annotate/types.ts';
import { blobMap, maskFromRows, rng } from './synthetic.ts';

function mapOf(width: number, height: number, values: number[]): ScoreMap {
  return { width, height, data: Float32Array.from(values) };
}

function rows(mask: Mask): string[] {
  const out: string[] = [];
  for (let y = 0; y < mask.height; y++) {
    let r = '';
    for (let x = 0; x < mask.width; x++) r += mask.data[y * mask.width + x] ? '1' : '.';
    out.push(r);
  }
  return out;
}

/** Disc morphology by brute force, the definition the fast one must match. */
function bruteErode(mask: Mask, r: number): Mask {
  const { width: w, height: h } = mask;
  const out = new Uint8Array(w * h);
  const ri = Math.floor(r);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let keep = 1;
      for (let dy = -ri; dy <= ri && keep; dy++) {
        for (let dx = -ri; dx <= ri; dx++) {
          if (dx * dx + dy * dy > r * r) continue;
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          if (!mask.data[yy * w + xx]) {
            keep = 0;
            break;
          }
        }
      }
      out[y * w + x] = keep;
    }
  }
  return { width: w, height: h, data: out };
}

function bruteDilate(mask: Mask, r: number): Mask {
  const inverted = { ...mask, data: mask.data.map((v) => (v ? 0 : 1)) };
  const e = bruteErode(inverted, r);
  // Outside counts as background for dilation, so the border must not be eroded in the dual.
  const { width: w, height: h } = mask;
  const out = new Uint8Array(w * h);
  const ri = Math.floor(r);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let hit = 0;
      for (let dy = -ri; dy <= ri && !hit; dy++) {
        for (let dx = -ri; dx <= ri; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (dx * dx + dy * dy > r * r || xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          if (mask.data[yy * w + xx]) {
            hit = 1;
            break;
          }
        }
      }
      out[y * w + x] = hit;
    }
  }
  expect(e.data.length).toBe(out.length);
  return { width: w, height: h, data: out };
}

function randomMask(w: number, h: number, seed: number, density: number): Mask {
  const r = rng(seed);
  const data = new Uint8Array(w * h);
  for (let i = 0; i < data.length; i++) data[i] = r() < density ? 1 : 0;
  return { width: w, height: h, data };
}

describe('threshold methods', () => {
  const map = mapOf(4, 2, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.8, 1]);

  it('cuts at a fixed value, inclusive', () => {
    const { mask, threshold } = thresholdMap(map, { kind: 'value', value: 0.4 });
    expect(threshold).toBe(0.4);
    expect(Array.from(mask.data)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
  });

  it('cuts at a fraction of the maximum', () => {
    const half = mapOf(2, 2, [0.1, 0.2, 0.39, 0.8]);
    expect(thresholdValue(half, { kind: 'fraction-of-max', fraction: 0.5 })).toBeCloseTo(0.4, 6);
    expect(Array.from(thresholdMap(half, { kind: 'fraction-of-max', fraction: 0.5 }).mask.data)).toEqual([0, 0, 0, 1]);
    expect(countForeground(thresholdMap(mapOf(2, 1, [0, 0]), { kind: 'fraction-of-max', fraction: 0.5 }).mask)).toBe(0);
  });

  it('keeps the top percent of pixels', () => {
    const values = Array.from({ length: 100 }, (_, i) => i / 99);
    const m = mapOf(10, 10, values);
    expect(countForeground(thresholdMap(m, { kind: 'top-percent', percent: 5 }).mask)).toBe(5);
    expect(countForeground(thresholdMap(m, { kind: 'top-percent', percent: 0.1 }).mask)).toBe(1);
    expect(countForeground(thresholdMap(m, { kind: 'top-percent', percent: 100 }).mask)).toBe(100);
    expect(thresholdValue(m, { kind: 'top-percent', percent: 5 })).toBe(Math.fround(95 / 99));
  });

  it('top percent matches a sort on a large map', () => {
    const m = blobMap(256, 256, 11);
    for (const percent of [1, 7.5, 30]) {
      const k = Math.ceil((m.data.length * percent) / 100);
      const sorted = Float32Array.from(m.data).sort();
      expect(thresholdValue(m, { kind: 'top-percent', percent })).toBe(sorted[sorted.length - k]);
    }
  });

  it('splits a bimodal map between its modes with Otsu', () => {
    const r = rng(3);
    const values = Array.from({ length: 400 }, (_, i) => (i < 300 ? 0.1 + 0.1 * r() : 0.7 + 0.1 * r()));
    const m = mapOf(20, 20, values);
    const t = thresholdValue(m, { kind: 'otsu' });
    expect(t).toBeGreaterThan(0.2);
    expect(t).toBeLessThanOrEqual(0.7);
    expect(countForeground(thresholdMap(m, { kind: 'otsu' }).mask)).toBe(100);
  });

  it('rejects out-of-range parameters', () => {
    expect(() => thresholdValue(map, { kind: 'fraction-of-max', fraction: 0 })).toThrow(/fraction-of-max/);
    expect(() => thresholdValue(map, { kind: 'top-percent', percent: 101 })).toThrow(/top-percent/);
    expect(() => thresholdValue(map, { kind: 'value', value: Number.NaN })).toThrow(/finite/);
    expect(() => thresholdValue({ width: 3, height: 3, data: new Float32Array(4) }, { kind: 'otsu' })).toThrow(/needs 9/);
  });
});

describe('morphology with a disc', () => {
  it('erodes and dilates exactly as the disc definition says', () => {
    for (const [seed, r] of [[1, 1], [2, 1.5], [3, 2], [4, 3.2]] as const) {
      const m = randomMask(23, 17, seed, 0.7);
      expect(erode(m, r).data).toEqual(bruteErode(m, r).data);
      const sparse = randomMask(23, 17, seed + 10, 0.08);
      expect(dilate(sparse, r).data).toEqual(bruteDilate(sparse, r).data);
    }
  });

  it('opening drops specks and stays inside the mask; closing fills small gaps', () => {
    const m = maskFromRows([
      '............',
      '.111111.....',
      '.111111...1.',
      '.111.11.....',
      '.111111.....',
      '.111111.....',
      '.111111.....',
      '............',
    ]);
    const opened = openMask(m, 1.5);
    expect(opened.data[2 * 12 + 10]).toBe(0);
    expect(opened.data.every((v, i) => v <= m.data[i])).toBe(true);
    expect(openMask(opened, 1.5).data).toEqual(opened.data);
    const closed = closeMask(m, 1.5);
    expect(closed.data[3 * 12 + 4]).toBe(1);
    expect(closed.data.every((v, i) => v >= m.data[i])).toBe(true);
    expect(closed.data[2 * 12 + 8]).toBe(0);
  });

  it('does not erode from the image border', () => {
    const full = { width: 5, height: 5, data: new Uint8Array(25).fill(1) };
    expect(countForeground(erode(full, 2))).toBe(25);
  });
});

describe('clean-up', () => {
  it('fills holes but not bays open to the border', () => {
    const m = maskFromRows([
      '.....',
      '.111.',
      '.1.1.',
      '.111.',
      '..1..',
      '.1.1.',
    ]);
    expect(rows(fillHoles(m))).toEqual(['.....', '.111.', '.111.', '.111.', '..1..', '.1.1.']);
  });

  it('treats a diagonal gap as closed, since regions are 8-connected', () => {
    const m = maskFromRows(['.1.', '1.1', '.1.']);
    expect(rows(fillHoles(m))).toEqual(['.1.', '111', '.1.']);
  });

  it('fills random masks exactly as a flood fill from the border does', () => {
    for (const seed of [5, 6, 7]) {
      const m = randomMask(31, 23, seed, 0.55);
      const { width: w, height: h } = m;
      const outside = new Uint8Array(w * h);
      const stack: number[] = [];
      for (let i = 0; i < w * h; i++) {
        const x = i % w;
        const y = (i - x) / w;
        if ((x === 0 || y === 0 || x === w - 1 || y === h - 1) && !m.data[i]) {
          outside[i] = 1;
          stack.push(i);
        }
      }
      while (stack.length) {
        const i = stack.pop() as number;
        const x = i % w;
        for (const j of [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, i - w, i + w]) {
          if (j >= 0 && j < w * h && !m.data[j] && !outside[j]) {
            outside[j] = 1;
            stack.push(j);
          }
        }
      }
      expect(fillHoles(m).data).toEqual(outside.map((o) => 1 - o));
    }
  });

  it('drops components below the minimum area', () => {
    const m = maskFromRows(['11..1', '11...', '.....', '...11']);
    expect(rows(cleanMask(m, { minArea: 2 }))).toEqual(['11...', '11...', '.....', '...11']);
    expect(rows(cleanMask(m, { minArea: 3 }))).toEqual(['11...', '11...', '.....', '.....']);
  });

  it('maskFromMap chains threshold and clean-up', () => {
    const map = blobMap(128, 128, 5);
    const raw = thresholdMap(map, { kind: 'value', value: 0.4 }).mask;
    const { mask, threshold } = maskFromMap(map, {
      threshold: { kind: 'value', value: 0.4 },
      cleanup: { openRadius: 1, closeRadius: 2, fillHoles: true, minArea: 20 },
    });
    expect(threshold).toBe(0.4);
    const expected = cleanMask(raw, { openRadius: 1, closeRadius: 2, fillHoles: true, minArea: 20 });
    expect(mask.data).toEqual(expected.data);
    expect(countForeground(mask)).toBeGreaterThan(0);
    expect(() => cleanMask(raw, { openRadius: -1 })).toThrow(/openRadius/);
  });
});
