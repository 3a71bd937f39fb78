/**
 * One image per line (path, 1 if defective, kind, mask path; tab-separated) for the Python
 * scripts beside it: `val` / `train` the split `kizu train` made with SEED, `test` the test split.
 *
 *   npx tsx models/research/feature-outliers/list-images.ts DATASET SEED val|train|test > list.tsv
 */
import { openDataset } from '../../../electron/data/datasets.ts';
import { splitTrainVal } from '../../../electron/engine/train/sampler.ts';

const [dataset, seed, which] = process.argv.slice(2);
if (!dataset || !seed || !['val', 'train', 'test'].includes(which)) throw new Error('usage: DATASET SEED val|train|test');
const ds = await openDataset(dataset, { defectLabel: 'defect' });
const line = (i: (typeof ds.items)[number]) => [i.path, i.isDefect ? 1 : 0, i.defectKind ?? '-', i.maskPath ?? '-'].join('\t');
if (which === 'test') {
  const split = ds.items.some((i) => i.split === 'test');
  for (const i of ds.items.filter((i) => !split || i.split === 'test')) console.log(line(i));
} else {
  const usable = ds.items.filter((i) => i.split !== 'test');
  const { train, val } = splitTrainVal(usable.map((item, index) => ({ index, isDefect: item.isDefect, view: item.view })), 0.15, Number(seed));
  for (const k of which === 'val' ? val : train) console.log(line(usable[k]));
}
