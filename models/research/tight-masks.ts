/**
 * Masks at the default threshold are regions, not outlines: one threshold for lines and blobs,
 * held up by the busiest OK images, draws around a 2 px crack a region 30-70 times its area.
 * Would cutting each region again against its own peak follow the defect? For every test image,
 * the model's default mask as `kizu evaluate` scores it (map refined on the image, on the model's
 * scale, the default threshold, empty where the image is called OK; before the review's clean-up,
 * which fills holes and drops specks under 16 px), then per 8-connected region
 * of it:
 *   - 'fraction F': keep the pixels at or above F times the region's own maximum (F = 0.5 is the
 *     half-maximum, the usual width of a peak);
 *   - 'otsu': keep the pixels over Otsu's split of the region's own values.
 * and, on the fused map only, 'shaped by layer2': each fused region keeps the layer2 default mask's
 * pixels inside it where it has any (the coarse map finds the region, the fine one draws its
 * shape), and stays whole where layer2 drew nothing in it.
 * Reports, per map: pooled mIoU and IoU(defect) over the test split as `kizu evaluate` counts
 * them; per defect kind, IoU(defect) pooled and the mean per image; and on each defective image
 * the mask's area against the truth's.
 *
 *   npx tsx models/research/tight-masks.ts --model DIR --test DATASET [--maps fused,layer2]
 */
import { parseArgs } from 'node:util';
import { labelComponents } from '../../electron/annotate/components.ts';
import { thresholdValue } from '../../electron/annotate/threshold.ts';
import { openDataset } from '../../electron/data/datasets.ts';
import { readImage } from '../../electron/data/image-io.ts';
import { emptyCounts, iouDefect, miou, segmentationCounts, type SegmentationCounts } from '../../electron/data/metrics.ts';
import { initBackend } from '../../electron/engine/backend.ts';
import { decisionThreshold } from '../../electron/engine/calibration.ts';
import { Explainer } from '../../electron/engine/explain.ts';
import { refinerFor, scaledMaps, type ScaledMapName } from '../../electron/engine/map-scale.ts';
import { loadModelDir } from '../../electron/engine/model-dir.ts';
import { readTruth } from '../../electron/engine/truth.ts';

const { values: a } = parseArgs({ options: {
  model: { type: 'string' }, test: { type: 'string' }, maps: { type: 'string', default: 'fused,layer2' },
} });
if (!a.model || !a.test) throw new Error('usage: --model DIR --test DATASET [--maps fused,layer2]');
const MAPS = a.maps!.split(',') as ScaledMapName[];

type Variant = { name: string; cut: (map: Float32Array, mask: Uint8Array, width: number, height: number, layer2Mask: Uint8Array) => Uint8Array };

/** Re-cuts every region of `mask` by a rule on that region's own values. */
function perRegion(rule: (values: Float32Array) => number): Variant['cut'] {
  return (map, mask, width, height) => {
    const { labels, components } = labelComponents({ width, height, data: mask });
    const values = components.map((c) => new Float32Array(c.area));
    const fill = new Int32Array(components.length);
    for (let i = 0; i < labels.length; i++) if (labels[i]) values[labels[i] - 1][fill[labels[i] - 1]++] = map[i];
    const cutOf = values.map(rule);
    const out = new Uint8Array(mask.length);
    for (let i = 0; i < labels.length; i++) if (labels[i] && map[i] >= cutOf[labels[i] - 1]) out[i] = 1;
    return out;
  };
}

function maxOf(v: Float32Array): number { let m = -Infinity; for (const x of v) m = Math.max(m, x); return m; }

/** Otsu over the region's values rescaled to [0, 1] between its minimum and maximum. */
function otsuOf(v: Float32Array): number {
  let lo = Infinity, hi = -Infinity;
  for (const x of v) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
  if (!(hi > lo)) return lo;
  const unit = v.map((x) => (x - lo) / (hi - lo));
  return lo + thresholdValue({ width: unit.length, height: 1, data: unit }, { kind: 'otsu' }) * (hi - lo);
}

const VARIANTS: Variant[] = [
  { name: 'as cut (shipped)', cut: (_m, mask) => mask },
  ...[0.3, 0.5, 0.7].map((f) => ({ name: `fraction ${f}`, cut: perRegion((v) => f * maxOf(v)) })),
  { name: 'otsu', cut: perRegion(otsuOf) },
  { name: 'shaped by layer2', cut: shapedBy },
];

function shapedBy(_map: Float32Array, mask: Uint8Array, width: number, height: number, fine: Uint8Array): Uint8Array {
  const { labels, components } = labelComponents({ width, height, data: mask });
  const hasFine = new Uint8Array(components.length + 1);
  for (let i = 0; i < labels.length; i++) if (labels[i] && fine[i]) hasFine[labels[i]] = 1;
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < labels.length; i++) if (labels[i]) out[i] = hasFine[labels[i]] ? fine[i] : 1;
  return out;
}

await initBackend();
const model = await loadModelDir(a.model);
const explainer = Explainer.fromModel(model);
model.net.dispose();
const scale = model.manifest.mapScale;
if (!scale) throw new Error(`${a.model} has no map scale`);
const cutP = decisionThreshold(model.manifest);
const ds = await openDataset(a.test);
const test = ds.items.filter((i) => i.split === 'test');

interface Tally { pooled: SegmentationCounts; kinds: Map<string, { pooled: SegmentationCounts; perImage: number[]; areaRatio: number[] }> }
const tallies = new Map<string, Tally>();
const tallyOf = (key: string): Tally => {
  let t = tallies.get(key);
  if (!t) tallies.set(key, (t = { pooled: emptyCounts(), kinds: new Map() }));
  return t;
};

let n = 0;
for (const item of test) {
  const image = await readImage(item.path);
  const truth = item.isDefect ? (await readTruth(item, image.width, image.height))?.bits ?? null : new Uint8Array(image.width * image.height);
  if (!truth) continue;
  const e = await explainer.explain(image, { methods: ['layercam'], layers: ['layer2', 'layer3', 'layer4'], fused: true });
  const maps = await scaledMaps(e, 'layercam', scale, await refinerFor(scale, image, e.inputSize));
  const drawn = scale.maskedWhen !== 'called-defect' || e.defectProbability >= cutP;
  const layer2Mask = new Uint8Array(image.width * image.height);
  const layer2Th = scale.methods.layercam.threshold.layer2;
  if (drawn && layer2Th !== null) maps.layer2!.forEach((v, i) => { layer2Mask[i] = v >= layer2Th ? 1 : 0; });
  for (const name of MAPS) {
    const map = maps[name]!;
    const th = scale.methods.layercam.threshold[name];
    if (th === null) continue;
    const base = new Uint8Array(map.length);
    if (drawn) for (let i = 0; i < map.length; i++) base[i] = map[i] >= th ? 1 : 0;
    for (const v of VARIANTS) {
      // Shaping layer2's own regions by layer2 would give them back unchanged.
      if (v.cut === shapedBy && name === 'layer2') continue;
      const mask = v.cut(map, base, image.width, image.height, layer2Mask);
      const t = tallyOf(`${name} | ${v.name}`);
      segmentationCounts(mask, truth, t.pooled);
      if (!item.isDefect) continue;
      const kind = item.defectKind ?? 'defect';
      let k = t.kinds.get(kind);
      if (!k) t.kinds.set(kind, (k = { pooled: emptyCounts(), perImage: [], areaRatio: [] }));
      const c = segmentationCounts(mask, truth, emptyCounts());
      segmentationCounts(mask, truth, k.pooled);
      k.perImage.push(iouDefect(c));
      if (drawn) k.areaRatio.push((c.tp + c.fp) / Math.max(1, c.tp + c.fn));
    }
  }
  if (++n % 40 === 0) console.error(`${n} / ${test.length}`);
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const median = (xs: number[]) => { const s = [...xs].sort((p, q) => p - q); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
console.log(`${a.model} on ${a.test}: ${n} test images; decision threshold ${cutP.toFixed(3)}; default thresholds ${MAPS.map((m) => `${m} ${scale.methods.layercam.threshold[m]?.toFixed(3)}`).join(', ')}`);
for (const [key, t] of tallies) {
  console.log(`\n${key}: pooled mIoU ${miou(t.pooled).toFixed(3)}, IoU(defect) ${iouDefect(t.pooled).toFixed(3)}`);
  for (const [kind, k] of t.kinds) {
    console.log(`  ${kind.padEnd(12)} IoU(defect) pooled ${iouDefect(k.pooled).toFixed(3)}, mean per image ${mean(k.perImage).toFixed(3)}; mask / truth area, median over ${k.areaRatio.length} masked: ${median(k.areaRatio).toFixed(2)}`);
  }
}
