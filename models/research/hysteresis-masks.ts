/**
 * Research, not product: would masks grown from the default threshold outline defects better?
 * On the model's one map scale the default threshold keeps OK images dark, but on real
 * photographs it draws a speck at a pit's hottest pixels (R21-h's contact sheet). Hysteresis
 * (Canny's): a mask region must reach the default threshold somewhere, and then takes every
 * connected pixel above a lower one, a fraction of it. OK images stay as dark as before, since
 * a region needs the same seed; what changes is how much of a found defect the mask covers.
 *
 *   npx tsx models/research/hysteresis-masks.ts --data DIR --model DIR [--map fused] [--ratios 1,0.8,0.6,0.4]
 *
 * Prints, per ratio, mIoU and IoU(defect) over every test image with a truth (OK ones too, as
 * kizu evaluate's field protocol counts them), and the share of OK test images with any mask.
 */
import { parseArgs } from 'node:util';
import { openDataset } from '../../electron/data/datasets.ts';
import { readImage } from '../../electron/data/image-io.ts';
import { emptyCounts, iouDefect, miou, segmentationCounts } from '../../electron/data/metrics.ts';
import { initBackend } from '../../electron/engine/backend.ts';
import { Explainer } from '../../electron/engine/explain.ts';
import { refinerFor, scaledMap, type ScaledMapName } from '../../electron/engine/map-scale.ts';
import { loadModel } from '../../electron/engine/model-loader.ts';
import { CAM_LAYERS } from '../../electron/engine/resnet-spec.ts';
import { readTruth, truthPath } from '../../electron/engine/truth.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' }, model: { type: 'string' }, map: { type: 'string', default: 'fused' },
    ratios: { type: 'string', default: '1,0.8,0.6,0.4' },
  },
});
if (!values.data || !values.model) throw new Error('--data and --model are required');
const mapName = values.map as ScaledMapName;
const ratios = values.ratios!.split(',').map(Number);

/** Pixels >= low connected (8-neighbours) to a pixel >= high. */
function hysteresis(map: Float32Array, w: number, h: number, high: number, low: number): Uint8Array {
  const mask = new Uint8Array(map.length);
  const stack: number[] = [];
  for (let i = 0; i < map.length; i++) if (map[i] >= high) { mask[i] = 1; stack.push(i); }
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % w, y = (i - x) / w;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx, yy = y + dy;
      if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
      const j = yy * w + xx;
      if (!mask[j] && map[j] >= low) { mask[j] = 1; stack.push(j); }
    }
  }
  return mask;
}

await initBackend();
const model = await loadModel(values.model);
const scale = model.manifest.mapScale;
if (!scale) throw new Error(`${values.model}: the model has no map scale`);
const threshold = scale.methods.layercam.threshold[mapName];
if (threshold === null) throw new Error(`${values.model}: no default threshold for LayerCAM ${mapName}`);
const explainer = Explainer.fromModel(model);
model.net.dispose();
const dataset = await openDataset(values.data, { split: model.manifest.provenance.datasetSplit?.policy === 'seeded' ? model.manifest.provenance.datasetSplit : undefined, viewPattern: model.manifest.provenance.datasetSplit?.viewPattern });
const test = dataset.items.filter((i) => i.split === 'test' && (!i.isDefect || truthPath(i) !== null));
const counts = ratios.map(() => emptyCounts());
const okLit = ratios.map(() => 0);
const defectHit = ratios.map(() => 0);
for (const item of test) {
  const image = await readImage(item.path);
  const { width: w, height: h } = image;
  const truth = (await readTruth(item, w, h))!.bits;
  const layers = mapName === 'fused' ? [...CAM_LAYERS] : [mapName];
  const result = await explainer.explain(image, { methods: ['layercam'], layers, fused: false });
  const map = await scaledMap(result, 'layercam', mapName, scale, await refinerFor(scale, image, result.inputSize));
  ratios.forEach((r, k) => {
    const mask = hysteresis(map, w, h, threshold, threshold * r);
    segmentationCounts(mask, truth, counts[k]);
    const any = mask.some((v) => v === 1);
    if (!item.isDefect && any) okLit[k]++;
    if (item.isDefect && mask.some((v, i) => v === 1 && truth[i] === 1)) defectHit[k]++;
  });
}
explainer.dispose();
const oks = test.filter((i) => !i.isDefect).length;
const defects = test.length - oks;
process.stdout.write(`${values.model} on ${values.data}: LayerCAM ${mapName}, default threshold ${threshold.toFixed(3)}, ${test.length} test images (${oks} OK)\n`);
process.stdout.write('| low / default | mIoU | IoU(defect) | defective images the mask touches | OK images with a mask |\n|---|---|---|---|---|\n');
ratios.forEach((r, k) => {
  process.stdout.write(`| ${r} | ${miou(counts[k]).toFixed(3)} | ${iouDefect(counts[k]).toFixed(3)} | ${defectHit[k]} / ${defects} | ${okLit[k]} / ${oks} |\n`);
});
