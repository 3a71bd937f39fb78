/**
 * Would refining the LayerCAM maps on the image itself put them on the defect's own pixels?
 * A stride-8 layer2 map places its peak at a cell centre, up to 5.7 px off a thin line, and
 * its masks are regions around the line. This explains each image once, then refines the
 * model-scale maps with pixel-adaptive affinities (Araslanov & Roth, CVPR 2020: each pixel
 * becomes the affinity-weighted mean of its neighbours at dilations 1-24, the affinity a
 * softmax of -|I_i - I_j| over the local spread of intensities), and reports raw against
 * refined: pooled pixel AUROC and AUPRO over every test image, best pooled mIoU, and on each
 * defective image whether the map's peak lies within 4 px of the defect.
 *
 *   npx tsx models/research/refine-maps.ts --model DIR [--test DATASET ...] [--whole DATASET ...] [--iterations 10]
 */
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../../electron/data/datasets.ts';
import type { DatasetItem } from '../../electron/data/dataset-types.ts';
import { readImage } from '../../electron/data/image-io.ts';
import { PooledPixelMetrics, truthRegions } from '../../electron/data/pooled-metrics.ts';
import { initBackend } from '../../electron/engine/backend.ts';
import { Explainer } from '../../electron/engine/explain.ts';
import { scaledMaps } from '../../electron/engine/map-scale.ts';
import { loadModelDir } from '../../electron/engine/model-dir.ts';
import { readTruth } from '../../electron/engine/truth.ts';

const { values: a } = parseArgs({ options: {
  model: { type: 'string' }, test: { type: 'string', multiple: true }, whole: { type: 'string', multiple: true },
  iterations: { type: 'string', default: '10' }, spread: { type: 'string', default: '0.1' },
} });
if (!a.model) throw new Error('usage: --model DIR [--test DATASET ...] [--whole DATASET ...]');
const ITERATIONS = Number(a.iterations), SPREAD = Number(a.spread);
const DILATIONS = [1, 2, 4, 8, 12, 24];
const OFFSETS = DILATIONS.flatMap((d) => [[-d, -d], [-d, 0], [-d, d], [0, -d], [0, d], [d, -d], [d, 0], [d, d]]);

await initBackend();
const model = await loadModelDir(a.model);
const explainer = Explainer.fromModel(model);
model.net.dispose();
if (!model.manifest.mapScale) throw new Error(`${a.model} has no map scale`);
// The model's scale without its own refinement, if it has one: this script compares raw against refined.
const { refinedOnImage: _, ...scale } = model.manifest.mapScale;

/** Per pixel, the softmax weights over its neighbours (OFFSETS order), clamped at the border. */
function affinities(gray: Float32Array, width: number, height: number): { index: Int32Array; weight: Float32Array } {
  const n = gray.length, k = OFFSETS.length;
  const index = new Int32Array(n * k), weight = new Float32Array(n * k);
  const diff = new Float64Array(k);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      let sum = 0, sumSq = 0;
      for (let o = 0; o < k; o++) {
        const yy = Math.min(height - 1, Math.max(0, y + OFFSETS[o][0])), xx = Math.min(width - 1, Math.max(0, x + OFFSETS[o][1]));
        const j = yy * width + xx;
        index[i * k + o] = j;
        sum += gray[j];
        sumSq += gray[j] * gray[j];
      }
      const mean = sum / k, sd = Math.sqrt(Math.max(0, sumSq / k - mean * mean));
      let top = -Infinity;
      for (let o = 0; o < k; o++) {
        diff[o] = -Math.abs(gray[i] - gray[index[i * k + o]]) / (1e-8 + SPREAD * sd);
        top = Math.max(top, diff[o]);
      }
      let z = 0;
      for (let o = 0; o < k; o++) { diff[o] = Math.exp(diff[o] - top); z += diff[o]; }
      for (let o = 0; o < k; o++) weight[i * k + o] = diff[o] / z;
    }
  }
  return { index, weight };
}

function refine(map: Float32Array, aff: { index: Int32Array; weight: Float32Array }): Float32Array {
  const k = OFFSETS.length;
  let cur = Float32Array.from(map), next = new Float32Array(map.length);
  for (let t = 0; t < ITERATIONS; t++) {
    for (let i = 0; i < cur.length; i++) {
      let s = 0;
      for (let o = 0; o < k; o++) s += aff.weight[i * k + o] * cur[aff.index[i * k + o]];
      next[i] = s;
    }
    [cur, next] = [next, cur];
  }
  return cur;
}

function peakDistance(map: Float32Array, truth: Uint8Array, width: number): number {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
  const px = best % width, py = Math.floor(best / width);
  let d = Infinity;
  for (let i = 0; i < truth.length; i++) if (truth[i]) d = Math.min(d, Math.hypot((i % width) - px, Math.floor(i / width) - py));
  return d;
}

const VARIANTS = ['layer2', 'layer2+refined', 'fused', 'fused+refined'] as const;
async function report(label: string, items: readonly DatasetItem[], root: string): Promise<void> {
  const pooled = Object.fromEntries(VARIANTS.map((v) => [v, new PooledPixelMetrics()])) as Record<(typeof VARIANTS)[number], PooledPixelMetrics>;
  const peaks = Object.fromEntries(VARIANTS.map((v) => [v, new Map<string, { on: number; all: number }>()]));
  const lines: string[] = [];
  for (const item of items) {
    const image = await readImage(item.path);
    const e = await explainer.explain(image, { methods: ['layercam'] });
    const maps = await scaledMaps(e, 'layercam', scale);
    const truth = item.isDefect ? (await readTruth(item, image.width, image.height))?.bits ?? null : new Uint8Array(image.width * image.height);
    if (!truth) continue;
    const gray = new Float32Array(image.width * image.height);
    const ch = image.data.length / gray.length;
    for (let i = 0; i < gray.length; i++) { let s = 0; for (let c = 0; c < Math.min(3, ch); c++) s += image.data[i * ch + c]; gray[i] = s / Math.min(3, ch); }
    const aff = affinities(gray, image.width, image.height);
    const variant = { layer2: maps.layer2!, 'layer2+refined': refine(maps.layer2!, aff), fused: maps.fused!, 'fused+refined': refine(maps.fused!, aff) };
    const regions = truthRegions(truth, image.width);
    const row: string[] = [];
    for (const v of VARIANTS) {
      pooled[v].add(variant[v], regions);
      if (item.isDefect) {
        const d = peakDistance(variant[v], truth, image.width);
        const kind = item.defectKind ?? 'defect';
        const c = peaks[v].get(kind) ?? { on: 0, all: 0 };
        c.all++;
        if (d <= 4) c.on++;
        peaks[v].set(kind, c);
        row.push(`${v} ${d.toFixed(1)}`);
      }
    }
    if (item.isDefect) lines.push(`  ${relative(root, item.path)} ${item.defectKind ?? ''}: peak px from the defect: ${row.join(', ')}`);
  }
  console.log(`\n${label}: ${items.length} images`);
  if (lines.length <= 40) console.log(lines.join('\n'));
  for (const v of VARIANTS) {
    const best = pooled[v].bestMiouThreshold();
    const peakText = [...peaks[v]].map(([k, c]) => `${k} ${c.on}/${c.all}`).join(', ');
    console.log(`  ${v.padEnd(15)} pixel AUROC ${pooled[v].auroc().toFixed(3)}  AUPRO ${pooled[v].aupro().toFixed(3)}  best mIoU ${best?.miou.toFixed(3)} at ${best?.threshold.toFixed(3)}  peak within 4 px: ${peakText}`);
  }
}

for (const path of a.test ?? []) {
  const ds = await openDataset(path);
  await report(`${path} (test split)`, ds.items.filter((i) => i.split === 'test'), path);
}
for (const path of a.whole ?? []) {
  const ds = await openDataset(path);
  await report(`${path} (every image)`, ds.items, path);
}
