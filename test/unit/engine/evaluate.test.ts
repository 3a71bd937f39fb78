import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../../electron/data/datasets.ts';
import { generateDataset } from '../../../electron/data/synth/generate.ts';
import { CAM_METHODS } from '../../../electron/engine/cam/types.ts';
import { evaluate, formatEvaluation } from '../../../electron/engine/evaluate.ts';
import { Explainer } from '../../../electron/engine/explain.ts';
import { refinerFor, scaledMaps } from '../../../electron/engine/map-scale.ts';
import { loadModel } from '../../../electron/engine/model-loader.ts';
import { CAM_LAYERS } from '../../../electron/engine/resnet-spec.ts';
import { readTruth } from '../../../electron/engine/truth.ts';
import { readImage } from '../../../electron/data/image-io.ts';
import { PooledPixelMetrics, truthRegions } from '../../../electron/data/pooled-metrics.ts';
import { fitOnValidation } from '../../../electron/engine/fit-validation.ts';
import { initialiseResNet } from '../../../electron/engine/init-weights.ts';
import type { Calibration } from '../../../electron/engine/calibration.ts';
import { MANIFEST_FILE, MANIFEST_SCHEMA_VERSION, type Manifest } from '../../../electron/engine/manifest.ts';
import { readManifest, saveModelDir } from '../../../electron/engine/model-dir.ts';
import { resnetSpec } from '../../../electron/engine/resnet-spec.ts';
import { splitTrainVal } from '../../../electron/engine/train/sampler.ts';
import { writeMvtecTree } from '../../fixtures/make-mvtec-tree.ts';

// A generated set re-laid out as MVTec AD and as a folder per kind, scored by a seeded tiny
// network: what is checked is the bookkeeping (kinds, splits), not how good the network is.

let root: string;
let generated: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kizu-evaluate-'));
  generated = join(root, 'generated');
  await generateDataset({ out: generated, classes: 1, trainClean: 4, trainDefect: 10, testClean: 6, testDefect: 12, size: 64, seed: 12 });
});
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

async function modelDir(dir: string, datasetSplit?: Manifest['provenance']['datasetSplit']): Promise<string> {
  const spec = resnetSpec({ numClasses: 2, inChannels: 1, width: 8, blocks: [1, 1, 1, 1] });
  const net = initialiseResNet(spec, 3);
  await saveModelDir(dir, {
    format: 'kizu-model', schemaVersion: MANIFEST_SCHEMA_VERSION, name: 'seeded tiny',
    architecture: { name: 'resnet50', width: 8, blocks: [1, 1, 1, 1] },
    classes: ['ok', 'defect'], defectClass: 1, inputChannels: 1,
    inputSize: { policy: 'fixed', height: 64, width: 64 },
    normalization: { mean: [0.5], std: [0.25] },
    weights: { file: 'weights.safetensors', dtype: 'float32' },
    provenance: { createdAt: new Date(0).toISOString(), createdBy: 'evaluate.test', seed: 1, datasetSplit, notes: [] },
    metrics: {},
  }, net);
  net.dispose();
  return dir;
}

/** All generated images in a folder per kind (OK in `clean`), masks beside them: a layout without a split. */
async function asKindFolders(out: string): Promise<void> {
  const ds = await openDataset(generated);
  for (const item of ds.items) {
    const stem = `${item.split}-${basename(item.path, extname(item.path))}`;
    const dir = join(out, item.isDefect ? item.defectKind! : 'clean');
    await mkdir(dir, { recursive: true });
    await copyFile(item.path, join(dir, `${stem}.png`));
    if (item.isDefect) await copyFile(item.exactMaskPath!, join(dir, `${stem}_mask.png`));
  }
}

describe('kizu evaluate per defect kind', { timeout: 300_000 }, () => {
  it('reports image and pixel AUROC for every kind of an MVTec-layout tree, and the overall image AUROC is their weighted mean', async () => {
    const tree = join(root, 'mvtec');
    await writeMvtecTree(generated, tree);
    const report = await evaluate({ data: tree, model: await modelDir(join(root, 'model-mvtec')) });
    const test = (await openDataset(tree)).items.filter((i) => i.split === 'test');
    const kinds = [...new Set(test.filter((i) => i.isDefect).map((i) => i.defectKind!))];
    expect(kinds.length).toBeGreaterThan(1);
    expect(report.kinds.map((k) => k.kind).sort()).toEqual([...kinds].sort());
    let weighted = 0;
    for (const k of report.kinds) {
      expect(k.images).toBe(test.filter((i) => i.defectKind === k.kind).length);
      expect(k.imageAuroc).toBeGreaterThanOrEqual(0);
      expect(k.imageAuroc).toBeLessThanOrEqual(1);
      expect(k.pixelAuroc).toHaveLength(report.localisation.scores.length);
      for (const p of k.pixelAuroc) expect(p.pixelAuroc).toBeGreaterThanOrEqual(0);
      expect(k.missed).toBeGreaterThanOrEqual(0);
      expect(k.missed).toBeLessThanOrEqual(k.images);
      weighted += k.images * k.imageAuroc;
    }
    // Every defective test image has a kind, so the kinds' misses are the confusion matrix's.
    expect(report.kinds.reduce((n, k) => n + k.missed, 0)).toBe(report.classification.confusion[1][0]);
    // AUROC averages over (defect, OK) pairs, and the defect images split into kinds exactly.
    expect(weighted / report.kinds.reduce((n, k) => n + k.images, 0)).toBeCloseTo(report.classification.auroc, 10);
    expect(report.split).toEqual({ policy: 'layout' });
    const table = formatEvaluation(report);
    for (const k of report.kinds) expect(table).toContain(`| ${k.kind} | ${k.images} | ${k.imageAuroc.toFixed(4)} | ${k.missed} |`);
  });

  it('re-derives the seeded split recorded in the model, and refuses a split that would score training images', async () => {
    const tree = join(root, 'kinds');
    await asKindFolders(tree);
    const opened = await openDataset(tree, { okLabel: 'clean', split: { seed: 5, testFraction: 0.5 } });
    const recorded = opened.split!;
    expect(recorded.policy).toBe('seeded');
    const model = await modelDir(join(root, 'model-kinds'), recorded);

    const report = await evaluate({ data: tree, model, okLabel: 'clean' });
    expect(report.split).toEqual({ policy: 'seeded', seed: 5, testFraction: 0.5, sameDataset: true });
    expect(report.classification.images).toBe(opened.items.filter((i) => i.split === 'test').length);
    expect(report.kinds.length).toBeGreaterThan(0);

    const manifestPath = join(model, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
    const tampered = { ...manifest, provenance: { ...manifest.provenance, datasetSplit: { ...recorded, testDigest: '0'.repeat(64) } } };
    await writeFile(manifestPath, JSON.stringify(tampered));
    await expect(evaluate({ data: tree, model, okLabel: 'clean' })).rejects.toThrow(/score training images/);

    await writeFile(manifestPath, JSON.stringify(manifest));
    await copyFile(opened.items.find((i) => !i.isDefect)!.path, join(tree, 'clean', 'added.png'));
    const changed = await evaluate({ data: tree, model, okLabel: 'clean' });
    expect(changed.split).toMatchObject({ policy: 'seeded', sameDataset: false });
    expect(formatEvaluation(changed)).toContain('other than the one the model was trained on');
  });

  it('names the views with the training run\'s --view-pattern, so the seeded split it re-derives keeps them whole as training did', async () => {
    const tree = join(root, 'kinds-views');
    await asKindFolders(tree);
    // Ten views, by the last digit of each file's number.
    const viewPattern = '(\\d)\\.png$';
    const opened = await openDataset(tree, { okLabel: 'clean', viewPattern });
    const recorded = opened.split!;
    expect(recorded).toMatchObject({ policy: 'seeded', groupedBy: 'view', viewPattern });
    const byImage = await openDataset(tree, { okLabel: 'clean' });
    expect(byImage.split).toMatchObject({ itemsDigest: recorded.policy === 'seeded' ? recorded.itemsDigest : '' });
    expect(byImage.split).not.toMatchObject({ testDigest: recorded.policy === 'seeded' ? recorded.testDigest : '' });

    const report = await evaluate({ data: tree, model: await modelDir(join(root, 'model-views'), recorded), okLabel: 'clean' });
    expect(report.split).toEqual({ policy: 'seeded', seed: 0, testFraction: 0.2, sameDataset: true });
    expect(report.classification.images).toBe(opened.items.filter((i) => i.split === 'test').length);
  });

  it('gives each kind the field\'s protocol on its images pooled with every OK test image: with one kind, the same figures as the whole set', async () => {
    const tree = join(root, 'one-kind');
    await asKindFolders(tree);
    const kinds = (await openDataset(tree, { okLabel: 'clean' })).items.filter((i) => i.isDefect).map((i) => i.defectKind!);
    const kept = kinds[0];
    for (const kind of new Set(kinds)) if (kind !== kept) await rm(join(tree, kind), { recursive: true });
    const opened = await openDataset(tree, { okLabel: 'clean', split: { seed: 5, testFraction: 0.5 } });
    const report = await evaluate({ data: tree, model: await modelDir(join(root, 'model-one-kind'), opened.split), okLabel: 'clean' });
    expect(report.kinds.map((k) => k.kind)).toEqual([kept]);
    const [only] = report.kinds;
    expect(only.field.map((s) => s.map)).toEqual(['layer2', 'layer3', 'layer4', 'fused']);
    for (const s of only.field) {
      const whole = report.field!.scores.find((x) => x.method === 'layercam' && x.map === s.map)!;
      expect(s.pixelAuroc).toBe(whole.pixelAuroc);
      expect(s.aupro).toBe(whole.aupro);
      expect(s.bestMiou).toBeGreaterThan(0);
      expect(s.bestMiou).toBeLessThanOrEqual(1);
      // The best threshold is chosen on these very pixels: no fixed threshold does better.
      if (whole.atDefault) expect(s.bestMiou!).toBeGreaterThanOrEqual(whole.atDefault.miou - 1e-12);
    }
    expect(formatEvaluation(report)).toContain(`Per defect kind, the field's protocol`);
  });

  it('adds the field\'s protocol: every test image pooled on a map scale fitted on the validation split, the same one training keeps in the manifest', async () => {
    const tree = join(root, 'kinds-field');
    await asKindFolders(tree);
    const opened = await openDataset(tree, { okLabel: 'clean', split: { seed: 5, testFraction: 0.5 } });
    const model = await modelDir(join(root, 'model-field'), opened.split);
    const test = opened.items.filter((i) => i.split === 'test');

    const fitted = await evaluate({ data: tree, model, okLabel: 'clean' });
    const f = fitted.field!;
    expect(f.scaleSource).toBe('fitted');
    expect(f.okImages).toBe(test.filter((i) => !i.isDefect).length);
    expect(f.images).toBe(test.length);
    expect(f.leftOut).toBe(0);
    expect(f.regions).toBeGreaterThanOrEqual(test.filter((i) => i.isDefect).length);
    expect(f.scores).toHaveLength(12);
    for (const s of f.scores) {
      for (const v of [s.pixelAuroc, s.aupro, s.pixelAp]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
    expect(f.scores.some((s) => s.atDefault !== null)).toBe(true);
    expect(fitted.classification.ap).toBeGreaterThan(0);
    const table = formatEvaluation(fitted);
    expect(table).toContain('The field\'s protocol');
    expect(table).toContain('fitted by this evaluation');
    expect(table).toContain('| pixel AUROC | AUPRO | pixel AP |');
    expect(JSON.parse(JSON.stringify(fitted)).field.scores[0]).toHaveProperty('aupro');

    // What training does when it ends: the validation split of the same non-test images and seed.
    const usable = opened.items.filter((i) => i.split !== 'test');
    const { val } = splitTrainVal(usable.map((item, index) => ({ index, isDefect: item.isDefect })), 0.15, 1);
    const written = await fitOnValidation(model, val.map((i) => usable[i]));
    expect(written.mapScale).toEqual(f.scale);
    expect(written.mapScale!.refinedOnImage).toBeDefined();
    // This seeded untrained model ranks its validation split worse than chance, so no calibration is fitted.
    expect(written.calibration).toBeNull();
    const kept = await evaluate({ data: tree, model, okLabel: 'clean' });
    expect(kept.field!.scaleSource).toBe('manifest');
    expect(kept.field!.scores).toEqual(f.scores);
    expect(formatEvaluation(kept)).toContain('on the model\'s map scale');

    // x p: the fused LayerCAM map of every pooled test image times its calibrated p(defect), pooled by hand.
    const loaded = await loadModel(model);
    const explainer = Explainer.fromModel(loaded);
    loaded.net.dispose();
    const byHand = new PooledPixelMetrics();
    for (const item of test) {
      const image = await readImage(item.path);
      const truth = (await readTruth(item, image.width, image.height))!;
      const result = await explainer.explain(image, { methods: ['layercam'], layers: CAM_LAYERS, fused: true });
      const scale = loaded.manifest.mapScale!;
      const fused = (await scaledMaps(result, 'layercam', scale, await refinerFor(scale, image, result.inputSize))).fused!;
      byHand.add(fused.map((v) => v * result.defectProbability), truthRegions(truth.bits, image.width));
    }
    explainer.dispose();
    const fusedScore = kept.field!.scores.find((s) => s.method === 'layercam' && s.map === 'fused')!;
    expect(fusedScore.gated.pixelAuroc).toBeCloseTo(byHand.auroc(), 10);
    expect(fusedScore.gated.aupro).toBeCloseTo(byHand.aupro(), 10);
    expect(fusedScore.gated.pixelAuroc).not.toBe(fusedScore.pixelAuroc);
    expect(formatEvaluation(kept)).toContain('| pixel AUROC x p | AUPRO x p |');
    expect(kept.classification).toMatchObject({ decisionThreshold: 0.5, calibrated: false });

    // With a calibration in the manifest the confusion matrix is taken at its decision threshold.
    const manifest = await readManifest(model);
    const calibration: Calibration = { method: 'platt', slope: 3, intercept: -0.5, decisionThreshold: 0.6, criterion: 'balanced-accuracy', fittedOn: { ok: 4, defect: 4 }, balancedAccuracy: 0.75 };
    await writeFile(join(model, MANIFEST_FILE), JSON.stringify({ ...manifest, calibration }));
    const calibrated = await evaluate({ data: tree, model, okLabel: 'clean' });
    const c = calibrated.classification;
    expect(c).toMatchObject({ decisionThreshold: 0.6, calibrated: true });
    // Calibration is monotone: the ranking, hence AUROC, is the raw softmax's.
    expect(c.auroc).toBeCloseTo(kept.classification.auroc, 10);
    expect(c.confusion.flat().reduce((a, b) => a + b, 0)).toBe(c.images);
    expect(formatEvaluation(calibrated)).toContain("at p(defect) >= 0.600 (the model's decision threshold");

    // Default thresholds of 0 draw every pixel; drawn only on images called defective, and none
    // called so (decision threshold 1), they draw nothing.
    const scale = manifest.mapScale!;
    const zero = Object.fromEntries(CAM_METHODS.map((m) => [m, { ...scale.methods[m], threshold: { layer2: 0, layer3: 0, layer4: 0, fused: 0 } }]));
    const drawnAtDefault = (e: typeof calibrated) => e.field!.scores.filter((s) => s.atDefault && s.atDefault.iouDefect > 0).length;
    await writeFile(join(model, MANIFEST_FILE), JSON.stringify({ ...manifest, mapScale: { ...scale, methods: zero }, calibration: { ...calibration, decisionThreshold: 1 } }));
    const everywhere = await evaluate({ data: tree, model, okLabel: 'clean' });
    expect(drawnAtDefault(everywhere)).toBe(everywhere.field!.scores.length);
    await writeFile(join(model, MANIFEST_FILE), JSON.stringify({ ...manifest, mapScale: { ...scale, methods: zero, maskedWhen: 'called-defect' }, calibration: { ...calibration, decisionThreshold: 1 } }));
    const gated = await evaluate({ data: tree, model, okLabel: 'clean' });
    expect(gated.classification.confusion.map((row) => row[1])).toEqual([0, 0]);
    expect(drawnAtDefault(gated)).toBe(0);
    expect(gated.field!.scores.map((s) => s.pixelAuroc)).toEqual(everywhere.field!.scores.map((s) => s.pixelAuroc));
  });
});
