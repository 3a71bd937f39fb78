/**
 * Would masks drawn only on the images the model calls defective (p(defect) at or over its
 * decision threshold) do what an inspector expects: a mask on the defects, none on OK images?
 * Explains the model's validation split (of --train) and --test's test split, then for the fused
 * LayerCAM map on the model's scale fits the mask threshold on the validation split twice, as
 * fit-map-scale does (best pooled mIoU among the thresholds that leave 95 % of OK images without
 * a mask), once on every image and once with the images under the decision threshold dark, and
 * reports each threshold on the test split: pooled mIoU and IoU(defect), defective images whose
 * mask overlaps the defect, OK images with any mask.
 *
 * --whole DATASET measures every image of a set (the demo folder), --test only its test split.
 *
 *   npx tsx models/research/gated-masks.ts --model DIR --train DATASET [--test DATASET ...] [--whole DATASET ...]
 */
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../../electron/data/datasets.ts';
import type { DatasetItem } from '../../electron/data/dataset-types.ts';
import { readImage } from '../../electron/data/image-io.ts';
import { initBackend } from '../../electron/engine/backend.ts';
import { Explainer } from '../../electron/engine/explain.ts';
import { okImageFloor } from '../../electron/engine/fit-map-scale.ts';
import { refinerFor, scaledMaps } from '../../electron/engine/map-scale.ts';
import { loadModelDir } from '../../electron/engine/model-dir.ts';
import { splitTrainVal } from '../../electron/engine/train/sampler.ts';
import { readTruth } from '../../electron/engine/truth.ts';

const { values: a } = parseArgs({ options: { model: { type: 'string' }, train: { type: 'string' }, test: { type: 'string', multiple: true }, whole: { type: 'string', multiple: true } } });
if (!a.model || !a.train) throw new Error('usage: --model DIR --train DATASET [--test DATASET ...] [--whole DATASET ...]');
await initBackend();
const model = await loadModelDir(a.model);
const explainer = Explainer.fromModel(model);
model.net.dispose();
if (!model.manifest.mapScale || !model.manifest.calibration) throw new Error(`${a.model} has no map scale or calibration`);
// Bound after the check: the hoisted functions would not see the narrowed manifest fields.
const scale = model.manifest.mapScale, decision = model.manifest.calibration.decisionThreshold;

/** Per image: p(defect), the truth mask (null on an OK image) and the fused map, kept whole for the overlap test. */
interface Row { name: string; p: number; truth: Uint8Array | null; map: Float32Array }
async function measure(items: readonly DatasetItem[], root: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const item of items) {
    const image = await readImage(item.path);
    const e = await explainer.explain(image, { methods: ['layercam'], fused: false });
    const map = (await scaledMaps(e, 'layercam', scale, await refinerFor(scale, image, e.inputSize)))['fused']!;
    const truth = item.isDefect ? (await readTruth(item, image.width, image.height))?.bits ?? null : null;
    if (item.isDefect && !truth) continue;
    rows.push({ name: relative(root, item.path), p: e.defectProbability, truth, map });
  }
  return rows;
}

const GRID = Array.from({ length: 200 }, (_, i) => i / 200);
function counts(rows: readonly Row[], t: number, gated: boolean) {
  let tp = 0, fp = 0, fn = 0, tn = 0, hit = 0, defective = 0, okDrawn = 0, ok = 0;
  for (const r of rows) {
    const dark = gated && r.p < decision;
    let drawn = false, overlap = false;
    for (let i = 0; i < r.map.length; i++) {
      const m = !dark && r.map[i] >= t, d = r.truth !== null && r.truth[i] > 0;
      if (m) drawn = true;
      if (m && d) { tp++; overlap = true; } else if (m) fp++; else if (d) fn++; else tn++;
    }
    if (r.truth) { defective++; if (overlap) hit++; } else { ok++; if (drawn) okDrawn++; }
  }
  const iouD = tp / Math.max(1, tp + fp + fn), iouB = tn / Math.max(1, tn + fp + fn);
  return { miou: (iouD + iouB) / 2, iouD, hit, defective, okDrawn, ok };
}
function fit(rows: readonly Row[], gated: boolean): number {
  const okMax = rows.filter((r) => !r.truth).map((r) => (gated && r.p < decision ? 0 : r.map.reduce((x, y) => (y > x ? y : x), 0)));
  const floor = okImageFloor(okMax);
  let best = { t: 1, miou: -1 };
  for (const t of GRID.filter((g) => g >= floor)) {
    const { miou } = counts(rows, t, gated);
    if (miou > best.miou) best = { t, miou };
  }
  return best.t;
}

const train = await openDataset(a.train, { defectLabel: 'defect' });
const usable = train.items.filter((i) => i.split !== 'test');
const { val } = splitTrainVal(usable.map((item, index) => ({ index, isDefect: item.isDefect, view: item.view })), 0.15, model.manifest.provenance?.seed ?? 0);
const valRows = await measure(val.map((i) => usable[i]), train.root);
const thresholds = { shipped: scale.methods.layercam.threshold.fused ?? 1, ungated: fit(valRows, false), gated: fit(valRows, true) };
console.log(`${a.model}: decision threshold ${decision.toFixed(3)}; fused thresholds fitted on ${valRows.length} validation images: shipped ${thresholds.shipped.toFixed(3)}, refitted ungated ${thresholds.ungated.toFixed(3)}, gated ${thresholds.gated.toFixed(3)}`);
for (const [testSet, whole] of [...(a.whole ?? []).map((s) => [s, true] as const), ...(a.test ?? []).map((s) => [s, false] as const)]) {
  const test = await openDataset(testSet, { defectLabel: 'defect' });
  const split = !whole && test.items.some((i) => i.split === 'test');
  const rows = await measure(test.items.filter((i) => !split || i.split === 'test'), test.root);
  console.log(`${testSet} (${rows.length} images):`);
  const shippedGated = scale.maskedWhen === 'called-defect';
  for (const [label, t, gated] of [
    [`shipped (${shippedGated ? 'called defective' : 'every image'})`, thresholds.shipped, shippedGated],
    ['every image, refitted', thresholds.ungated, false],
    ['called defective, refitted', thresholds.gated, true],
  ] as const) {
    const c = counts(rows, t, gated);
    console.log(`  ${label.padEnd(30)} t=${t.toFixed(3)} mIoU ${c.miou.toFixed(3)} IoU(defect) ${c.iouD.toFixed(3)} defective with a mask on the defect ${c.hit}/${c.defective}, OK images with a mask ${c.okDrawn}/${c.ok}`);
  }
}
explainer.dispose();
