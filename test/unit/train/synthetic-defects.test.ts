import { describe, expect, it } from 'vitest';
import { renderSample } from '../../../electron/data/synth/render-sample.ts';
import { maskOnGrid, PASTE_FILLS, pasteDefect, rescaledSurface } from '../../../electron/engine/train/synthetic-defects.ts';

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

  it('use every fill over a few seeds', () => {
    const img = okImage();
    const fills = new Set<string>();
    for (let seed = 0; seed < 30; seed++) for (const kind of pasteDefect(img, SIZE, 1, seed).kinds) fills.add(kind.split('/')[1]);
    expect([...fills].sort()).toEqual([...PASTE_FILLS].sort());
  });

  it('rescale the surface: twice the frequency or half of it, grey levels kept', () => {
    const period = 16;
    const stripes = new Float32Array(SIZE * SIZE);
    for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) stripes[y * SIZE + x] = Math.sin((2 * Math.PI * (x + 0.5)) / period);
    const crossings = (field: Float32Array, row: number) => {
      let n = 0;
      for (let x = 1; x < SIZE; x++) if ((field[row * SIZE + x] < 0) !== (field[row * SIZE + x - 1] < 0)) n++;
      return n;
    };
    const original = crossings(stripes, 40);
    expect(original).toBeGreaterThanOrEqual(15);
    const finer = rescaledSurface(stripes, SIZE, 2, 64, 64);
    const coarser = rescaledSurface(stripes, SIZE, 0.5, 64, 64);
    expect(crossings(finer, 40)).toBeGreaterThanOrEqual(2 * original - 2);
    expect(crossings(coarser, 40)).toBeLessThanOrEqual(original / 2 + 2);
    expect(crossings(coarser, 40)).toBeGreaterThanOrEqual(original / 2 - 2);
    for (const field of [finer, coarser]) {
      expect(Math.max(...field)).toBeLessThanOrEqual(1);
      expect(Math.min(...field)).toBeGreaterThanOrEqual(-1);
      expect(Math.max(...field)).toBeGreaterThan(0.9);
    }
    expect(Array.from(rescaledSurface(stripes, SIZE, 1, 10, 20))).toEqual(Array.from(stripes));
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
