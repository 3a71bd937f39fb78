/**
 * Would averaging the defect margin over flips (test-time augmentation) rank images better than
 * one pass? For every test image of --test: the margin of the image as it is, and of its
 * horizontal, vertical and both-ways flips; prints image AUROC of the plain margin and of the
 * four passes' mean, overall and per generator texture family (RECIPES, "The score targets").
 *
 *   npx tsx models/research/flip-score.ts --model DIR --test DATASET
 */
import { parseArgs } from 'node:util';
import { openDataset } from '../../electron/data/datasets.ts';
import { readSynthManifest } from '../../electron/data/synth/generate.ts';
import { readImage, type RasterImage } from '../../electron/data/image-io.ts';
import { auroc } from '../../electron/data/metrics.ts';
import { initBackend } from '../../electron/engine/backend.ts';
import { defectMargin } from '../../electron/engine/calibration.ts';
import { Explainer } from '../../electron/engine/explain.ts';
import { loadModelDir } from '../../electron/engine/model-dir.ts';

const { values: a } = parseArgs({ options: { model: { type: 'string' }, test: { type: 'string' } } });
if (!a.model || !a.test) throw new Error('usage: --model DIR --test DATASET');
await initBackend();
const model = await loadModelDir(a.model);
const explainer = Explainer.fromModel(model);
model.net.dispose();

function flip(image: RasterImage, horizontal: boolean, vertical: boolean): RasterImage {
  const { width, height, channels } = image;
  const data = new Float32Array(image.data.length);
  for (let y = 0; y < height; y++) {
    const sy = vertical ? height - 1 - y : y;
    for (let x = 0; x < width; x++) {
      const sx = horizontal ? width - 1 - x : x;
      for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = image.data[(sy * width + sx) * channels + c];
    }
  }
  return { ...image, data };
}

const test = await openDataset(a.test, { defectLabel: 'defect' });
const synth = await readSynthManifest(test.root);
if (!synth) throw new Error(`${a.test} is not a set kizu make-dataset wrote: it has no manifest naming its surfaces`);
const familyOf = new Map(synth.classes.map((c) => [c.name, c.family]));
const rows: { family: string; defect: boolean; plain: number; mean: number }[] = [];
for (const item of test.items.filter((i) => i.split === 'test')) {
  const image = await readImage(item.path);
  const margins: number[] = [];
  for (const [h, v] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    margins.push(defectMargin((await explainer.classify(h || v ? flip(image, h, v) : image)).logits, model.manifest.defectClass));
  }
  rows.push({ family: familyOf.get(item.group ?? '') ?? '?', defect: item.isDefect, plain: margins[0], mean: margins.reduce((s, m) => s + m, 0) / margins.length });
}
const report = (label: string, r: typeof rows) => {
  const labels = r.map((x) => x.defect);
  console.log(`${label.padEnd(10)} ${String(r.length).padStart(4)} images: AUROC one pass ${auroc(r.map((x) => x.plain), labels).toFixed(3)}, mean of 4 flips ${auroc(r.map((x) => x.mean), labels).toFixed(3)}`);
};
report('all', rows);
for (const family of [...new Set(rows.map((r) => r.family))].sort()) report(family, rows.filter((r) => r.family === family));
explainer.dispose();
