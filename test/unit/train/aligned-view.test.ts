import { describe, expect, it } from 'vitest';
import { Rng } from '../../../electron/data/synth/rng.ts';
import { viewMask, viewPixels, viewShape, type View } from '../../../electron/engine/train/aligned-view.ts';
import { maskOnCanvas } from '../../../electron/engine/train/training-masks.ts';
import { maskOnGrid } from '../../../electron/engine/train/synthetic-defects.ts';
import type { Canvas } from '../../../electron/engine/train/canvas.ts';

/** Every pixel says where it came from: value = index / count (exact enough in float32 to round back). */
const coordinates = (n: number) => Float32Array.from({ length: n }, (_, i) => i / n);

function randomMask(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n }, () => (rng.chance(0.2) ? 1 : 0));
}

describe('a real mask under the training augmentation', () => {
  const geometry = { flips: true, rot90: true, brightness: 0, contrast: 0 };
  const cases: Array<{ canvas: Canvas; crop: number | undefined }> = [
    { canvas: { height: 64, width: 64 }, crop: undefined },
    { canvas: { height: 48, width: 112 }, crop: undefined },
    { canvas: { height: 48, width: 112 }, crop: 40 },
    { canvas: { height: 64, width: 64 }, crop: 24 },
  ];

  for (const { canvas, crop } of cases) {
    it(`stays on the pixels it marks: ${canvas.width}x${canvas.height}${crop ? `, ${crop}-px crops` : ''}, flips and turns`, () => {
      const n = canvas.height * canvas.width;
      const image = coordinates(n);
      const mask = randomMask(n, 1);
      let moved = 0;
      for (let seed = 0; seed < 24; seed++) {
        const view: View = { canvas, side: crop, seed, augment: geometry };
        const pixels = viewPixels(image, 1, view);
        const seen = viewMask(mask, view);
        const { shape } = viewShape(canvas, crop);
        expect(seen.length).toBe(shape.height * shape.width);
        for (let p = 0; p < seen.length; p++) {
          const source = Math.round(pixels[p] * n);
          if (source !== p) moved++;
          expect(seen[p], `seed ${seed}, pixel ${p}`).toBe(mask[source]);
        }
      }
      // The views did move pixels (flips, turns, crops), so the check above was not trivial.
      expect(moved).toBeGreaterThan(0);
    });
  }

  it('with photometric jitter on, moves the mask as the pixels move (the jitter does not shift the draws)', () => {
    const canvas = { height: 32, width: 32 };
    const n = 32 * 32;
    // A single bright pixel: after any flip or turn, the brightest output pixel is where it went.
    for (let seed = 0; seed < 16; seed++) {
      const image = new Float32Array(n).fill(0.2);
      const at = 5 * 32 + 9;
      image[at] = 0.9;
      const mask = new Uint8Array(n);
      mask[at] = 1;
      const view: View = { canvas, side: undefined, seed, augment: { flips: true, rot90: true, brightness: 0.1, contrast: 0.2 } };
      const pixels = viewPixels(image, 1, view);
      const brightest = pixels.indexOf(Math.max(...pixels));
      expect(Array.from(viewMask(mask, view)).indexOf(1)).toBe(brightest);
    }
  });
});

describe('a mask resized onto the training canvas', () => {
  it('keeps a 1-px scratch when shrunk 10 times, on the cells it crosses', () => {
    const width = 400, height = 100;
    const bits = new Uint8Array(width * height);
    for (let x = 120; x < 300; x++) bits[37 * width + x] = 1;
    const canvas = { height: 10, width: 40 };
    const small = maskOnCanvas(bits, width, height, canvas);
    const marked = [];
    for (let i = 0; i < small.length; i++) if (small[i]) marked.push([Math.floor(i / 40), i % 40]);
    expect(marked.length).toBe(18);
    expect(marked.every(([y]) => y === 3)).toBe(true);
    expect(marked.map(([, x]) => x)).toEqual(Array.from({ length: 18 }, (_, k) => 12 + k));
    // On a 2 x 8 grid of cells, row 3 of 10 lies in the first row and columns 12-29 of 40 in cells 2-5.
    const grid = maskOnGrid(small, 10, 40, 2, 8);
    expect(Array.from(grid)).toEqual([0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('repeats pixels when enlarged', () => {
    const bits = Uint8Array.from([1, 0, 0, 1]);
    expect(Array.from(maskOnCanvas(bits, 2, 2, { height: 4, width: 4 }))).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
  });
});
