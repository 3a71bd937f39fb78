/**
 * A contact sheet for looking at a model's masks by eye: N defective and N OK test images of
 * any layout Kizu reads, each with the LayerCAM mask on the model's one map scale, at the
 * model's default threshold, outlined in red, and the truth outlined in green; colour images
 * stay colour. The model must carry a map scale (kizu train writes one; an older model needs
 * `kizu evaluate` first, which prints the scale it fitted but does not store it).
 *
 *   npx tsx models/research/contact-sheet.ts --data DIR --model DIR --out sheet.png [--map fused|layer2|layer3|layer4] [--count 5] [--width 400] [--spread]
 *
 * The first N of each, or with --spread N spaced evenly through the test split's order: a set
 * photographed over time (BSData's wear test) lists its earliest, smallest defects first.
 */
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { openDataset } from '../../electron/data/datasets.ts';
import { readImage } from '../../electron/data/image-io.ts';
import { initBackend } from '../../electron/engine/backend.ts';
import { Explainer } from '../../electron/engine/explain.ts';
import { refinerFor, scaledMap, type ScaledMapName } from '../../electron/engine/map-scale.ts';
import { loadModel } from '../../electron/engine/model-loader.ts';
import { CAM_LAYERS } from '../../electron/engine/resnet-spec.ts';
import { readTruth } from '../../electron/engine/truth.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' }, model: { type: 'string' }, map: { type: 'string', default: 'fused' },
    out: { type: 'string' }, count: { type: 'string', default: '5' }, width: { type: 'string', default: '400' },
    spread: { type: 'boolean', default: false },
  },
});
if (!values.data || !values.model || !values.out) throw new Error('--data, --model and --out are required');
const mapName = values.map as ScaledMapName;
const count = Number(values.count);
const tileWidth = Number(values.width);

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

/** Thickens an outline by one pixel so it survives the tile's downscale. */
function thicken(edge: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(edge.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (!edge[y * w + x]) continue;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const yy = y + dy, xx = x + dx;
      if (yy >= 0 && xx >= 0 && yy < h && xx < w) out[yy * w + xx] = 1;
    }
  }
  return out;
}

await initBackend();
const model = await loadModel(values.model);
const scale = model.manifest.mapScale;
if (!scale) throw new Error(`${values.model}: the model has no map scale; train it with this version of kizu train`);
const threshold = scale.methods.layercam.threshold[mapName];
if (threshold === null) throw new Error(`${values.model}: no default threshold for LayerCAM ${mapName}`);
const explainer = Explainer.fromModel(model);
model.net.dispose();
const dataset = await openDataset(values.data);
const test = dataset.items.filter((i) => i.split === 'test');
function pick<T>(list: T[]): T[] {
  if (!values.spread || list.length <= count) return list.slice(0, count);
  return Array.from({ length: count }, (_, k) => list[Math.round((k * (list.length - 1)) / Math.max(1, count - 1))]);
}
const items = [...pick(test.filter((i) => i.isDefect && i.maskPath)), ...pick(test.filter((i) => !i.isDefect))];
const tiles: Array<{ input: Buffer; left: number; top: number }> = [];
let tileHeight = 0;
for (const [n, item] of items.entries()) {
  const image = await readImage(item.path);
  const { width: w, height: h } = image;
  const layers = mapName === 'fused' ? [...CAM_LAYERS] : [mapName];
  const result = await explainer.explain(image, { methods: ['layercam'], layers, fused: false });
  const map = await scaledMap(result, 'layercam', mapName, scale, await refinerFor(scale, image, result.inputSize));
  const predicted = thicken(outline(Uint8Array.from(map, (v) => (v >= threshold ? 1 : 0)), w, h), w, h);
  const truthBits = (await readTruth(item, w, h))?.bits ?? new Uint8Array(w * h);
  const truth = thicken(outline(truthBits, w, h), w, h);
  const rgb = Buffer.alloc(w * h * 3);
  let lit = 0;
  let peak = 0;
  for (let i = 0; i < w * h; i++) {
    if (map[i] >= threshold) lit++;
    if (map[i] > peak) peak = map[i];
    const c = image.channels;
    const px = [0, 1, 2].map((k) => Math.round(image.data[i * c + (c === 1 ? 0 : k)] * 255));
    const [r, g, b] = predicted[i] ? [255, 40, 40] : truth[i] ? [40, 255, 40] : px;
    rgb[i * 3] = r;
    rgb[i * 3 + 1] = g;
    rgb[i * 3 + 2] = b;
  }
  const tile = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).resize({ width: tileWidth }).png().toBuffer();
  tileHeight = Math.round((h * tileWidth) / w);
  tiles.push({ input: tile, left: (n % count) * tileWidth, top: Math.floor(n / count) * tileHeight });
  process.stderr.write(`${item.isDefect ? 'defect' : 'ok    '} ${item.path}: p(defect) ${result.probabilities[1].toFixed(3)}, map max ${peak.toFixed(3)}, ${(100 * lit / (w * h)).toFixed(2)} % above ${threshold.toFixed(3)}, truth ${(100 * truthBits.reduce((a, v) => a + v, 0) / (w * h)).toFixed(2)} %\n`);
}
explainer.dispose();
const rows = Math.ceil(tiles.length / count);
await sharp({ create: { width: count * tileWidth, height: rows * tileHeight, channels: 3, background: { r: 0, g: 0, b: 0 } } })
  .composite(tiles).png().toFile(values.out);
process.stderr.write(`wrote ${values.out}: top row defective, bottom row OK; red = mask at the default threshold ${threshold.toFixed(3)} (LayerCAM ${mapName}, model scale), green = truth\n`);
