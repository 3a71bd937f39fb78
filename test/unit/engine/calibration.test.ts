import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../electron/data/synth/rng.ts';
import { readImage, writePng } from '../../../electron/data/image-io.ts';
import { initBackend } from '../../../electron/engine/backend.ts';
import {
  balancedAccuracyThreshold, calibratedProbability, decisionThreshold, defectMargin, defectScore, fitCalibration, fitPlatt, type Calibration,
} from '../../../electron/engine/calibration.ts';
import { Explainer, softmax } from '../../../electron/engine/explain.ts';
import { fitOnValidation } from '../../../electron/engine/fit-validation.ts';
import { initialiseResNet } from '../../../electron/engine/init-weights.ts';
import { MANIFEST_FILE, MANIFEST_SCHEMA_VERSION, type Manifest } from '../../../electron/engine/manifest.ts';
import { loadModelDir, readManifest, saveModelDir } from '../../../electron/engine/model-dir.ts';
import { resnetSpec } from '../../../electron/engine/resnet-spec.ts';

let root: string;
beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'kizu-calibration-'));
});
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Logits whose labels are drawn from sigmoid(margin / temperature + bias), seeded. */
function synthetic(seed: number, n: number, temperature: number, bias: number): { logits: number[][]; labels: boolean[] } {
  const rng = new Rng(seed);
  const logits: number[][] = [];
  const labels: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const margin = 4 * rng.normal();
    const ok = rng.normal();
    logits.push([ok, ok + margin]);
    labels.push(rng.next() < sigmoid(margin / temperature + bias));
  }
  return { logits, labels };
}

describe('calibration', () => {
  it('recovers a known temperature from seeded synthetic logits', () => {
    const { logits, labels } = synthetic(7, 20_000, 2.5, 0);
    const fit = fitPlatt(logits.map((l) => defectMargin(l, 1)), labels);
    expect(1 / fit.slope).toBeGreaterThan(2.3);
    expect(1 / fit.slope).toBeLessThan(2.7);
    expect(Math.abs(fit.intercept)).toBeLessThan(0.08);
  });

  it('recovers a shift as well: an over-confident model that scores OK images high', () => {
    const { logits, labels } = synthetic(8, 20_000, 2, -1.5);
    const c = fitCalibration(logits, labels, 1)!;
    expect(c.slope).toBeCloseTo(0.5, 1);
    expect(c.intercept).toBeCloseTo(-1.5, 1);
    // A margin of 3 (softmax 0.95) means sigmoid(1.5 - 1.5) = 0.5 after calibration.
    expect(calibratedProbability([0, 3], 1, c)).toBeCloseTo(0.5, 1);
    expect(c.fittedOn.ok + c.fittedOn.defect).toBe(20_000);
    expect(c.balancedAccuracy).toBeGreaterThan(0.7);
  });

  it('is the softmax at slope 1 and intercept 0, for any number of classes; a model without one scores by its softmax', () => {
    const logits = [0.3, -1.2, 2.1];
    expect(calibratedProbability(logits, 2, { slope: 1, intercept: 0 })).toBeCloseTo(softmax(logits)[2], 12);
    expect(defectScore(logits, { defectClass: 0 })).toEqual({ probability: softmax(logits)[0], calibrated: false });
    expect(decisionThreshold({ defectClass: 0 })).toBe(0.5);
  });

  it('chooses the decision threshold that maximises balanced accuracy, between the scores it separates', () => {
    // Four OK images, two defective, sorted: 0.1 0.2 0.5 OK, 0.55 defect, 0.6 OK, 0.9 defect. Cutting between
    // 0.5 and 0.55 finds both defects and passes three OK images of four: balanced accuracy 0.875, where cutting
    // above 0.6, the best plain accuracy also reaches (5 of 6), gets only 0.75 by missing a defect.
    const scores = [0.1, 0.2, 0.5, 0.6, 0.55, 0.9];
    const labels = [false, false, false, false, true, true];
    const best = balancedAccuracyThreshold(scores, labels);
    expect(best.balancedAccuracy).toBeCloseTo(0.875, 12);
    expect(best.threshold).toBeCloseTo(0.525, 12);
    // A perfectly separated split: the midpoint between the highest OK score and the lowest defective one.
    expect(balancedAccuracyThreshold([0.1, 0.3, 0.7, 0.8], [false, false, true, true])).toEqual({ threshold: 0.5, balancedAccuracy: 1 });
    expect(() => balancedAccuracyThreshold([0.1], [false])).toThrow(/both OK and defective/);
    expect(fitCalibration([[0, 1]], [true], 1)).toBeNull();
    // A model that ranks its validation split upside down keeps its softmax rather than be flipped.
    const { logits, labels: truth } = synthetic(9, 2_000, 2, 0);
    expect(fitPlatt(logits.map((l) => defectMargin(l, 1)), truth.map((d) => !d)).slope).toBeLessThan(0);
    expect(fitCalibration(logits, truth.map((d) => !d), 1)).toBeNull();
  });
});

const spec = resnetSpec({ numClasses: 2, inChannels: 1, width: 8, blocks: [1, 1, 1, 1] });
const manifestOf = (calibration?: Calibration): Manifest => ({
  format: 'kizu-model', schemaVersion: MANIFEST_SCHEMA_VERSION, name: 'seeded tiny',
  architecture: { name: 'resnet50', width: 8, blocks: [1, 1, 1, 1] },
  classes: ['ok', 'defect'], defectClass: 1, inputChannels: 1,
  inputSize: { policy: 'fixed', height: 32, width: 32 },
  normalization: { mean: [0.5], std: [0.25] },
  weights: { file: 'weights.safetensors', dtype: 'float32' },
  provenance: { createdAt: new Date(0).toISOString(), createdBy: 'calibration.test', seed: 1, notes: [] },
  metrics: {},
  ...(calibration ? { calibration } : {}),
});

describe('the calibration in the manifest', () => {
  it('round-trips through a model directory, and the explainer scores with it; an older manifest still loads', async () => {
    const calibration: Calibration = {
      method: 'platt', slope: 0.5, intercept: -1.25, decisionThreshold: 0.37, criterion: 'balanced-accuracy', fittedOn: { ok: 40, defect: 12 }, balancedAccuracy: 0.91,
    };
    const net = initialiseResNet(spec, 3);
    try {
      await saveModelDir(join(root, 'calibrated'), manifestOf(calibration), net);
      await saveModelDir(join(root, 'older'), manifestOf(), net);
    } finally {
      net.dispose();
    }
    const loaded = await loadModelDir(join(root, 'calibrated'));
    expect(loaded.manifest.calibration).toEqual(calibration);
    expect(decisionThreshold(loaded.manifest)).toBe(0.37);
    const older = await loadModelDir(join(root, 'older'));
    expect(older.manifest.calibration).toBeUndefined();

    const image = { width: 32, height: 32, channels: 1 as const, bitDepth: 8 as const, data: Float32Array.from({ length: 1024 }, (_, i) => (i % 7) / 7) };
    const calibrated = Explainer.fromModel(loaded);
    const raw = Explainer.fromModel(older);
    loaded.net.dispose();
    older.net.dispose();
    try {
      const a = await calibrated.classify(image);
      const b = await raw.classify(image);
      expect(a.logits).toEqual(b.logits);
      expect(a.calibrated).toBe(true);
      expect(b.calibrated).toBe(false);
      expect(b.defectProbability).toBeCloseTo(b.probabilities[1], 12);
      expect(a.defectProbability).toBeCloseTo(sigmoid(0.5 * (a.logits[1] - a.logits[0]) - 1.25), 12);
      const explained = await calibrated.explain(image, { methods: ['layercam'], layers: ['layer4'] });
      expect(explained.defectProbability).toBeCloseTo(a.defectProbability, 5);
      expect(explained.calibrated).toBe(true);
    } finally {
      calibrated.dispose();
      raw.dispose();
    }
  });

  it('is refused with the field named when out of range', async () => {
    const dir = join(root, 'bad');
    const net = initialiseResNet(spec, 3);
    try {
      await saveModelDir(dir, manifestOf(), net);
    } finally {
      net.dispose();
    }
    const manifest = { ...manifestOf(), calibration: { method: 'platt', slope: 1, intercept: 0, decisionThreshold: 1.5, criterion: 'balanced-accuracy', fittedOn: { ok: 1, defect: 1 }, balancedAccuracy: 1 } };
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
    await expect(readManifest(dir)).rejects.toThrow(/calibration\.decisionThreshold/);
  });

  it('is fitted with the map scale in one pass over labelled images and written into the manifest beside it, the rest of it kept', async () => {
    const dir = join(root, 'fitted');
    const net = initialiseResNet(spec, 11);
    try {
      await saveModelDir(dir, manifestOf(), net);
    } finally {
      net.dispose();
    }
    const rng = new Rng(5);
    const items = [];
    for (let i = 0; i < 8; i++) {
      const path = join(root, `image-${i}.png`);
      const bright = i % 2 === 1;
      const data = Uint8Array.from({ length: 32 * 32 }, () => Math.round(255 * (bright ? rng.uniform(0.5, 1) : rng.uniform(0, 0.5))));
      await writePng(path, { width: 32, height: 32, channels: 1, data });
      items.push({ path, isDefect: bright });
    }
    const { calibration, mapScale } = await fitOnValidation(dir, items);
    expect(calibration).not.toBeNull();
    expect(mapScale?.fittedOn.images).toBe(8);
    // The calibration's decision threshold says where the default masks are drawn, and so where they were fitted.
    expect(mapScale?.maskedWhen).toBe('called-defect');
    const manifest = await readManifest(dir);
    expect(manifest.calibration).toEqual(calibration);
    expect(manifest.mapScale).toEqual(mapScale);
    expect(manifest.calibration!.fittedOn).toEqual({ ok: 4, defect: 4 });
    expect(manifest.name).toBe('seeded tiny');

    // The explaining pass's logits are the classifier's: the same fit as from classify alone.
    const model = await loadModelDir(dir);
    const explainer = Explainer.fromModel(model);
    model.net.dispose();
    const logits = [];
    for (const item of items) logits.push((await explainer.classify(await readImage(item.path))).logits);
    explainer.dispose();
    const byClassify = fitCalibration(logits, items.map((i) => i.isDefect), manifest.defectClass)!;
    expect(calibration!.slope).toBeCloseTo(byClassify.slope, 4);
    expect(calibration!.intercept).toBeCloseTo(byClassify.intercept, 4);
    expect(calibration!.decisionThreshold).toBeCloseTo(byClassify.decisionThreshold, 4);

    // Without OK images there is nothing to calibrate on: the scale is fitted, no calibration written.
    const defectOnly = await fitOnValidation(dir, items.filter((i) => i.isDefect));
    expect(defectOnly.calibration).toBeNull();
    expect(defectOnly.mapScale?.maskedWhen).toBeUndefined();
    expect((await readManifest(dir)).calibration).toBeUndefined();
    expect((await readManifest(dir)).mapScale).toEqual(defectOnly.mapScale);
  });
});
