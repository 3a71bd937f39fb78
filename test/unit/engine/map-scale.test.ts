import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../electron/engine/backend.ts';
import { CAM_METHODS } from '../../../electron/engine/cam/types.ts';
import { Explainer } from '../../../electron/engine/explain.ts';
import { MAP_SCALE_EXPLAIN, MapScaleFitter, OK_IMAGES_DRAWN, okImageFloor } from '../../../electron/engine/fit-map-scale.ts';
import { initialiseResNet } from '../../../electron/engine/init-weights.ts';
import { MANIFEST_SCHEMA_VERSION, type Manifest, type MapScale } from '../../../electron/engine/manifest.ts';
import { scaledMap, scaledMaps, type RawMaps } from '../../../electron/engine/map-scale.ts';
import { loadModelDir, readManifest, saveModelDir } from '../../../electron/engine/model-dir.ts';
import { CAM_LAYERS, resnetSpec } from '../../../electron/engine/resnet-spec.ts';
import { Rng } from '../../../electron/data/synth/rng.ts';

let root: string;
beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'kizu-map-scale-'));
});
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

function uniformScale(divisor: number, threshold: number | null): MapScale {
  const method = { divisor: { layer2: divisor, layer3: divisor, layer4: divisor }, threshold: { layer2: threshold, layer3: threshold, layer4: threshold, fused: threshold } };
  return { statistic: 'max', fittedOn: { images: 3, withTruth: 2 }, methods: { layercam: method, gradcam: method, gradcampp: method } };
}

/** Every method and layer with the same raw map, at the image's own size (bilinear to the same size is the identity). */
function rawMaps(width: number, height: number, values: number[]): RawMaps {
  const raw = { width, height, data: Float32Array.from(values) };
  const layers = Object.fromEntries(CAM_LAYERS.map((l) => [l, { raw }]));
  return { imageSize: [height, width], maps: Object.fromEntries(CAM_METHODS.map((m) => [m, { layers }])) };
}

const manifestOf = (mapScale?: MapScale): Manifest => ({
  format: 'kizu-model', schemaVersion: MANIFEST_SCHEMA_VERSION, name: 'seeded tiny',
  architecture: { name: 'resnet50', width: 8, blocks: [1, 1, 1, 1] },
  classes: ['ok', 'defect'], defectClass: 1, inputChannels: 1,
  inputSize: { policy: 'fixed', height: 64, width: 64 },
  normalization: { mean: [0.5], std: [0.25] },
  weights: { file: 'weights.safetensors', dtype: 'float32' },
  provenance: { createdAt: new Date(0).toISOString(), createdBy: 'map-scale.test', seed: 1, notes: [] },
  metrics: {},
  ...(mapScale ? { mapScale } : {}),
});

describe('the model-wide map scale in the manifest', () => {
  const spec = resnetSpec({ numClasses: 2, inChannels: 1, width: 8, blocks: [1, 1, 1, 1] });

  it('survives saving and loading a model directory; a manifest without one still loads', async () => {
    const scale = uniformScale(0.37, 0.42);
    scale.methods.gradcam.threshold.fused = null;
    const net = initialiseResNet(spec, 3);
    try {
      await saveModelDir(join(root, 'with'), manifestOf(scale), net);
      await saveModelDir(join(root, 'without'), manifestOf(), net);
    } finally {
      net.dispose();
    }
    const loaded = await loadModelDir(join(root, 'with'));
    loaded.net.dispose();
    expect(loaded.manifest.mapScale).toEqual(scale);
    expect((await readManifest(join(root, 'without'))).mapScale).toBeUndefined();
  });

  it('is validated: a zero divisor is refused, naming the field', async () => {
    const dir = join(root, 'zero');
    await mkdir(dir);
    const manifest = manifestOf(uniformScale(0.37, 0.42));
    manifest.mapScale!.methods.layercam.divisor.layer3 = 0;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    await expect(readManifest(dir)).rejects.toThrow(/mapScale\.methods\.layercam\.divisor\.layer3/);
  });
});

describe('maps on the model\'s scale', () => {
  it('divide and clamp each layer, and fuse with tanh(2 M / divisor)', async () => {
    const maps = await scaledMaps(rawMaps(2, 1, [0.1, 0.5]), 'layercam', uniformScale(0.25, 0.5));
    expect(Array.from(maps.layer3!)).toEqual([Math.fround(0.4), 1]);
    expect(maps.fused![0]).toBeCloseTo(Math.tanh(0.8), 6);
    expect(maps.fused![1]).toBeCloseTo(Math.tanh(4), 6);
  });

  it('leave an OK image\'s faint map under the threshold, where min-max per image lights it up', async () => {
    const rng = new Rng(21);
    const faint = Array.from({ length: 64 }, () => rng.uniform(0.01, 0.05));
    const map = await scaledMap(rawMaps(8, 8, faint), 'layercam', 'layer2', uniformScale(1, 0.3));
    expect(Math.max(...map)).toBeLessThan(0.3);
    const lo = Math.min(...faint), hi = Math.max(...faint);
    const perImage = faint.map((v) => (v - lo) / (hi - lo));
    expect(perImage.filter((v) => v >= 0.3).length).toBeGreaterThan(10);
  });

  it('are explain\'s own maps up to the scale: min-max of a scaled map is explain\'s normalised map', async () => {
    const net = initialiseResNet(resnetSpec({ numClasses: 2, inChannels: 1, width: 8, blocks: [1, 1, 1, 1] }), 5);
    const explainer = new Explainer(manifestOf(), { net });
    net.dispose();
    try {
      const rng = new Rng(4);
      const image = { width: 48, height: 40, channels: 1 as const, bitDepth: 8 as const, data: Float32Array.from({ length: 48 * 40 }, () => rng.uniform(0, 1)) };
      const e = await explainer.explain(image, MAP_SCALE_EXPLAIN);
      const raw = e.maps.layercam!.layers.layer3!.raw.data;
      const max = raw.reduce((a, b) => Math.max(a, b), 0);
      expect(max).toBeGreaterThan(0);
      // A divisor above every value: nothing is clamped.
      const scaled = await scaledMap(e, 'layercam', 'layer3', uniformScale(4 * max, null));
      const lo = Math.min(...scaled), hi = Math.max(...scaled);
      const renormalised = Array.from(scaled, (v) => (v - lo) / (hi - lo));
      const normalised = e.maps.layercam!.layers.layer3!.normalised.data;
      renormalised.forEach((v, i) => expect(v).toBeCloseTo(normalised[i], 4));
      expect(hi).toBeLessThan(0.3);
    } finally {
      explainer.dispose();
    }
  });
});

describe('fitting the map scale', () => {
  it('divides by the raw maps\' maximum over every image and tunes the threshold over OK and masked images', async () => {
    const fitter = new MapScaleFitter({ refine: null });
    fitter.add(rawMaps(2, 2, [0.2, 0.2, 0.2, 0.2]), 'ok');
    fitter.add(rawMaps(2, 2, [0.8, 0.1, 0.1, 0.1]), Uint8Array.from([1, 0, 0, 0]));
    // Defective without a mask: counts for the divisor only.
    fitter.add(rawMaps(2, 2, [0.3, 1.0, 0.3, 0.3]), null);
    const scale = await fitter.finish();
    expect(scale.fittedOn).toEqual({ images: 3, withTruth: 2 });
    for (const method of CAM_METHODS) {
      expect(scale.methods[method].divisor).toEqual({ layer2: 1, layer3: 1, layer4: 1 });
      // Every threshold in (0.2, 0.8] separates the defect pixel perfectly; the highest is kept.
      for (const layer of CAM_LAYERS) expect(scale.methods[method].threshold[layer]).toBeCloseTo(0.8, 4);
      expect(scale.methods[method].threshold.fused).toBeCloseTo(Math.tanh(1.6), 4);
    }
  });

  it('keeps the default threshold above the brightest spot of all but 5 % of the OK images, though a lower one has the better mIoU', async () => {
    // A large faint defect (values 0.3) whose mIoU is best cut at 0.3, and 20 OK images whose
    // brightest pixel runs from 0.31 to 0.50: cut at 0.3, every OK image would show a mask.
    const defect = rawMaps(4, 4, [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.9, 0.3, 0.3, 0.3, 0, 0, 0, 0]);
    const truth = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
    const okMax = Array.from({ length: 20 }, (_, i) => 0.31 + 0.01 * i);
    const fitter = new MapScaleFitter({ refine: null });
    // The divisor is the maximum, 1 (the 1.0 pixel below): scaled maps equal the raw ones.
    fitter.add(rawMaps(2, 2, [1, 0, 0, 0]), null);
    fitter.add(defect, truth);
    for (const m of okMax) fitter.add(rawMaps(4, 4, [m, ...Array<number>(15).fill(0.01)]), 'ok');
    const threshold = (await fitter.finish()).methods.layercam.threshold.layer3!;
    const drawn = okMax.filter((m) => m >= threshold).length;
    expect(drawn).toBeLessThanOrEqual(Math.floor(okMax.length * OK_IMAGES_DRAWN));
    // Above the floor, the defect's 0.9 pixel is what remains to find: one pixel of twelve beats drawing nothing.
    expect(threshold).toBeLessThanOrEqual(0.9);
    expect(threshold).toBeGreaterThan(0.49);
  });

  it('fitted on the images called defective, lets the OK images the model clears stay bright and cuts the faint defect where its mIoU is best', async () => {
    // The same set as above; the model calls the defect and only the one brightest OK image defective.
    const defect = rawMaps(4, 4, [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.9, 0.3, 0.3, 0.3, 0, 0, 0, 0]);
    const truth = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
    const okMax = Array.from({ length: 20 }, (_, i) => 0.31 + 0.01 * i);
    const fit = async (called?: (i: number) => boolean) => {
      const fitter = new MapScaleFitter({ refine: null });
      fitter.add(rawMaps(2, 2, [1, 0, 0, 0]), null);
      fitter.add(defect, truth);
      for (const m of okMax) fitter.add(rawMaps(4, 4, [m, ...Array<number>(15).fill(0.01)]), 'ok');
      return fitter.finish(called);
    };
    const everyImage = await fit();
    // Images are counted from 0 in the order added: 1 is the defect, 21 the brightest OK image.
    const gated = await fit((i) => i === 1 || i === 21);
    expect(everyImage.maskedWhen).toBeUndefined();
    expect(gated.maskedWhen).toBe('called-defect');
    expect(gated.methods.layercam.divisor).toEqual(everyImage.methods.layercam.divisor);
    const threshold = gated.methods.layercam.threshold.layer3!;
    expect(threshold).toBeGreaterThan(0.29);
    expect(threshold).toBeLessThanOrEqual(0.3);
    expect(everyImage.methods.layercam.threshold.layer3!).toBeGreaterThan(0.49);
    // The one OK image called defective (the brightest, 0.50) is drawn on: the floor lets one of 20.
    expect(okMax[19]).toBeGreaterThanOrEqual(threshold);
    // Called OK, the defect itself is dark: nothing left to tune on.
    const missed = await fit((i) => i !== 1);
    expect(missed.methods.layercam.threshold.layer3!).toBeGreaterThan(0.5);
  });

  it('puts the floor on the bin edge just above the brightest OK image it must keep dark', () => {
    expect(okImageFloor([])).toBe(0);
    expect(okImageFloor([0.2])).toBeCloseTo(0.2, 4);
    expect(okImageFloor([0.2])).toBeGreaterThan(0.2);
    // 40 images: 5 % (two) may draw, so the third brightest (0.37) sets the floor.
    const maxima = Array.from({ length: 40 }, (_, i) => i / 100);
    expect(okImageFloor(maxima)).toBeGreaterThan(0.37);
    expect(okImageFloor(maxima)).toBeLessThan(0.371);
  });

  it('has no threshold without a masked defective image, and refuses to fit on nothing', async () => {
    const fitter = new MapScaleFitter({ refine: null });
    fitter.add(rawMaps(2, 2, [0, 0, 0, 0]), 'ok');
    const scale = await fitter.finish();
    expect(scale.methods.gradcam.divisor.layer4).toBe(1);
    expect(scale.methods.gradcam.threshold.fused).toBeNull();
    await expect(new MapScaleFitter({ refine: null }).finish()).rejects.toThrow(/no images/);
  });
});
