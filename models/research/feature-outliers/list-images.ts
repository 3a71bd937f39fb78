/**
 * One image per line (path, 1 if defective, kind, mask path; tab-separated) for the Python
 * scripts beside it: `val` / `train` the split `kizu train` made with SEED, `test` the test split.
 * With MASK_DIR, each defective image's truth is read as Kizu reads it (LabelMe polygons
 * included) and written there as a PNG, whose path the line gives.
 *
 *   npx tsx models/research/feature-outliers/list-images.ts DATASET SEED val|train|test [MASK_DIR] > list.tsv
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeGreyPng } from '../../../electron/annotate/png-codec.ts';
import { openDataset } from '../../../electron/data/datasets.ts';
import { readImage } from '../../../electron/data/image-io.ts';
import { readTruth } from '../../../electron/engine/truth.ts';
import { splitTrainVal } from '../../../electron/engine/train/sampler.ts';

const [dataset, seed, which, maskDir] = process.argv.slice(2);
if (!dataset || !seed || !['val', 'train', 'test'].includes(which)) throw new Error('usage: DATASET SEED val|train|test [MASK_DIR]');
const ds = await openDataset(dataset, { defectLabel: 'defect' });
type Item = (typeof ds.items)[number];
if (maskDir) await mkdir(maskDir, { recursive: true });
let written = 0;
async function maskOf(i: Item): Promise<string> {
  if (!maskDir || !i.isDefect) return i.maskPath ?? '-';
  const image = await readImage(i.path);
  const truth = await readTruth(i, image.width, image.height);
  if (!truth) return '-';
  const file = join(maskDir, `${written++}.png`);
  await writeFile(file, encodeGreyPng(image.width, image.height, truth.bits.map((b) => (b ? 255 : 0))));
  return file;
}
const line = async (i: Item) => [i.path, i.isDefect ? 1 : 0, i.defectKind ?? '-', await maskOf(i)].join('\t');
let chosen: Item[];
if (which === 'test') {
  const split = ds.items.some((i) => i.split === 'test');
  chosen = ds.items.filter((i) => !split || i.split === 'test');
} else {
  const usable = ds.items.filter((i) => i.split !== 'test');
  const { train, val } = splitTrainVal(usable.map((item, index) => ({ index, isDefect: item.isDefect, view: item.view })), 0.15, Number(seed));
  chosen = (which === 'val' ? val : train).map((k) => usable[k]);
}
for (const i of chosen) console.log(await line(i));
