/**
 * Where a model's decisions go wrong, per generator surface: for every test image of a
 * `kizu make-dataset` set, the calibrated p(defect) against the model's stored decision
 * threshold; prints, per texture family and overall, the OK images over it and the defective
 * ones under it, and the per-kind misses (RECIPES, "The score targets").
 *
 *   npx tsx models/research/errors-by-surface.ts --model DIR --test DATASET
 */
import { parseArgs } from 'node:util';
import { openDataset } from '../../electron/data/datasets.ts';
import { readSynthManifest } from '../../electron/data/synth/generate.ts';
import { readImage } from '../../electron/data/image-io.ts';
import { initBackend } from '../../electron/engine/backend.ts';
import { Explainer } from '../../electron/engine/explain.ts';
import { loadModelDir } from '../../electron/engine/model-dir.ts';

const { values: a } = parseArgs({ options: { model: { type: 'string' }, test: { type: 'string' } } });
if (!a.model || !a.test) throw new Error('usage: --model DIR --test DATASET');
await initBackend();
const model = await loadModelDir(a.model);
const threshold = model.manifest.calibration?.decisionThreshold;
if (threshold === undefined) throw new Error(`${a.model} has no calibration: no decision threshold to count errors at`);
const explainer = Explainer.fromModel(model);
model.net.dispose();

const test = await openDataset(a.test, { defectLabel: 'defect' });
const synth = await readSynthManifest(test.root);
if (!synth) throw new Error(`${a.test} is not a set kizu make-dataset wrote: it has no manifest naming its surfaces`);
const familyOf = new Map(synth.classes.map((c) => [c.name, c.family]));
const rows: { family: string; kind: string | null; called: boolean }[] = [];
for (const item of test.items.filter((i) => i.split === 'test')) {
  const { defectProbability } = await explainer.classify(await readImage(item.path));
  rows.push({ family: familyOf.get(item.group ?? '') ?? '?', kind: item.isDefect ? item.defectKind ?? 'defect' : null, called: defectProbability >= threshold });
}
const line = (label: string, r: typeof rows) => {
  const ok = r.filter((x) => x.kind === null), bad = r.filter((x) => x.kind !== null);
  console.log(`${label.padEnd(12)} OK over ${ok.filter((x) => x.called).length} of ${ok.length}, defective under ${bad.filter((x) => !x.called).length} of ${bad.length}`);
};
console.log(`${a.model}: decision threshold ${threshold.toFixed(3)} (calibrated p(defect))`);
line('all', rows);
for (const family of [...new Set(rows.map((r) => r.family))].sort()) line(family, rows.filter((r) => r.family === family));
for (const kind of [...new Set(rows.flatMap((r) => (r.kind ? [r.kind] : [])))].sort()) {
  const k = rows.filter((r) => r.kind === kind);
  console.log(`kind ${kind.padEnd(12)} passed as OK ${k.filter((x) => !x.called).length} of ${k.length}`);
}
explainer.dispose();
