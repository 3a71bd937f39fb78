/**
 * A contact sheet for looking at a model's masks by eye: the first N defective test images of a
 * DAGM-layout folder, each with the thresholded LayerCAM mask outlined in red and the dataset's
 * label outlined in green, tiled five to a row.
 *
 *   npx tsx models/research/contact-sheet.ts --data DIR --model DIR --layer layer2 --threshold 0.3 --out sheet.png [--count 10]
 */
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { maskFromMap } from '../../electron/annotate/cleanup.ts';
import { openDataset } from '../../electron/data/datasets.ts';
import { readImage } from '../../electron/data/image-io.ts';
import { initBackend } from '../../electron/engine/backend.ts';
import { Explainer } from '../../electron/engine/explain.ts';
import { loadModel } from '../../electron/engine/model-loader.ts';
import type { CamLayer } from '../../electron/engine/resnet-spec.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' }, model: { type: 'string' }, layer: { type: 'string', default: 'layer2' },
    threshold: { type: 'string', default: '0.5' }, out: { type: 'string' }, count: { type: 'string', default: '10' },
  },
});
if (!values.data || !values.model || !values.out) throw new Error('--data, --model and --out are required');
const layer = values.layer as CamLayer;
const count = Number(values.count);

function outline(mask: Uint8Array, w: number, h: number): Uint8Array {
  const edge = new Uint8Array(mask.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!mask[i]) continue;
      const border = x === 0 || y === 0 || x === w - 1 || y === h - 1 || !mask[i - 1] || !mask[i + 1] || !mask[i - w] || !mask[i + w];
      if (border) edge[i] = 1;
    }
  }
  return edge;
}

await initBackend();
const model = await loadModel(values.model);
const explainer = Explainer.fromModel(model);
model.net.dispose();
const dataset = await openDataset(values.data, { defectLabel: 'defect' });
const items = dataset.items.filter((i) => i.split === 'test' && i.isDefect && i.maskPath).slice(0, count);
const tiles: { input: Buffer; left: number; top: number }[] = [];
let side = 0;
for (const [n, item] of items.entries()) {
  const image = await readImage(item.path);
  const label = await readImage(item.maskPath!);
  const { width: w, height: h } = image;
  side = w;
  const result = await explainer.explain(image, { methods: ['layercam'], layers: [layer], fused: false });
  const map = result.maps.layercam!.layers[layer]!.normalised;
  const { mask } = maskFromMap(map, { threshold: { kind: 'value', value: Number(values.threshold) } });
  const predicted = outline(mask.data, w, h);
  const truth = outline(Uint8Array.from({ length: w * h }, (_, i) => (label.data[i * label.channels] > 0.5 ? 1 : 0)), w, h);
  const rgb = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const v = Math.round(image.data[i * image.channels] * 255);
    const [r, g, b] = predicted[i] ? [255, 40, 40] : truth[i] ? [40, 255, 40] : [v, v, v];
    rgb[i * 3] = r;
    rgb[i * 3 + 1] = g;
    rgb[i * 3 + 2] = b;
  }
  tiles.push({ input: await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer(), left: (n % 5) * w, top: Math.floor(n / 5) * h });
  process.stderr.write(`${item.path}: p(defect) ${result.probabilities[1].toFixed(3)}\n`);
}
explainer.dispose();
const rows = Math.ceil(tiles.length / 5);
await sharp({ create: { width: 5 * side, height: rows * side, channels: 3, background: { r: 0, g: 0, b: 0 } } })
  .composite(tiles).png().toFile(values.out);
process.stderr.write(`wrote ${values.out}\n`);
