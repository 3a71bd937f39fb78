import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MASK_PARAMS, type MaskParams } from '../../../electron/api.ts';
import { maskFromMap } from '../../../electron/annotate/cleanup.ts';
import { countForeground } from '../../../electron/annotate/mask.ts';
import { MaskExporter } from '../../../electron/batch/mask-exporter.ts';
import { settingsOf } from '../../../electron/commands/export.ts';
import { encodePng, readImage } from '../../../electron/data/image-io.ts';
import { unpackExportItems } from '../../../electron/data/packed-export-items.ts';
import { renderSample } from '../../../electron/data/synth/render-sample.ts';
import { initBackend } from '../../../electron/engine/backend.ts';
import type { Calibration } from '../../../electron/engine/calibration.ts';
import { CAM_METHODS } from '../../../electron/engine/cam/types.ts';
import { Explainer } from '../../../electron/engine/explain.ts';
import { MAP_SCALE_EXPLAIN } from '../../../electron/engine/fit-map-scale.ts';
import { initialiseResNet } from '../../../electron/engine/init-weights.ts';
import { MANIFEST_SCHEMA_VERSION, type Manifest, type MapScale } from '../../../electron/engine/manifest.ts';
import { loadModelDir, saveModelDir } from '../../../electron/engine/model-dir.ts';
import { CAM_LAYERS, resnetSpec } from '../../../electron/engine/resnet-spec.ts';
import { EngineHost } from '../../../electron/worker/engine-host.ts';
import { runExport } from '../../../electron/worker/export-run.ts';

/*
 * A seeded tiny model whose map scale is set from an OK-like image's own raw maps: its divisor
 * is eight times that image's raw maximum, so on the model's scale the image stays dark (layers
 * at most 0.125, fused at most tanh(0.25)), while min-max per image stretches the same maps to
 * 1. What is tested is the plumbing: the worker, the app's export and kizu export cut the map
 * on the model's scale at the model's default threshold, as the preview does.
 */
const SIZE = 64;
const FUSED_DEFAULT = 0.35;
const LAYER_DEFAULT = 0.3;
const spec = resnetSpec({ numClasses: 2, inChannels: 1, width: 8, blocks: [1, 1, 1, 1] });
const calibration: Calibration = {
  method: 'platt', slope: 1, intercept: 0, decisionThreshold: 0.2, criterion: 'balanced-accuracy', fittedOn: { ok: 3, defect: 2 }, balancedAccuracy: 1,
};
const manifestOf = (extra: Partial<Manifest> = {}): Manifest => ({
  format: 'kizu-model', schemaVersion: MANIFEST_SCHEMA_VERSION, name: 'seeded tiny',
  architecture: { name: 'resnet50', width: 8, blocks: [1, 1, 1, 1] },
  classes: ['ok', 'defect'], defectClass: 1, inputChannels: 1,
  inputSize: { policy: 'fixed', height: SIZE, width: SIZE },
  normalization: { mean: [0.5], std: [0.25] },
  weights: { file: 'weights.safetensors', dtype: 'float32' },
  provenance: { createdAt: new Date(0).toISOString(), createdBy: 'model-scale.test', seed: 1, notes: [] },
  metrics: {},
  ...extra,
});

let root: string;
let okImage: string;
let scaledModel: string;
let host: EngineHost;

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'kizu-model-scale-'));
  okImage = join(root, 'images', 'ok.png');
  const sample = renderSample('mottled', 7, SIZE, false);
  await mkdir(join(root, 'images'), { recursive: true });
  await writeFile(okImage, await encodePng({ width: SIZE, height: SIZE, channels: 1, data: sample.image }));
  const net = initialiseResNet(spec, 3);
  try {
    const explainer = new Explainer(manifestOf(), { net });
    const e = await explainer.explain(await readImage(okImage), MAP_SCALE_EXPLAIN);
    explainer.dispose();
    const methods = {} as MapScale['methods'];
    for (const method of CAM_METHODS) {
      const divisor = Object.fromEntries(CAM_LAYERS.map((l) => [l, 8 * Math.max(1e-12, ...e.maps[method]!.layers[l]!.raw.data)])) as MapScale['methods']['layercam']['divisor'];
      methods[method] = { divisor, threshold: { layer2: LAYER_DEFAULT, layer3: LAYER_DEFAULT, layer4: LAYER_DEFAULT, fused: FUSED_DEFAULT } };
    }
    scaledModel = join(root, 'scaled');
    await saveModelDir(scaledModel, manifestOf({ mapScale: { statistic: 'max', fittedOn: { images: 5, withTruth: 3 }, methods }, calibration }), net);
  } finally {
    net.dispose();
  }
  host = new EngineHost();
  await host.init(scaledModel);
});

afterAll(async () => {
  host.dispose();
  await rm(root, { recursive: true, force: true });
});

const maxOf = (d: Float32Array) => d.reduce((a, b) => Math.max(a, b), 0);

describe("maps on the model's scale", () => {
  it('the worker serves maps on the model\'s scale by default, and per image when asked, from one explanation', async () => {
    const summary = host.status().model!;
    expect(summary.mapThresholds!.layercam).toEqual({ layer2: LAYER_DEFAULT, layer3: LAYER_DEFAULT, layer4: LAYER_DEFAULT, fused: FUSED_DEFAULT });
    expect(summary).toMatchObject({ calibrated: true, decisionThreshold: 0.2 });
    const onScale = await host.explain({ path: okImage, modifiedAt: 1, methods: ['layercam'] });
    expect(onScale.scale).toBe('model');
    expect(onScale.calibrated).toBe(true);
    expect(maxOf(onScale.maps.layercam!.layer3.data)).toBeLessThanOrEqual(0.125 + 1e-6);
    expect(maxOf(onScale.maps.layercam!.fused.data)).toBeLessThan(FUSED_DEFAULT);
    const perImage = await host.explain({ path: okImage, modifiedAt: 1, methods: ['layercam'], scale: 'per-image' });
    expect(perImage.cached).toBe(true);
    expect(perImage.scale).toBe('per-image');
    expect(maxOf(perImage.maps.layercam!.fused.data)).toBeCloseTo(1, 5);
  });

  it("an OK-like image gives an empty mask at the model's default threshold, where the per-image map draws one", async () => {
    const perImage = await host.explain({ path: okImage, modifiedAt: 1, methods: ['layercam'], scale: 'per-image' });
    const stretched = maskFromMap(perImage.maps.layercam!.fused, { threshold: { kind: 'value', value: FUSED_DEFAULT }, cleanup: DEFAULT_MASK_PARAMS.cleanup });
    expect(countForeground(stretched.mask)).toBeGreaterThan(0);

    // The app's export job: an image reviewed as defective but never hand-masked is cut from its map.
    const exportWith = async (params: MaskParams, name: string) => {
      const outDir = join(root, name);
      const result = await runExport(host, {
        format: 'coco', outDir,
        items: [{ id: 'ok.png', path: okImage, modifiedAt: 1, mask: null, params, score: null, reviewedDefect: true }],
      }, new AbortController().signal, () => undefined);
      expect(result.images).toBe(1);
      return JSON.parse(await readFile(join(outDir, 'annotations', 'instances_default.json'), 'utf8')).annotations.length as number;
    };
    expect(await exportWith(DEFAULT_MASK_PARAMS, 'app-default')).toBe(0);
    expect(await exportWith({ ...DEFAULT_MASK_PARAMS, scale: 'per-image', threshold: { kind: 'value', value: FUSED_DEFAULT } }, 'app-stretched')).toBeGreaterThan(0);

    // kizu export: its threshold and minimum score default to the model's.
    const settings = await settingsOf({ model: scaledModel, method: 'layercam', layer: 'fused', minArea: 16, open: 0, close: 0, fillHoles: true, all: true });
    expect(settings.threshold).toEqual({ kind: 'value', value: FUSED_DEFAULT });
    expect(settings.minScore).toBe(0.2);
    const exporter = await MaskExporter.open(scaledModel, settings);
    try {
      const outcome = await exporter.exportImage(okImage, 'ok.png');
      expect(outcome.kind).toBe('item');
      const [item] = unpackExportItems([(outcome as Extract<typeof outcome, { kind: 'item' }>).item]);
      expect(countForeground(item.mask)).toBe(0);
    } finally {
      exporter.dispose();
    }
  });

  it('on a model whose masks are drawn on images called defective, the app exports an image under its decision threshold with an empty default mask, as the preview shows it', async () => {
    // The same weights and divisors; a default threshold low enough to cut the OK-like image's
    // dark map, and a decision threshold no image of this untrained model reaches.
    const { manifest } = await loadModelDir(scaledModel).then((m) => { m.net.dispose(); return m; });
    const low = Object.fromEntries(CAM_METHODS.map((m) => [m, { ...manifest.mapScale!.methods[m], threshold: { layer2: 1e-4, layer3: 1e-4, layer4: 1e-4, fused: 1e-4 } }])) as MapScale['methods'];
    const gatedModel = join(root, 'gated');
    await mkdir(gatedModel, { recursive: true });
    await copyFile(join(scaledModel, 'weights.safetensors'), join(gatedModel, 'weights.safetensors'));
    await writeFile(join(gatedModel, 'manifest.json'), JSON.stringify({ ...manifest, mapScale: { ...manifest.mapScale!, methods: low, maskedWhen: 'called-defect' }, calibration: { ...calibration, decisionThreshold: 0.999 } }));
    const gatedHost = new EngineHost();
    await gatedHost.init(gatedModel);
    try {
      expect(gatedHost.status().model!.masksOnCalledDefect).toBe(true);
      const annotations = async (params: MaskParams, name: string) => {
        const outDir = join(root, name);
        await runExport(gatedHost, {
          format: 'coco', outDir,
          items: [{ id: 'ok.png', path: okImage, modifiedAt: 1, mask: null, params, score: null, reviewedDefect: true }],
        }, new AbortController().signal, () => undefined);
        return JSON.parse(await readFile(join(outDir, 'annotations', 'instances_default.json'), 'utf8')).annotations.length as number;
      };
      expect(await annotations(DEFAULT_MASK_PARAMS, 'gated-default')).toBe(0);
      // The same cut set by the inspector is theirs to make: it draws.
      expect(await annotations({ ...DEFAULT_MASK_PARAMS, threshold: { kind: 'value', value: 1e-4 } }, 'gated-set')).toBeGreaterThan(0);
    } finally {
      gatedHost.dispose();
    }
  });
});
