import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { augment } from '../../../electron/engine/train/augment.ts';
import { cropWindow, pasteOnCanvas, trainingCanvas } from '../../../electron/engine/train/canvas.ts';
import { pasteDefect } from '../../../electron/engine/train/synthetic-defects.ts';
import { DEFAULT_TRAIN_OPTIONS, train } from '../../../electron/engine/train/train.ts';
import { loadModel } from '../../../electron/engine/model-loader.ts';
import { Explainer } from '../../../electron/engine/explain.ts';
import { readImage } from '../../../electron/data/image-io.ts';
import { renderSample } from '../../../electron/data/synth/render-sample.ts';

/** An H x W image whose every pixel says where it came from: value = (y * W + x) / (H * W). */
function coordinates(height: number, width: number): Float32Array {
  return Float32Array.from({ length: height * width }, (_, i) => i / (height * width));
}

describe('the training canvas', () => {
  it('keeps a square set square at the asked side', () => {
    expect(trainingCanvas([{ width: 900, height: 900 }, { width: 512, height: 512 }], 512)).toEqual({ height: 512, width: 512 });
  });

  it('shapes a set of wide photographs like its median image, about side x side pixels, on the 32-px grid', () => {
    // BSData's 1130 x 460: aspect 2.46, so 800 x 320 (256,000 pixels against 512 x 512's 262,144).
    const sizes = [{ width: 1130, height: 460 }, { width: 1130, height: 460 }, { width: 400, height: 400 }];
    expect(trainingCanvas(sizes, 512)).toEqual({ height: 320, width: 800 });
    // Tall images turn it round; an extreme aspect is capped at 4.
    expect(trainingCanvas([{ width: 460, height: 1130 }], 512)).toEqual({ height: 800, width: 320 });
    expect(trainingCanvas([{ width: 5000, height: 100 }], 512)).toEqual({ height: 256, width: 1024 });
  });
});

describe('crops and synthetic defects on a non-square canvas', () => {
  const canvas = { height: 96, width: 224 };

  it('crop a window whose pixels are the image\'s own, at one place', () => {
    const image = coordinates(canvas.height, canvas.width);
    const crop = cropWindow(image, canvas, 1, 64, 5);
    const origin = Math.round(crop[0] * canvas.height * canvas.width);
    const y0 = Math.floor(origin / canvas.width), x0 = origin % canvas.width;
    expect(y0 + 64).toBeLessThanOrEqual(canvas.height);
    expect(x0 + 64).toBeLessThanOrEqual(canvas.width);
    for (const [y, x] of [[0, 63], [63, 0], [63, 63], [17, 40]]) expect(crop[y * 64 + x]).toBe(image[(y0 + y) * canvas.width + x0 + x]);
    expect(() => cropWindow(image, canvas, 1, 128, 5)).toThrow('a 128-px crop does not fit a 224x96 canvas');
  });

  it('keep the mask aligned with the pixels it marks', () => {
    const texture = Float32Array.from(renderSample('mottled', 5, 224, false).image.subarray(0, canvas.height * canvas.width), (v) => v / 255);
    for (let seed = 0; seed < 6; seed++) {
      const pasted = pasteOnCanvas(texture, canvas, 1, seed);
      expect(pasted.pixels.length).toBe(texture.length);
      expect(pasted.mask.length).toBe(texture.length);
      const covered = pasted.mask.reduce((a, v) => a + v, 0);
      expect(covered, `seed ${seed}`).toBeGreaterThan(0);
      // Every masked pixel is inside one 96 x 96 window, and the mask there is the one
      // pasteDefect draws on that window's own pixels.
      let minX = Infinity, maxX = -Infinity;
      for (let i = 0; i < pasted.mask.length; i++) if (pasted.mask[i]) { minX = Math.min(minX, i % canvas.width); maxX = Math.max(maxX, i % canvas.width); }
      expect(maxX - minX).toBeLessThan(96);
      let changedOutsideWindow = 0;
      let x0 = -1;
      for (let x = 0; x + 96 <= canvas.width && x0 < 0; x++) {
        const window = new Float32Array(96 * 96);
        for (let y = 0; y < 96; y++) window.set(texture.subarray(y * canvas.width + x, y * canvas.width + x + 96), y * 96);
        const own = pasteDefect(window, 96, 1, seed);
        let same = true;
        for (let y = 0; y < 96 && same; y++) for (let k = 0; k < 96; k++) if (own.mask[y * 96 + k] !== pasted.mask[y * canvas.width + x + k]) { same = false; break; }
        if (same && own.mask.some((v) => v)) x0 = x;
      }
      expect(x0, `seed ${seed}: the mask is pasteDefect's on some window`).toBeGreaterThanOrEqual(0);
      for (let i = 0; i < texture.length; i++) {
        const x = i % canvas.width;
        if ((x < x0 || x >= x0 + 96) && pasted.pixels[i] !== texture[i]) changedOutsideWindow++;
      }
      expect(changedOutsideWindow).toBe(0);
    }
  });

  it('are augmented without a quarter turn, which would swap the sides', () => {
    const image = coordinates(canvas.height, canvas.width);
    const opts = { flips: false, rot90: true, brightness: 0, contrast: 0 };
    let halfTurns = 0;
    for (let seed = 0; seed < 16; seed++) {
      const out = augment(image, canvas.height, canvas.width, 1, seed, opts);
      expect(out.length).toBe(image.length);
      if (out[0] === image[0]) expect(out[canvas.width + 3]).toBeCloseTo(image[canvas.width + 3], 6);
      else {
        // A half turn: (0, 0) comes from the last pixel, (1, 3) from (H-2, W-4).
        expect(out[0]).toBeCloseTo(image[image.length - 1], 6);
        expect(out[canvas.width + 3]).toBeCloseTo(image[(canvas.height - 2) * canvas.width + canvas.width - 4], 6);
        halfTurns++;
      }
    }
    expect(halfTurns).toBeGreaterThan(0);
  });
});

describe('training on non-square photographs', { timeout: 300_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'kizu-canvas-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('trains at the set\'s shape, records it, and explains an image at it with maps of the image\'s size', async () => {
    const data = join(root, 'data');
    for (const [label, n] of [['ok', 6], ['defect', 6]] as const) {
      await mkdir(join(data, label), { recursive: true });
      for (let i = 0; i < n; i++) {
        const raw = Buffer.alloc(40 * 100, 100 + i);
        if (label === 'defect') for (let y = 10; y < 20; y++) raw.fill(230, y * 100 + 30, y * 100 + 40);
        await writeFile(join(data, label, `${i}.png`), await sharp(raw, { raw: { width: 100, height: 40, channels: 1 } }).png().toBuffer());
      }
    }
    const out = join(root, 'model');
    await train({ ...DEFAULT_TRAIN_OPTIONS, data, out, epochs: 1, batch: 4, microBatch: 4, inputSize: 64, pretextCrop: 32, width: 4, workers: 0, seed: 1 });
    const model = await loadModel(out);
    // 100 x 40 has aspect 2.5: about 64 x 64 pixels shaped so, on the 32-px grid, is 96 x 32.
    expect(model.manifest.inputSize).toEqual({ policy: 'fixed', height: 32, width: 96 });
    expect(model.manifest.name).toMatch(/-96x32$/);
    // Training ends by fitting the maps' one scale on the validation split.
    expect(model.manifest.mapScale?.methods.layercam.divisor.layer2).toBeGreaterThan(0);
    const explainer = Explainer.fromModel(model);
    model.net.dispose();
    try {
      const result = await explainer.explain(await readImage(join(data, 'defect', '0.png')), { methods: ['layercam'], layers: ['layer2'] });
      expect(result.inputSize).toEqual([32, 96]);
      const map = result.maps.layercam!.layers.layer2!.normalised;
      expect([map.height, map.width]).toEqual([40, 100]);
    } finally {
      explainer.dispose();
    }
  });
});
