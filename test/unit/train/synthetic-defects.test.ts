import { describe, expect, it } from 'vitest';
import { renderSample } from '../../../electron/data/synth/render-sample.ts';
import { maskOnGrid, pasteDefect } from '../../../electron/engine/train/synthetic-defects.ts';

const SIZE = 128;
const okImage = (): Float32Array => Float32Array.from(renderSample('mottled', 5, SIZE, false).image, (v) => v / 255);

describe('synthetic defects for the pretext', () => {
  it('are the same for the same seed and differ for another', () => {
    const img = okImage();
    const a = pasteDefect(img, SIZE, 1, 42);
    const b = pasteDefect(img, SIZE, 1, 42);
    const c = pasteDefect(img, SIZE, 1, 43);
    expect(Buffer.from(a.pixels.buffer).equals(Buffer.from(b.pixels.buffer))).toBe(true);
    expect(Buffer.from(a.mask).equals(Buffer.from(b.mask))).toBe(true);
    expect(Buffer.from(a.mask).equals(Buffer.from(c.mask))).toBe(false);
  });

  it('change the image where the mask says, in range, and leave the input untouched', () => {
    const img = okImage();
    const copy = Float32Array.from(img);
    for (let seed = 0; seed < 20; seed++) {
      const { pixels, mask } = pasteDefect(img, SIZE, 1, seed);
      const covered = mask.reduce((a, v) => a + v, 0);
      expect(covered, `seed ${seed}`).toBeGreaterThan(0);
      let inside = 0;
      let outside = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < mask.length; i++) {
        const d = Math.abs(pixels[i] - img[i]);
        if (mask[i]) inside += d;
        else outside += d;
        lo = Math.min(lo, pixels[i]);
        hi = Math.max(hi, pixels[i]);
      }
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      expect(inside / covered, `seed ${seed}`).toBeGreaterThan(outside / (mask.length - covered));
    }
    expect(img).toEqual(copy);
  });

  it('work on colour images, channel by channel', () => {
    const grey = okImage();
    const rgb = new Float32Array(grey.length * 3);
    grey.forEach((v, i) => rgb.fill(v, i * 3, i * 3 + 3));
    const { pixels, mask } = pasteDefect(rgb, SIZE, 3, 9);
    const i = mask.indexOf(1);
    expect(pixels[i * 3]).toBeCloseTo(pixels[i * 3 + 2], 6);
    expect(pixels.length).toBe(rgb.length);
  });

  it('map onto the layer4 grid: a cell is defective when any of its pixels is', () => {
    const mask = new Uint8Array(64 * 64);
    mask[5 * 64 + 40] = 1;
    const grid = maskOnGrid(mask, 64, 64, 2, 2);
    expect(Array.from(grid)).toEqual([0, 1, 0, 0]);
    // 64 rows x 128 columns on 2 x 4 cells: (row 5, column 100) is in row 0, column 3.
    const wide = new Uint8Array(64 * 128);
    wide[5 * 128 + 100] = 1;
    expect(Array.from(maskOnGrid(wide, 64, 128, 2, 4))).toEqual([0, 0, 0, 1, 0, 0, 0, 0]);
  });
});
