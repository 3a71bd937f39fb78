/**
 * Would the maps make a better image score than the classifier's? For every image of the
 * model's validation split (of --train) and of --test's test split: the defect margin (the
 * logit the calibrated p(defect) is a function of) and statistics of the LayerCAM maps on the
 * model's one scale (maximum, 99.9th and 99th percentile, mean; layer2, layer3, layer4, fused).
 * Writes them as JSON for image-score-from-maps.py, which scores each as an image score and
 * fits margin + one statistic on the validation split (RECIPES, "The score targets").
 *
 *   npx tsx models/research/image-score-from-maps.ts --model DIR --train DATASET --test DATASET --out rows.json
 */
import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../../electron/data/datasets.ts';
import type { DatasetItem } from '../../electron/data/dataset-types.ts';
import { readImage } from '../../electron/data/image-io.ts';
import { initBackend } from '../../electron/engine/backend.ts';
import { defectMargin } from '../../electron/engine/calibration.ts';
import { Explainer } from '../../electron/engine/explain.ts';
import { refinerFor, scaledMaps } from '../../electron/engine/map-scale.ts';
import { loadModelDir } from '../../electron/engine/model-dir.ts';
import { splitTrainVal } from '../../electron/engine/train/sampler.ts';

const { values: a } = parseArgs({ options: { model: { type: 'string' }, train: { type: 'string' }, test: { type: 'string' }, out: { type: 'string' } } });
if (!a.model || !a.train || !a.test || !a.out) throw new Error('usage: --model DIR --train DATASET --test DATASET --out rows.json');
await initBackend();
const model = await loadModelDir(a.model);
const explainer = Explainer.fromModel(model);
model.net.dispose();
// Bound again after the check: the hoisted measure() would not see a narrowed model.manifest.mapScale.
const fitted = model.manifest.mapScale;
if (!fitted) throw new Error(`${a.model} has no map scale`);
const scale = fitted;

const rows: unknown[] = [];
async function measure(items: readonly DatasetItem[], set: 'validation' | 'test', root: string): Promise<void> {
  for (const item of items) {
    const image = await readImage(item.path);
    const explanation = await explainer.explain(image, { methods: ['layercam'], fused: true });
    const stats: Record<string, { max: number; p999: number; p99: number; mean: number }> = {};
    for (const [map, values] of Object.entries(await scaledMaps(explanation, 'layercam', scale, await refinerFor(scale, image, explanation.inputSize)))) {
      const sorted = Float32Array.from(values!).sort();
      const n = sorted.length;
      stats[map] = { max: sorted[n - 1], p999: sorted[Math.floor(n * 0.999)], p99: sorted[Math.floor(n * 0.99)], mean: sorted.reduce((s, v) => s + v, 0) / n };
    }
    rows.push({ set, image: relative(root, item.path), defect: item.isDefect, kind: item.defectKind ?? null, margin: defectMargin(explanation.logits, model.manifest.defectClass), stats });
  }
}

const train = await openDataset(a.train, { defectLabel: 'defect' });
const usable = train.items.filter((i) => i.split !== 'test');
const { val } = splitTrainVal(usable.map((item, index) => ({ index, isDefect: item.isDefect, view: item.view })), 0.15, model.manifest.provenance?.seed ?? 0);
await measure(val.map((i) => usable[i]), 'validation', train.root);
const test = await openDataset(a.test, { defectLabel: 'defect' });
const split = test.items.some((i) => i.split === 'test');
await measure(test.items.filter((i) => !split || i.split === 'test'), 'test', test.root);
await writeFile(a.out, JSON.stringify({ model: a.model, calibration: model.manifest.calibration ?? null, rows }));
explainer.dispose();
