/**
 * Refits a trained model's map scale and calibration on its validation split, as `kizu train`
 * does when it ends (engine/fit-validation.ts), for a model trained before a change to that fit;
 * the split is the one `kizu train` and `kizu evaluate` derive from the model's seed. Adds a note
 * to the manifest's provenance saying so; the weights are not touched.
 *
 *   npx tsx models/research/refit-validation.ts --model DIR --data DATASET --note "why"
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../../electron/data/datasets.ts';
import { fitOnValidation } from '../../electron/engine/fit-validation.ts';
import { MANIFEST_FILE } from '../../electron/engine/manifest.ts';
import { readManifest } from '../../electron/engine/model-dir.ts';
import { splitTrainVal } from '../../electron/engine/train/sampler.ts';

const { values: a } = parseArgs({ options: { model: { type: 'string' }, data: { type: 'string' }, note: { type: 'string' } } });
if (!a.model || !a.data || !a.note) throw new Error('usage: --model DIR --data DATASET --note "why"');
const manifest = await readManifest(a.model);
const dataset = await openDataset(a.data, { defectLabel: manifest.classes[manifest.defectClass] });
const usable = dataset.items.filter((i) => i.split !== 'test');
const { val } = splitTrainVal(usable.map((item, index) => ({ index, isDefect: item.isDefect, view: item.view })), 0.15, manifest.provenance.seed ?? 0);
const fits = await fitOnValidation(a.model, val.map((i) => usable[i]));
const refitted = await readManifest(a.model);
refitted.provenance.notes.push(a.note);
await writeFile(join(a.model, MANIFEST_FILE), `${JSON.stringify(refitted, null, 2)}\n`);
console.log(JSON.stringify({ images: val.length, maskedWhen: fits.mapScale?.maskedWhen ?? null, threshold: fits.mapScale?.methods.layercam.threshold, decisionThreshold: fits.calibration?.decisionThreshold }));
