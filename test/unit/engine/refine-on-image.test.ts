import { beforeAll, describe, expect, it } from 'vitest';
import { emptyCounts, iouDefect, segmentationCounts } from '../../../electron/data/metrics.ts';
import { Rng } from '../../../electron/data/synth/rng.ts';
import { initBackend } from '../../../electron/engine/backend.ts';
import { CAM_METHODS } from '../../../electron/engine/cam/types.ts';
import { MapScaleFitter } from '../../../electron/engine/fit-map-scale.ts';
import { mapScaleSchema, type MapScale } from '../../../electron/engine/manifest.ts';
import { refinerFor, scaledMaps, type RawMaps } from '../../../electron/engine/map-scale.ts';
import { DEFAULT_MAP_REFINEMENT, greyAt, ImageAffinities, MapRefiner, resizeMap } from '../../../electron/engine/refine-on-image.ts';
import { CAM_LAYERS } from '../../../electron/engine/resnet-spec.ts';

beforeAll(async () => { await initBackend(); });

const SIZE = 64;
const LINE_X = 30;

/** A grainy grey surface with a dark 2 px vertical line at x = 30, 31: a scratch. */
function scratchedSurface(): Float32Array {
  const rng = new Rng(5);
  return Float32Array.from({ length: SIZE * SIZE }, (_, i) => {
    const x = i % SIZE;
    return x === LINE_X || x === LINE_X + 1 ? 0.15 + rng.uniform(0, 0.05) : 0.55 + rng.uniform(-0.08, 0.08);
  });
}

/** What a stride-8 stage's map looks like over that line: one smooth bump centred on a cell 5 px off it. */
function coarseBump(): Float32Array {
  return Float32Array.from({ length: SIZE * SIZE }, (_, i) => {
    const x = i % SIZE, y = Math.floor(i / SIZE);
    return Math.exp(-(((x - 35.5) ** 2) + ((y - 31.5) ** 2)) / (2 * 8 ** 2));
  });
}

function argmaxX(map: Float32Array): number {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
  return best % SIZE;
}

describe('maps refined on the image (pixel-adaptive affinities)', () => {
  const affinities = ImageAffinities.ofGrey(scratchedSurface(), SIZE, SIZE, DEFAULT_MAP_REFINEMENT);

  it("moves a coarse map's peak from its cell centre onto the line it lies over", () => {
    const map = coarseBump();
    expect(Math.abs(argmaxX(map) - LINE_X)).toBeGreaterThan(4);
    const [refined] = affinities.refine(map);
    expect([LINE_X, LINE_X + 1]).toContain(argmaxX(refined));
    // Off the line, the surface next to it falls towards the surface further out: the map narrows onto the line.
    const at = (m: Float32Array, x: number) => m[32 * SIZE + x];
    expect(at(refined, LINE_X) / at(refined, LINE_X + 6)).toBeGreaterThan(at(map, LINE_X) / at(map, LINE_X + 6));
  });

  it("keeps a map's scale: a constant stays that constant, zero stays zero, nothing leaves the map's range", () => {
    const [constant, zero, refined] = affinities.refine(new Float32Array(SIZE * SIZE).fill(0.4), new Float32Array(SIZE * SIZE), coarseBump());
    expect(constant.every((v) => Math.abs(v - 0.4) < 1e-5)).toBe(true);
    expect(zero.every((v) => v === 0)).toBe(true);
    expect(Math.max(...refined)).toBeLessThanOrEqual(1);
    expect(Math.min(...refined)).toBeGreaterThanOrEqual(0);
  });

  it('is linear, so refining commutes with the divisor', () => {
    const map = coarseBump();
    const [half] = affinities.refine(map.map((v) => v / 2));
    affinities.refine(map)[0].forEach((v, i) => expect(half[i]).toBeCloseTo(v / 2, 6));
  });

  it('refines maps together as it refines each alone, however many', () => {
    const maps = [1, 2, 3, 4].map((f) => coarseBump().map((v, i) => v * f + (i % 7) / 70));
    const together = affinities.refine(...maps);
    expect(together).toHaveLength(4);
    maps.forEach((m, j) => { const [alone] = affinities.refine(m); alone.forEach((v, i) => expect(together[j][i]).toBeCloseTo(v, 6)); });
  });

  it('refuses a map or an image of the wrong size', () => {
    expect(() => affinities.refine(new Float32Array(10))).toThrow(/10 values for a 64x64 image/);
    expect(() => ImageAffinities.ofGrey(new Float32Array(10), SIZE, SIZE, DEFAULT_MAP_REFINEMENT)).toThrow(/10 grey levels/);
  });

  it('reads a colour raster at the network\'s input size, as its luma', async () => {
    const grey = scratchedSurface();
    const colour = { width: SIZE, height: SIZE, channels: 3 as const, bitDepth: 8 as const, data: Float32Array.from({ length: SIZE * SIZE * 3 }, (_, i) => grey[Math.floor(i / 3)]) };
    const [a] = await (await MapRefiner.ofImage(colour, [SIZE, SIZE], DEFAULT_MAP_REFINEMENT, 'javascript')).refine(coarseBump());
    const [b] = affinities.refine(coarseBump());
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 4));
    expect(greyAt(colour, [32, 48])).toHaveLength(32 * 48);
  });

  it('refines on onnxruntime as in JavaScript, maps of every height alike', async () => {
    const maps = [coarseBump(), coarseBump().map((v, i) => v * 0.3 + (i % 5) / 50)];
    const grey = scratchedSurface();
    const onOrt = new MapRefiner(grey, SIZE, SIZE, DEFAULT_MAP_REFINEMENT, 'onnxruntime');
    const inJs = new MapRefiner(grey, SIZE, SIZE, DEFAULT_MAP_REFINEMENT, 'javascript');
    const [ort, js] = [await onOrt.refine(...maps), await inJs.refine(...maps)];
    expect(ort).toHaveLength(2);
    ort.forEach((m, j) => m.forEach((v, i) => expect(Math.abs(v - js[j][i])).toBeLessThan(1e-5)));
    expect([LINE_X, LINE_X + 1]).toContain(argmaxX(ort[0]));
    await expect(onOrt.refine(new Float32Array(10))).rejects.toThrow(/10 values for a 64x64 image/);
  });

  it('resizes a refined map to the image with tf\'s bilinear, and leaves a same-size one as it is', () => {
    const map = Float32Array.from([0, 1, 1, 0]);
    expect(resizeMap(map, [2, 2], [2, 2])).toBe(map);
    const up = resizeMap(map, [2, 2], [4, 4]);
    expect(up).toHaveLength(16);
    expect(up[0]).toBeCloseTo(0, 6);
    expect(up[3]).toBeCloseTo(1, 6);
  });
});

/** Every method and layer with the same raw map, at the image's size, as the network saw it. */
function rawMaps(values: Float32Array): RawMaps & { inputSize: [number, number] } {
  const raw = { width: SIZE, height: SIZE, data: values };
  const layers = Object.fromEntries(CAM_LAYERS.map((l) => [l, { raw }]));
  return { imageSize: [SIZE, SIZE], inputSize: [SIZE, SIZE], maps: Object.fromEntries(CAM_METHODS.map((m) => [m, { layers }])) };
}

describe("the model's scale with maps refined on the image", () => {
  const grey = scratchedSurface();
  const image = { width: SIZE, height: SIZE, channels: 1 as const, bitDepth: 8 as const, data: grey };
  const method = { divisor: { layer2: 2, layer3: 2, layer4: 2 }, threshold: { layer2: 0.3, layer3: 0.3, layer4: 0.3, fused: 0.5 } };
  const refinedScale: MapScale = { statistic: 'max', fittedOn: { images: 1, withTruth: 1 }, methods: { layercam: method, gradcam: method, gradcampp: method }, refinedOnImage: DEFAULT_MAP_REFINEMENT };

  it('divides, clamps and fuses the refined maps, and needs the image to do it', async () => {
    const e = rawMaps(coarseBump());
    await expect(scaledMaps(e, 'layercam', refinedScale)).rejects.toThrow(/refined on the image/);
    const refiner = (await refinerFor(refinedScale, image, [SIZE, SIZE]))!;
    const maps = await scaledMaps(e, 'layercam', refinedScale, refiner);
    const [expected] = ImageAffinities.ofGrey(grey, SIZE, SIZE, DEFAULT_MAP_REFINEMENT).refine(coarseBump());
    maps.layer2!.forEach((v, i) => expect(v).toBeCloseTo(expected[i] / 2, 4));
    maps.fused!.forEach((v, i) => expect(v).toBeCloseTo(Math.tanh(expected[i]), 4));
    expect([LINE_X, LINE_X + 1]).toContain(argmaxX(maps.fused!));
    const { refinedOnImage: _, ...plain } = refinedScale;
    expect(await refinerFor(plain, image, [SIZE, SIZE])).toBeUndefined();
  });

  it('survives the manifest schema, which refuses a refinement with no passes', () => {
    expect(mapScaleSchema.parse(refinedScale).refinedOnImage).toEqual(DEFAULT_MAP_REFINEMENT);
    expect(() => mapScaleSchema.parse({ ...refinedScale, refinedOnImage: { ...DEFAULT_MAP_REFINEMENT, iterations: 0 } })).toThrow(/iterations/);
  });

  it('is fitted on refined maps by default: the fitter records it and reads each image again, except those it draws dark', async () => {
    const reads: string[] = [];
    const read = (name: string) => async () => { reads.push(name); return image; };
    const truth = Uint8Array.from({ length: SIZE * SIZE }, (_, i) => (i % SIZE === LINE_X || i % SIZE === LINE_X + 1 ? 1 : 0));
    const fitter = new MapScaleFitter();
    fitter.add(rawMaps(coarseBump()), truth, read('defect'));
    fitter.add(rawMaps(coarseBump().map((v) => v / 4)), 'ok', read('ok called defective'));
    fitter.add(rawMaps(coarseBump().map((v) => v / 8)), 'ok', read('ok called ok'));
    const scale = await fitter.finish((i) => i < 2);
    expect(scale.refinedOnImage).toEqual(DEFAULT_MAP_REFINEMENT);
    expect(reads).toEqual(['defect', 'ok called defective']);
    // On the refined maps the line stands out from its surroundings, so the fitted threshold draws it and little else.
    const unrefined = new MapScaleFitter({ refine: null });
    unrefined.add(rawMaps(coarseBump()), truth);
    unrefined.add(rawMaps(coarseBump().map((v) => v / 4)), 'ok');
    unrefined.add(rawMaps(coarseBump().map((v) => v / 8)), 'ok');
    const plain = await unrefined.finish((i) => i < 2);
    expect(plain.refinedOnImage).toBeUndefined();
    const iou = async (s: MapScale) => {
      const map = (await scaledMaps(rawMaps(coarseBump()), 'layercam', s, await refinerFor(s, image, [SIZE, SIZE])))['layer2']!;
      const counts = emptyCounts();
      segmentationCounts(map.map((v) => (v >= s.methods.layercam.threshold.layer2! ? 1 : 0)), truth, counts);
      return iouDefect(counts);
    };
    expect(await iou(scale)).toBeGreaterThan((await iou(plain)) + 0.1);
    expect(() => new MapScaleFitter().add(rawMaps(coarseBump()), 'ok')).toThrow(/needs the image/);
  });
});
