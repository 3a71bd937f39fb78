import { defaultMaskDrawn } from '../annotate/mask-threshold.ts';
import { openDataset, type DatasetItem } from '../data/datasets.ts';
import type { Dataset } from '../data/dataset-types.ts';
import type { DatasetSplitRecord } from '../data/split-record.ts';
import { readImage } from '../data/image-io.ts';
import { auroc, averagePrecision, emptyCounts, iouDefect, miou, PixelRoc, segmentationCounts, type SegmentationCounts } from '../data/metrics.ts';
import { AUPRO_FPR_LIMIT, PooledPixelMetrics, truthRegions } from '../data/pooled-metrics.ts';
import { initBackend, describeBackend } from './backend.ts';
import { CAM_METHODS, type CamMethod } from './cam/types.ts';
import { Explainer, type Explanation } from './explain.ts';
import { decisionThreshold } from './calibration.ts';
import { MapScaleFitter } from './fit-map-scale.ts';
import type { MapScale } from './manifest.ts';
import { refinerFor, scaledMaps, SCALED_MAPS } from './map-scale.ts';
import { loadModel } from './model-loader.ts';
import { CAM_LAYERS } from './resnet-spec.ts';
import { splitTrainVal } from './train/sampler.ts';
import { readTruth, truthPath } from './truth.ts';
import { trainedOnMasks } from './trained-masks.ts';

export const EVAL_MAPS = SCALED_MAPS;
export type EvalMap = (typeof EVAL_MAPS)[number];
/** The thresholds searched on the validation split. */
const THRESHOLDS = Array.from({ length: 19 }, (_, i) => Math.round((i + 1) * 5) / 100);

export interface LocalisationScore {
  method: CamMethod;
  map: EvalMap;
  /** At the fixed threshold 0.5 on the normalised map. */
  fixed: { threshold: number; miou: number; iouDefect: number };
  /** At the threshold that maximised mIoU on the validation split's defective images. */
  tuned: { threshold: number; miou: number; iouDefect: number } | null;
  pixelAuroc: number;
}

/**
 * The field's protocol (MVTec AD, anomalib) for one method and map: every test image pooled on
 * the model's map scale, OK images' pixels all negative.
 */
export interface FieldScore {
  method: CamMethod;
  map: EvalMap;
  pixelAuroc: number;
  /** Normalised area under the per-region overlap curve up to a false-positive rate of 0.3. */
  aupro: number;
  /** Pixel average precision (sklearn's average_precision_score). */
  pixelAp: number;
  /** At the model's default threshold on its scale, over every test image, masks drawn where Kizu draws them (mapScale.maskedWhen); null where the model has none. */
  atDefault: { threshold: number; miou: number; iouDefect: number } | null;
  /**
   * The same pooled figures with each image's map multiplied by its calibrated p(defect): how
   * much the classifier's call, darkening the images it clears, adds to the map alone.
   */
  gated: { pixelAuroc: number; aupro: number };
}

/** Figures for one defect kind: its images against every OK test image. */
export interface KindScore {
  kind: string;
  /** Defective test images of this kind. */
  images: number;
  /** Image AUROC of this kind's images against all OK test images. */
  imageAuroc: number;
  /** This kind's images scored under the model's decision threshold: the ones it would pass as OK. */
  missed: number;
  /** Pixel AUROC on this kind's images that have a mask, per method and map (NaN when none has one). */
  pixelAuroc: Array<{ method: CamMethod; map: EvalMap; pixelAuroc: number }>;
  /**
   * The field's protocol on this kind's images pooled with every OK test image, on the model's
   * scale, LayerCAM's maps; bestMiou is the mIoU at the threshold best for these very images
   * (an upper bound, not a threshold the model could have chosen). Empty without a map scale.
   */
  field: Array<{ map: EvalMap; pixelAuroc: number; aupro: number; bestMiou: number | null }>;
}

/**
 * Whether the test split is the one the model was not trained on. 'layout': the dataset brings
 * its own split. 'seeded': Kizu's split, re-derived from the seed in the model's manifest;
 * sameDataset says whether this is the very image list the model was trained on (false for
 * another or a changed dataset, where the per-path split still keeps earlier training images
 * out of test). 'unknown': an older manifest that did not record it.
 */
export type SplitCheck =
  | { policy: 'layout' }
  | { policy: 'seeded'; seed: number; testFraction: number; sameDataset: boolean }
  | { policy: 'unknown' };

export interface EvaluationReport {
  model: string;
  dataset: string;
  /** The tfjs backend and the engine that ran the network's passes (onnxruntime or tfjs). */
  backend: string;
  classification: {
    images: number;
    accuracy: number;
    auroc: number;
    /** Average precision of p(defect), defect the positive class. */
    ap: number;
    /** Rows are the truth (ok, defect), columns the prediction at p >= decisionThreshold. */
    confusion: [[number, number], [number, number]];
    /** Where an image is called defective: the model's calibrated decision threshold, else 0.5. */
    decisionThreshold: number;
    /** Whether p(defect) is calibrated on the model's validation split (manifest.calibration), so the threshold is the one chosen there. */
    calibrated: boolean;
  };
  localisation: {
    images: number;
    validationImages: number;
    truth: 'exact masks' | 'weak labels';
    scores: LocalisationScore[];
  };
  /** The field's protocol; null when there is no map scale (none in the model and no validation images to fit one). */
  field: {
    /** 'manifest': the scale fitted when the model was trained; 'fitted': fitted on the validation split by this evaluation. */
    scaleSource: 'manifest' | 'fitted';
    scale: MapScale;
    /** Test images pooled: the OK ones and the defective ones with a mask. */
    images: number;
    okImages: number;
    /** Defective test images without a mask, left out of the pixel figures. */
    leftOut: number;
    /** Connected truth regions AUPRO averages over. */
    regions: number;
    fprLimit: number;
    scores: FieldScore[];
  } | null;
  /** Per defect kind, where the dataset names kinds (folders, a CSV column, the generator's manifest). */
  kinds: KindScore[];
  split: SplitCheck;
  imagesPerSecond: number;
  seconds: number;
}

function binarise(map: Float32Array, threshold: number): Uint8Array {
  const out = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) out[i] = map[i] >= threshold ? 1 : 0;
  return out;
}

function mapOf(result: Explanation, method: CamMethod, map: EvalMap): Float32Array {
  const m = result.maps[method]!;
  return map === 'fused' ? m.fused!.data : m.layers[map]!.normalised.data;
}

/**
 * Opens the dataset with the split the model was trained with. A seeded split is re-derived
 * from the manifest's seed and fraction; when the image list is the one training saw, its test
 * images must come out the same, or the model would be scored on its own training images. The
 * views are named by the training run's view pattern, so that the validation split is its own.
 */
async function openWithTrainingSplit(data: string, labels: { defectLabel: string; okLabel?: string }, trained: DatasetSplitRecord | undefined): Promise<{ dataset: Dataset; split: SplitCheck }> {
  const split = trained?.policy === 'seeded' ? { seed: trained.seed, testFraction: trained.testFraction } : undefined;
  const dataset = await openDataset(data, { ...labels, split, viewPattern: trained?.viewPattern });
  const made = dataset.split;
  if (made?.policy !== 'seeded') return { dataset, split: { policy: 'layout' } };
  if (!trained) return { dataset, split: { policy: 'unknown' } };
  const sameDataset = trained.policy === 'seeded' && made.itemsDigest === trained.itemsDigest;
  if (sameDataset && made.testDigest !== trained.testDigest) {
    throw new Error(`${data}: the test split re-derived from seed ${trained.seed} differs from the one recorded when the model was trained; evaluating would score training images`);
  }
  return { dataset, split: { policy: 'seeded', seed: made.seed, testFraction: made.testFraction, sameDataset } };
}

/** Defect kinds in order of first appearance; empty when the dataset names none. */
function kindsOf(items: readonly DatasetItem[]): string[] {
  return [...new Set(items.flatMap((i) => (i.isDefect && i.defectKind !== undefined ? [i.defectKind] : [])))];
}

/**
 * Classification on the test split, then localisation for every method x map in two protocols.
 * Kizu's: the defective test images only, each map min-max normalised per image; mIoU and
 * IoU(defect) at 0.5 and at the threshold chosen on the validation split (the training images
 * held out by the same seeded split; never the test split), and pixel AUROC. The field's: every
 * test image with a truth (OK images' pixels negative) pooled on the model's map scale (from its
 * manifest, else fitted here on the validation split); pixel AUROC, AUPRO, pixel AP, and mIoU at
 * the model's default threshold.
 */
export async function evaluate(
  opts: { data: string; model: string; defectLabel?: string; okLabel?: string; valFraction?: number; limit?: number },
  onProgress?: (done: number, total: number, what: string) => void,
): Promise<EvaluationReport> {
  const started = Date.now();
  const backend = await initBackend();
  const model = await loadModel(opts.model);
  const { dataset, split } = await openWithTrainingSplit(opts.data, { defectLabel: opts.defectLabel ?? 'defect', okLabel: opts.okLabel }, model.manifest.provenance.datasetSplit);
  const hasSplits = dataset.items.some((i) => i.split === 'test');
  const test = (hasSplits ? dataset.items.filter((i) => i.split === 'test') : dataset.items).slice(0, opts.limit);
  const learnt = await trainedOnMasks(model.manifest.provenance.trainedMasks, model.manifest.provenance.dataset, test.map((i) => i.path));
  if (learnt.length > 0) {
    model.net.dispose();
    throw new Error(`${opts.model} was trained on the masks of ${learnt.length} of these test images (its manifest names them): `
      + `${learnt.slice(0, 5).join(', ')}${learnt.length > 5 ? ', ...' : ''}; scoring it on them would measure what it memorised. `
      + 'Evaluate on a test split whose masks it never saw, or train without --masks');
  }
  const explainer = Explainer.fromModel(model);
  model.net.dispose();
  const trainItems = hasSplits ? dataset.items.filter((i) => i.split !== 'test') : [];
  const seed = model.manifest.provenance.seed ?? 0;
  const { val } = splitTrainVal(trainItems.map((item, index) => ({ index, isDefect: item.isDefect, view: item.view })), opts.valFraction ?? 0.15, seed);
  const validationAll = val.map((i) => trainItems[i]);
  const hasTruth = (i: DatasetItem) => i.isDefect && truthPath(i) !== null;
  const validation = validationAll.filter(hasTruth);
  const fitter = model.manifest.mapScale || validationAll.length === 0 ? null : new MapScaleFitter();
  const toExplainVal = fitter ? validationAll : validation;
  const defective = test.filter(hasTruth);
  const pooledTest = model.manifest.mapScale || fitter ? test.filter((i) => !i.isDefect || hasTruth(i)) : defective;
  const total = test.length + toExplainVal.length + pooledTest.length;
  let done = 0;
  const tick = (what: string) => onProgress?.(++done, total, what);

  try {
    const probs: number[] = [];
    const classifyStart = Date.now();
    for (const item of test) {
      probs.push((await explainer.classify(await readImage(item.path))).defectProbability);
      tick(item.path);
    }
    const classifySeconds = (Date.now() - classifyStart) / 1000;
    const truth = test.map((i) => i.isDefect);
    const confusion: [[number, number], [number, number]] = [[0, 0], [0, 0]];
    const cut = decisionThreshold(model.manifest);
    probs.forEach((p, i) => confusion[truth[i] ? 1 : 0][p >= cut ? 1 : 0]++);

    const keys = CAM_METHODS.flatMap((method) => EVAL_MAPS.map((map) => ({ method, map })));
    const explainAll = { methods: CAM_METHODS, layers: CAM_LAYERS, fused: true };
    const valCounts = keys.map(() => THRESHOLDS.map(() => emptyCounts()));
    let allExact = true;
    for (const item of toExplainVal) {
      const image = await readImage(item.path);
      const truth = await readTruth(item, image.width, image.height);
      const result = await explainer.explain(image, explainAll);
      if (item.isDefect && truth) {
        allExact &&= truth.exact;
        keys.forEach(({ method, map }, k) => THRESHOLDS.forEach((th, j) => segmentationCounts(binarise(mapOf(result, method, map), th), truth.bits, valCounts[k][j])));
      }
      fitter?.add(result, item.isDefect ? truth?.bits ?? null : 'ok', () => readImage(item.path));
      tick(item.path);
    }
    const scale = model.manifest.mapScale ?? (fitter ? await fitter.finish() : null);
    const tunedThreshold = keys.map((_, k) => {
      if (validation.length === 0) return null;
      let best = 0;
      valCounts[k].forEach((c, j) => { if (miou(c) > miou(valCounts[k][best])) best = j; });
      return THRESHOLDS[best];
    });

    const fixedCounts = keys.map(() => emptyCounts());
    const tunedCounts: SegmentationCounts[] = keys.map(() => emptyCounts());
    const rocs = keys.map(() => new PixelRoc());
    const kinds = kindsOf(test);
    const kindRocs = new Map(kinds.map((kind) => [kind, keys.map(() => new PixelRoc())]));
    const pooled = keys.map(() => new PooledPixelMetrics());
    const gated = keys.map(() => new PooledPixelMetrics());
    const kindPooled = new Map(kinds.map((kind) => [kind, EVAL_MAPS.map(() => new PooledPixelMetrics())]));
    const defaultCounts = keys.map(() => emptyCounts());
    for (const item of pooledTest) {
      const image = await readImage(item.path);
      const truth = (await readTruth(item, image.width, image.height))!;
      const mask = truth.bits;
      const result = await explainer.explain(image, explainAll);
      if (item.isDefect) {
        allExact &&= truth.exact;
        keys.forEach(({ method, map }, k) => {
          const m = mapOf(result, method, map);
          segmentationCounts(binarise(m, 0.5), mask, fixedCounts[k]);
          const th = tunedThreshold[k];
          if (th !== null) segmentationCounts(binarise(m, th), mask, tunedCounts[k]);
          rocs[k].add(m, mask);
          if (item.defectKind !== undefined) kindRocs.get(item.defectKind)?.[k].add(m, mask);
        });
      }
      if (scale) {
        const truthAreas = truthRegions(mask, image.width);
        // The default masks as the review and the exports draw them.
        const drawn = defaultMaskDrawn({ kind: 'model-default' }, 'model', scale.maskedWhen === 'called-defect', result.defectProbability, cut);
        const refiner = await refinerFor(scale, image, result.inputSize);
        for (const method of CAM_METHODS) {
          const maps = await scaledMaps(result, method, scale, refiner);
          keys.forEach((key, k) => {
            if (key.method !== method) return;
            const m = maps[key.map]!;
            pooled[k].add(m, truthAreas);
            gated[k].add(m.map((v) => v * result.defectProbability), truthAreas);
            const th = scale.methods[method].threshold[key.map];
            if (th !== null) segmentationCounts(drawn ? binarise(m, th) : new Uint8Array(m.length), mask, defaultCounts[k]);
          });
          if (method !== 'layercam') continue;
          // An OK image is a negative for every kind; a defective one counts for its own kind only.
          const kindsOfItem = item.isDefect ? (item.defectKind === undefined ? [] : [item.defectKind]) : kinds;
          for (const kind of kindsOfItem) EVAL_MAPS.forEach((map, j) => kindPooled.get(kind)?.[j].add(maps[map]!, truthAreas));
        }
      }
      tick(item.path);
    }

    return {
      model: `${model.manifest.name} (${opts.model})`,
      dataset: opts.data,
      backend: `${describeBackend(backend)}; passes on ${(await explainer.engine()).name}`,
      classification: {
        images: test.length,
        accuracy: probs.filter((p, i) => (p >= cut) === truth[i]).length / Math.max(1, probs.length),
        auroc: auroc(probs, truth),
        ap: averagePrecision(probs, truth),
        confusion,
        decisionThreshold: cut,
        calibrated: model.manifest.calibration !== undefined,
      },
      localisation: {
        images: defective.length,
        validationImages: validation.length,
        truth: allExact ? 'exact masks' : 'weak labels',
        scores: keys.map(({ method, map }, k) => ({
          method,
          map,
          fixed: { threshold: 0.5, miou: miou(fixedCounts[k]), iouDefect: iouDefect(fixedCounts[k]) },
          tuned: tunedThreshold[k] === null ? null : { threshold: tunedThreshold[k]!, miou: miou(tunedCounts[k]), iouDefect: iouDefect(tunedCounts[k]) },
          pixelAuroc: rocs[k].auroc(),
        })),
      },
      field: scale === null ? null : {
        scaleSource: model.manifest.mapScale ? 'manifest' : 'fitted',
        scale,
        images: pooledTest.length,
        okImages: pooledTest.filter((i) => !i.isDefect).length,
        leftOut: test.filter((i) => i.isDefect && !truthPath(i)).length,
        regions: pooled[0].regions,
        fprLimit: AUPRO_FPR_LIMIT,
        scores: keys.map(({ method, map }, k) => {
          const th = scale.methods[method].threshold[map];
          return {
            method,
            map,
            pixelAuroc: pooled[k].auroc(),
            aupro: pooled[k].aupro(),
            pixelAp: pooled[k].averagePrecision(),
            atDefault: th === null ? null : { threshold: th, miou: miou(defaultCounts[k]), iouDefect: iouDefect(defaultCounts[k]) },
            gated: { pixelAuroc: gated[k].auroc(), aupro: gated[k].aupro() },
          };
        }),
      },
      kinds: kinds.map((kind) => {
        const ofKind = test.map((item) => item.isDefect && item.defectKind === kind);
        const mine = test.map((item, i) => ofKind[i] || !item.isDefect);
        return {
          kind,
          images: ofKind.filter(Boolean).length,
          imageAuroc: auroc(probs.filter((_, i) => mine[i]), truth.filter((_, i) => mine[i])),
          missed: probs.filter((p, i) => ofKind[i] && p < cut).length,
          pixelAuroc: keys.map(({ method, map }, k) => ({ method, map, pixelAuroc: kindRocs.get(kind)![k].auroc() })),
          field: scale === null ? [] : EVAL_MAPS.map((map, j) => {
            const m = kindPooled.get(kind)![j];
            return { map, pixelAuroc: m.auroc(), aupro: m.aupro(), bestMiou: m.bestMiouThreshold()?.miou ?? null };
          }),
        };
      }),
      split,
      imagesPerSecond: test.length / Math.max(1e-9, classifySeconds),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    explainer.dispose();
  }
}

const METHOD_NAMES: Record<CamMethod, string> = { layercam: 'LayerCAM', gradcam: 'Grad-CAM', gradcampp: 'Grad-CAM++' };

function splitLine(s: SplitCheck): string {
  if (s.policy === 'layout') return 'Split: the dataset\'s own train/test split.';
  if (s.policy === 'unknown') return 'Split: the model\'s manifest does not record its training split; the test split may hold images it was trained on.';
  return s.sameDataset
    ? `Split: seeded (seed ${s.seed}, ${s.testFraction} for test), the same test images as when the model was trained.`
    : `Split: seeded (seed ${s.seed}, ${s.testFraction} for test) on a dataset other than the one the model was trained on.`;
}

function fieldLines(r: EvaluationReport): string[] {
  const f = r.field;
  if (!f) return ['The field\'s protocol: not computed; the model has no map scale and there are no validation images to fit one on.'];
  const num = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(4));
  const pct = (v: number) => (v * 100).toFixed(1);
  const source = f.scaleSource === 'manifest'
    ? 'the model\'s map scale'
    : `a map scale fitted by this evaluation on ${f.scale.fittedOn.images} validation images (the model has none; models trained from now on keep one)`;
  return [
    `The field's protocol (MVTec AD, anomalib): ${f.images} test images pooled (${f.okImages} OK, all their pixels negative; ${f.images - f.okImages} defective with masks, ${f.regions} regions${f.leftOut ? `; ${f.leftOut} defective without a mask left out` : ''}), maps on ${source}; AUPRO up to a false-positive rate of ${f.fprLimit}; mIoU over all of them at the model's default threshold (in %); x p: each map multiplied by its image's calibrated p(defect):`,
    '',
    '| method | map | pixel AUROC | AUPRO | pixel AP | default threshold | mIoU | IoU(defect) | pixel AUROC x p | AUPRO x p |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...f.scores.map((s) =>
      `| ${METHOD_NAMES[s.method]} | ${s.map} | ${num(s.pixelAuroc)} | ${num(s.aupro)} | ${num(s.pixelAp)} | ${s.atDefault ? s.atDefault.threshold.toFixed(4) : '-'} | ${s.atDefault ? pct(s.atDefault.miou) : '-'} | ${s.atDefault ? pct(s.atDefault.iouDefect) : '-'} | ${num(s.gated.pixelAuroc)} | ${num(s.gated.aupro)} |`),
  ];
}

/** The report as Markdown: a classification line, Kizu's localisation table and the field's. */
export function formatEvaluation(r: EvaluationReport): string {
  const pct = (v: number) => (Number.isNaN(v) ? 'n/a' : (v * 100).toFixed(1));
  const c = r.classification;
  const lines = [
    `**Model** ${r.model} on ${r.backend}; **data** ${r.dataset}`,
    '',
    `Classification (${c.images} test images): accuracy ${pct(c.accuracy)}%, AUROC ${c.auroc.toFixed(4)}, AP ${c.ap.toFixed(4)}; at p(defect) >= ${c.decisionThreshold.toFixed(3)} (${c.calibrated ? "the model's decision threshold, p calibrated on its validation split" : 'uncalibrated softmax'}): confusion (rows truth ok/defect, columns predicted ok/defect): [[${c.confusion[0].join(', ')}], [${c.confusion[1].join(', ')}]], OK images over it ${pct(c.confusion[0][1] / (c.confusion[0][0] + c.confusion[0][1]))}%, defective under it ${pct(c.confusion[1][0] / (c.confusion[1][0] + c.confusion[1][1]))}%; ${r.imagesPerSecond.toFixed(2)} images/s.`,
    '',
    `Kizu's protocol: localisation on ${r.localisation.images} defective test images, each map min-max normalised per image, against ${r.localisation.truth}; thresholds tuned on ${r.localisation.validationImages} validation images (mIoU = mean of IoU(defect) and IoU(background), in %):`,
    '',
    '| method | map | mIoU @0.5 | IoU(defect) @0.5 | tuned threshold | mIoU @tuned | IoU(defect) @tuned | pixel AUROC |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.localisation.scores.map((s) =>
      `| ${METHOD_NAMES[s.method]} | ${s.map} | ${pct(s.fixed.miou)} | ${pct(s.fixed.iouDefect)} | ${s.tuned ? s.tuned.threshold.toFixed(2) : '-'} | ${s.tuned ? pct(s.tuned.miou) : '-'} | ${s.tuned ? pct(s.tuned.iouDefect) : '-'} | ${s.pixelAuroc.toFixed(4)} |`),
  ];
  lines.push('', ...fieldLines(r));
  if (r.kinds.length > 0) {
    lines.push('', 'Per defect kind (image AUROC against every OK test image; images under the decision threshold, passed as OK; LayerCAM pixel AUROC per map):', '',
      `| kind | images | image AUROC | passed as OK | ${EVAL_MAPS.map((m) => `LayerCAM ${m}`).join(' | ')} |`,
      `| --- | --- | --- | --- | ${EVAL_MAPS.map(() => '---').join(' | ')} |`,
      ...r.kinds.map((k) => {
        const px = EVAL_MAPS.map((map) => k.pixelAuroc.find((p) => p.method === 'layercam' && p.map === map)!.pixelAuroc);
        return `| ${k.kind} | ${k.images} | ${k.imageAuroc.toFixed(4)} | ${k.missed} | ${px.map((v) => (Number.isNaN(v) ? 'n/a' : v.toFixed(4))).join(' | ')} |`;
      }));
    if (r.kinds.some((k) => k.field.length > 0)) {
      const f = (v: number | null) => (v === null || Number.isNaN(v) ? 'n/a' : v.toFixed(4));
      lines.push('', "Per defect kind, the field's protocol (the kind's images pooled with every OK test image, model scale; LayerCAM pixel AUROC / AUPRO / best mIoU per map):", '',
        `| kind | ${EVAL_MAPS.map((m) => `LayerCAM ${m}`).join(' | ')} |`,
        `| --- | ${EVAL_MAPS.map(() => '---').join(' | ')} |`,
        ...r.kinds.map((k) => `| ${k.kind} | ${k.field.map((s) => `${f(s.pixelAuroc)} / ${f(s.aupro)} / ${f(s.bestMiou)}`).join(' | ')} |`));
    }
  }
  lines.push('', splitLine(r.split));
  return lines.join('\n');
}
