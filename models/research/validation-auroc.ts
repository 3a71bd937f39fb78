/**
 * A model's image AUROC on another run's validation split: the split `kizu train --seed S`
 * holds out of DATASET, re-derived as the trainer derives it, each image scored by its defect
 * margin. Puts two models on the same held-out images (RECIPES K14-e: K14-c on train3's).
 *
 *   npx tsx models/research/validation-auroc.ts --model DIR --data DATASET --seed S
 */
import { parseArgs } from 'node:util';
import { openDataset } from '../../electron/data/datasets.ts';
import { readImage } from '../../electron/data/image-io.ts';
import { auroc } from '../../electron/data/metrics.ts';
import { initBackend } from '../../electron/engine/backend.ts';
import { defectMargin } from '../../electron/engine/calibration.ts';
import { Explainer } from '../../electron/engine/explain.ts';
import { loadModelDir } from '../../electron/engine/model-dir.ts';
import { splitTrainVal } from '../../electron/engine/train/sampler.ts';
import { DEFAULT_TRAIN_OPTIONS } from '../../electron/engine/train/train.ts';

const { values: a } = parseArgs({ options: { model: { type: 'string' }, data: { type: 'string' }, seed: { type: 'string' } } });
if (!a.model || !a.data || a.seed === undefined) throw new Error('usage: --model DIR --data DATASET --seed S');
await initBackend();
const model = await loadModelDir(a.model);
const explainer = Explainer.fromModel(model);
model.net.dispose();
const data = await openDataset(a.data, { defectLabel: 'defect' });
const usable = data.items.filter((i) => i.split !== 'test');
const { val } = splitTrainVal(usable.map((item, index) => ({ index, isDefect: item.isDefect, view: item.view })), DEFAULT_TRAIN_OPTIONS.valFraction, Number(a.seed));
const scores: number[] = [];
for (const i of val) scores.push(defectMargin((await explainer.classify(await readImage(usable[i].path))).logits, model.manifest.defectClass));
console.log(`${a.model} on ${val.length} validation images of ${a.data} (seed ${a.seed}): image AUROC ${auroc(scores, val.map((i) => usable[i].isDefect)).toFixed(4)}`);
explainer.dispose();
