import { appendFile, mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { openDataset, type DatasetItem } from '../../data/datasets.ts';
import { probeImage, readImage } from '../../data/image-io.ts';
import { openOkImages } from '../../data/ok-images.ts';
import { auroc } from '../../data/metrics.ts';
import { hashSeed } from '../../data/synth/rng.ts';
import { initBackend, describeBackend } from '../backend.ts';
import { chooseTrainingEngine } from '../onnx/onnx-training.ts';
import { initialiseResNet } from '../init-weights.ts';
import { MANIFEST_SCHEMA_VERSION, type Manifest } from '../manifest.ts';
import { recordTrainedMasks } from '../trained-masks.ts';
import { truthPath } from '../truth.ts';
import { probeMaskSize } from '../../data/mask-reader.ts';
import { saveModelDir } from '../model-dir.ts';
import { fitOnValidation } from '../fit-validation.ts';
import { initWidth, loadInitWeights } from './init-from.ts';
import { RESNET50_BLOCKS, resnetSpec, type HeadPooling } from '../resnet-spec.ts';
import { DEFAULT_AUGMENT, type AugmentOptions } from './augment.ts';
import { trainingCanvas } from './canvas.ts';
import { clearEpochWeights, loadBest, loadCheckpoint, loadEpochWeights, newCheckpointState, saveBest, saveCheckpoint, saveEpochWeights, type BestState } from './checkpoint.ts';
import { meanStatistics, updateRunningStats } from './grad-step.ts';
import { flattenNet, netFromFlat, ParamLayout } from './param-layout.ts';
import { epochOrder, shuffled, splitTrainVal, type LabelledIndex } from './sampler.ts';
import { Rng } from '../../data/synth/rng.ts';
import { learningRate, Sgd } from './sgd.ts';
import { AdamW, ADAMW_DEFAULTS } from './adamw.ts';
import { InProcessPool, ThreadPool, type ShardPool } from './shard-pool.ts';
import type { MicroBatchPlan, ShardConfig } from './shard.ts';
import { SIDE_HEAD_LAYERS, type SideHeadLayer } from './side-heads.ts';
import { averageWeights } from './weight-average.ts';

export interface TrainOptions {
  data: string;
  defectLabel: string;
  /** Folder layouts: which folder holds the OK images; every other folder is then a defect kind. */
  okLabel?: string;
  out: string;
  epochs: number;
  /** Images per optimiser step (the effective batch). */
  batch: number;
  /** Images per forward/backward pass; gradients accumulate up to `batch`. */
  microBatch: number;
  lr: number;
  /** SGD with momentum, or AdamW (indifferent to the gradient's scale). */
  optimizer: 'sgd' | 'adamw';
  momentum: number;
  weightDecay: number;
  warmupEpochs: number;
  /**
   * The training canvas's size: about inputSize x inputSize pixels, shaped like the training
   * images' median aspect (canvas.ts), so square sets train on inputSize x inputSize.
   */
  inputSize: number;
  /**
   * Stem width: 64 is torchvision's ResNet50; smaller keeps the same topology, narrower. When
   * absent: the width of the --init weights, else SCRATCH_WIDTH.
   */
  width?: number;
  init?: string;
  resume: boolean;
  seed: number;
  valFraction: number;
  /** Names each image's view from its path (OpenOptions.viewPattern): the splits keep views whole. */
  viewPattern?: string;
  /** Data-parallel worker threads; 0 runs in this thread. */
  workers: number;
  /** Checkpoint every N steps (and at every epoch's end). */
  checkpointEvery: number;
  augment: AugmentOptions;
  balance: boolean;
  pooling: HeadPooling;
  /**
   * Share of the run (of its time with --minutes, else of its steps) spent on the pretext: OK
   * images only, half of them with a synthetic defect drawn in, the class-score map supervised
   * by its exact mask. 0 skips it.
   */
  pretextFraction: number;
  /**
   * Side of the crops the pretext trains on, at the input resolution: small defects keep
   * every pixel, and a step costs a fraction of a whole image. Capped at the input size.
   */
  pretextCrop: number;
  /** After the pretext: share of OK images that still get a synthetic defect, so the map stays local. */
  pasteRate: number;
  /** Weight of the dense class-score-map loss (0 turns it off). */
  denseWeight: number;
  /**
   * Training-only 1x1 heads on these stages (side-heads.ts), supervised by the same truth as
   * the dense term (pasted defects, masks, OK images) at their stage's resolution, with the
   * same weight; dropped from the saved model. Need denseWeight > 0.
   */
  sideHeads: SideHeadLayer[];
  /** Largest gradient norm a step applies; larger ones are scaled down to it (0 = no limit). */
  clipNorm: number;
  /**
   * A time budget: the run measures its first steps, then plans as many as fit in this many
   * minutes (learning-rate schedule and phases included) instead of --epochs.
   */
  minutes?: number;
  /**
   * Save the parameters that scored the best validation AUROC (at the end of any epoch, pretext
   * included) rather than the last step's: on real photographs the last steps can undo what
   * the pretext had already found (BSData: 0.92 after the pretext, 0.84 after a short
   * fine-tune). False keeps the last step's.
   */
  keepBest: boolean;
  /**
   * Average the parameters at the ends of the last N fine-tune epochs (0 or 1: off), to damp
   * the epoch-to-epoch swings of a fine-tune (RECIPES K14-f); under the default cosine decay
   * to zero the mean scored under the best epoch (K14-i), so it is off. The mean is validated
   * like an epoch; with keepBest it is saved only when it scores at least the best epoch. Not
   * part of the resume fingerprint: it does not change a step, and a resumed run averages the
   * epochs it finds saved.
   */
  averageLast: number;
  /**
   * `kizu train --masks`: a defective training-split image with a mask (the dataset's, or a
   * project's reviewed one written into its training set) supervises the class-score map with
   * it, at layer4's resolution, in place of the label's silence about where. Validation and
   * test images' masks are never trained on. Needs denseWeight > 0.
   */
  masks: boolean;
  /**
   * `kizu train --masks N`: train on N of the training split's masks, a seeded draw, as an
   * inspector who has reviewed only a few would; undefined trains on all of them.
   */
  maskLimit?: number;
  /** How the run was asked for, for the manifest's provenance. */
  command?: string;
  /**
   * `kizu pretrain`: the pretext alone, on a folder's OK images (any layout; a folder of
   * images without one counts as all OK), no label needed. Its model is an --init.
   */
  pretextOnly?: boolean;
}

export const DEFAULT_TRAIN_OPTIONS: Omit<TrainOptions, 'data' | 'out'> = {
  defectLabel: 'defect',
  epochs: 15,
  batch: 16,
  // A full-width ResNet50 at 224 px needs about 3 GB of wasm heap for 4 images; 8 exceed its 4 GB.
  microBatch: 4,
  lr: 0.001,
  optimizer: 'adamw',
  momentum: 0.9,
  weightDecay: 1e-4,
  warmupEpochs: 1,
  inputSize: 512,
  resume: false,
  seed: 0,
  valFraction: 0.15,
  workers: Math.min(2, availableParallelism()),
  checkpointEvery: 50,
  augment: DEFAULT_AUGMENT,
  balance: true,
  pooling: { kind: 'topk', fraction: 1 / 16 },
  pretextFraction: 0.5,
  pretextCrop: 256,
  pasteRate: 0.33,
  denseWeight: 1,
  sideHeads: [],
  clipNorm: 0,
  keepBest: true,
  averageLast: 0,
  masks: false,
};

/**
 * The baseline every recipe figure stands beside (`kizu train --plain`): the same network, head,
 * input and schedule, on the image labels alone, so the difference is what synthetic defects add.
 */
export const PLAIN_BASELINE = { pretextFraction: 0, pasteRate: 0, denseWeight: 0 } as const satisfies Partial<TrainOptions>;

/**
 * Masks supervise the side heads at layer2 and layer3 too: a real defect is often smaller than
 * one layer4 cell. Without masks the default's, until a measurement says otherwise.
 */
export function sideHeadsFor(masks: boolean): SideHeadLayer[] {
  return masks ? [...SIDE_HEAD_LAYERS] : [...DEFAULT_TRAIN_OPTIONS.sideHeads];
}

/**
 * From scratch on a 2-core CPU, a quarter-width network gets about 16x the steps of a full one
 * in the same time; the topology (and every layer name) stays torchvision's.
 */
export const SCRATCH_WIDTH = 16;

/** Steps timed before a time budget is turned into a step count... */
const BUDGET_PROBE_STEPS = 3;
/** ...after this many of the phase, which are slower (cold image cache). */
const BUDGET_SKIP_STEPS = 2;
/** Validation passes and checkpoints also take time: plan steps for this share less. */
const BUDGET_MARGIN = 1.1;
/**
 * A planned run re-plans every this many steps from its recent wall-clock pace: a shared
 * machine's pace drifts, and a pretext planned on its first fast steps overran into the
 * fine-tune's share (16 fine-tune steps instead of some 70 on a loaded machine).
 */
const BUDGET_REPLAN_EVERY = 25;
/** Steps whose wall-clock time (validation and checkpoints included) gives the recent pace. */
const PACE_WINDOW = 50;
type BudgetStage = 'probe-pretext' | 'probe-finetune' | 'planned';

/**
 * Each phase's pace in this process. The first steps of a phase decode and cache images they
 * meet for the first time, so timing starts only after BUDGET_SKIP_STEPS of them.
 */
class PhaseClock {
  private readonly seen = new Map<string, number>();
  private readonly starts = new Map<string, { time: number; step: number }>();

  /** Call after each step, with the number of steps now finished. */
  stepDone(phase: string, stepsDone: number): void {
    const n = (this.seen.get(phase) ?? 0) + 1;
    this.seen.set(phase, n);
    if (n === BUDGET_SKIP_STEPS) this.starts.set(phase, { time: Date.now(), step: stepsDone });
  }

  /** Mean seconds per step of the phase since timing started, and over how many steps. */
  pace(phase: string, stepsDone: number): { seconds: number; steps: number } | null {
    const start = this.starts.get(phase);
    if (!start) return null;
    const steps = stepsDone - start.step;
    return steps > 0 ? { seconds: (Date.now() - start.time) / 1000 / steps, steps } : null;
  }
}
/** Defect positions are few in a layer4 map: weigh them up so the map does not learn "never". */
const DENSE_POSITIVE_WEIGHT = 10;

export interface TrainProgress {
  phase: 'prepare' | 'train' | 'validate' | 'done' | 'cancelled';
  step: number;
  totalSteps: number;
  epoch: number;
  loss?: number;
  accuracy?: number;
  lr?: number;
  imagesPerSecond?: number;
  etaSeconds: number | null;
  message: string;
  validation?: ValidationResult;
}

export interface ValidationResult {
  /** 1-based, like the step log's epochs. */
  epoch: number;
  accuracy: number;
  auroc: number;
  loss: number;
}

export interface TrainResult {
  modelDir: string;
  /** --masks: masks found on the training images (both splits), and those trained on (the training split's). */
  masks?: { found: number; used: number };
  cancelled: boolean;
  steps: number;
  validation: ValidationResult | null;
  /** Wall-clock seconds of the whole run, earlier sessions' included when it was resumed. */
  seconds: number;
}

const CLASSES = ['ok', 'defect'];
const DEFECT_CLASS = 1;

/** Per-channel mean and std of the training pixels (at most 64 images), for the manifest. */
async function pixelStatistics(paths: string[], channels: 1 | 3): Promise<{ mean: number[]; std: number[] }> {
  const sums = new Float64Array(channels);
  const squares = new Float64Array(channels);
  let n = 0;
  for (const path of paths.slice(0, 64)) {
    const img = await readImage(path);
    for (let i = 0; i < img.width * img.height; i++) {
      for (let c = 0; c < channels; c++) {
        const v = img.data[i * img.channels + (img.channels === 1 ? 0 : c)];
        sums[c] += v;
        squares[c] += v * v;
      }
    }
    n += img.width * img.height;
  }
  const mean = Array.from(sums, (s) => s / n);
  const std = Array.from(squares, (s, c) => Math.max(1e-3, Math.sqrt(s / n - mean[c] ** 2)));
  return { mean: mean.map((v) => Math.round(v * 1e6) / 1e6), std: std.map((v) => Math.round(v * 1e6) / 1e6) };
}

function fingerprint(o: TrainOptions & { width: number }, dataset: string): string {
  return JSON.stringify({
    dataset, defectLabel: o.defectLabel, okLabel: o.okLabel, epochs: o.epochs, batch: o.batch, microBatch: o.microBatch, lr: o.lr, optimizer: o.optimizer,
    momentum: o.momentum, weightDecay: o.weightDecay, warmupEpochs: o.warmupEpochs, inputSize: o.inputSize,
    width: o.width, init: o.init ?? null, seed: o.seed, valFraction: o.valFraction, workers: o.workers,
    augment: o.augment, balance: o.balance, pooling: o.pooling, pretextFraction: o.pretextFraction, pretextCrop: o.pretextCrop, pasteRate: o.pasteRate,
    denseWeight: o.denseWeight, clipNorm: o.clipNorm, minutes: o.minutes ?? null, pretextOnly: o.pretextOnly ?? false, keepBest: o.keepBest,
    masks: o.masks, maskLimit: o.maskLimit ?? null,
    // Only when asked for, so checkpoints from before side heads and view patterns existed still resume.
    ...(o.sideHeads.length > 0 ? { sideHeads: o.sideHeads } : {}),
    ...(o.viewPattern !== undefined ? { viewPattern: o.viewPattern } : {}),
  });
}

/**
 * Scales the step's gradient down to `maxNorm` when it is longer: the top-k head routes a
 * whole image's gradient through a few positions, and early steps can spike. Returns the norm
 * before clipping, for the log.
 */
function clipGradients(layout: ParamLayout, grads: Float32Array, maxNorm: number): number {
  let sq = 0;
  for (const slot of layout.trainable) for (let i = slot.offset, end = slot.offset + slot.size; i < end; i++) sq += grads[i] * grads[i];
  const norm = Math.sqrt(sq);
  if (maxNorm > 0 && norm > maxNorm) {
    const k = maxNorm / norm;
    for (const slot of layout.trainable) for (let i = slot.offset, end = slot.offset + slot.size; i < end; i++) grads[i] *= k;
  }
  return norm;
}

/** Splits one step's images into micro-batches and deals them out to the workers. */
function stepPlans(indices: number[], pastes: boolean[], crop: number | undefined, step: number, o: TrainOptions, workers: number): MicroBatchPlan[][] {
  const plans: MicroBatchPlan[][] = Array.from({ length: workers }, () => []);
  for (let m = 0, k = 0; m < indices.length; m += o.microBatch, k++) {
    const part = indices.slice(m, m + o.microBatch);
    plans[k % workers].push({ indices: part, seeds: part.map((_, j) => hashSeed(o.seed, 'augment', step, m + j)), pastes: pastes.slice(m, m + o.microBatch), crop });
  }
  return plans;
}

/**
 * A step's images from an endless sequence of epoch orders over `set`: a pure function of
 * (seed, salt, step), so a resumed run draws exactly what the uninterrupted one would.
 */
function stepIndices(set: readonly LabelledIndex[], balance: boolean, step: number, batch: number, seed: number): number[] {
  const perEpoch = Math.max(1, Math.floor(epochOrder(set, 0, seed, balance).length / batch));
  const epoch = Math.floor(step / perEpoch);
  const within = step % perEpoch;
  return epochOrder(set, epoch, seed, balance).slice(within * batch, (within + 1) * batch);
}

function crossEntropy(probabilities: number[], defect: boolean[]): number {
  let sum = 0;
  probabilities.forEach((p, i) => (sum -= Math.log(Math.max(1e-7, defect[i] ? p : 1 - p))));
  return sum / probabilities.length;
}

/**
 * The masks --masks trains on: a defective training-split image's exact mask or mask (truth.ts),
 * checked against its image's size. Validation images' masks are counted, never used.
 */
async function trainingMasks(items: readonly DatasetItem[], sizes: ReadonlyArray<{ width: number; height: number }>, trainIdx: readonly number[], valIdx: readonly number[], limit: number | undefined, seed: number) {
  const perImage: Array<string | null> = items.map(() => null);
  const withMask = (i: number) => (items[i].isDefect ? truthPath(items[i])?.path ?? null : null);
  const used: number[] = [];
  const skipped: string[] = [];
  for (const i of trainIdx) {
    const path = withMask(i);
    if (!path) continue;
    const size = await probeMaskSize(path).catch((err: Error) => err);
    if (size instanceof Error || size.width !== sizes[i].width || size.height !== sizes[i].height) {
      skipped.push(size instanceof Error ? `${path}: ${size.message}` : `${path}: mask is ${size.width}x${size.height} but its image is ${sizes[i].width}x${sizes[i].height}`);
      continue;
    }
    perImage[i] = path;
    used.push(i);
  }
  const available = used.length;
  if (limit !== undefined && limit < available) {
    const drawn = new Set(shuffled(used, hashSeed(seed, 'mask-draw')).slice(0, limit));
    for (const i of used) if (!drawn.has(i)) perImage[i] = null;
  }
  const trained = used.filter((i) => perImage[i] !== null);
  const inVal = valIdx.filter((i) => withMask(i) !== null).length;
  const found = available + skipped.length + inVal;
  const message = `masks: ${found} found on the training images, ${trained.length} used (${trained.length < available ? `a seeded draw of the training split's ${available}` : 'the training split\'s'})`
    + `${inVal ? `; ${inVal} in the validation split, never trained on` : ''}`
    + `${skipped.length ? `; ${skipped.length} skipped: ${skipped.slice(0, 3).join('; ')}${skipped.length > 3 ? '; ...' : ''}` : ''}`;
  return { perImage, used: trained, found, message };
}

/**
 * Trains the defect classifier on image-level labels (with --masks, also on the training
 * split's masks, as dense targets of the class-score map). Data-parallel over worker threads, gradient accumulation, SGD with
 * momentum, warm-up + cosine learning rate, class-balanced sampling, checkpoints that resume
 * exactly, a JSONL log; cancel through the signal leaves a checkpoint to resume from.
 */
export async function train(
  options: TrainOptions,
  hooks: { onProgress?: (p: TrainProgress) => void; signal?: AbortSignal } = {},
): Promise<TrainResult> {
  const width = options.width ?? (options.init ? await initWidth(options.init) : SCRATCH_WIDTH);
  const o = { ...options, width, out: resolve(options.out) };
  const started = Date.now();
  const report = (p: TrainProgress) => hooks.onProgress?.(p);
  const backend = await initBackend();
  const engine = await chooseTrainingEngine();
  // Data-parallel workers take a core each; in this thread the engine may use them all.
  const engineThreads = o.workers > 0 ? 1 : availableParallelism();
  const trainedOn = engine.name === 'onnxruntime'
    ? `${engine.label}, ${Math.max(1, o.workers)} x ${engineThreads} thread${engineThreads === 1 ? '' : 's'}`
    : `${describeBackend(backend)}${engine.fallback ? ` (${engine.fallback})` : ''}`;
  if (o.batch % o.microBatch !== 0) throw new Error(`--batch (${o.batch}) must be a multiple of --micro-batch (${o.microBatch})`);
  if (o.masks && o.denseWeight <= 0) throw new Error('--masks trains the class-score map on the masks: it needs --dense-weight above 0');
  if (o.sideHeads.length > 0 && o.denseWeight <= 0) throw new Error(`--side-heads ${o.sideHeads.join(',')} are supervised with the dense term: they need --dense-weight above 0 (and, with --plain, --masks)`);

  const dataset = o.pretextOnly ? await openOkImages(o.data, { defectLabel: o.defectLabel, okLabel: o.okLabel }) : await openDataset(o.data, { defectLabel: o.defectLabel, okLabel: o.okLabel, viewPattern: o.viewPattern });
  const usable: DatasetItem[] = dataset.items.filter((i) => i.split !== 'test');
  if (usable.length === 0) throw new Error(`${o.data}: no training images found`);
  const paths = usable.map((i) => i.path);
  const first = await probeImage(paths[0]);
  const channels: 1 | 3 = first.channels;
  const labelled: LabelledIndex[] = usable.map((item, index) => ({ index, isDefect: item.isDefect, view: item.view }));
  const { train: trainIdx, val: valIdx } = splitTrainVal(labelled, o.valFraction, o.seed);
  const trainSet = trainIdx.map((i) => labelled[i]);
  const sizes = await Promise.all(paths.map((p) => probeImage(p)));
  const canvas = trainingCanvas(sizes, o.inputSize);
  const views = new Set(usable.flatMap((i) => (i.view !== undefined ? [i.view] : []))).size;
  const viewNote = views > 0 ? `; ${views} views kept whole, ${usable.filter((i) => i.view === undefined).length} images without one` : '';
  report({ phase: 'prepare', step: 0, totalSteps: 0, epoch: 0, etaSeconds: null, message: `${usable.length} images (${trainIdx.length} train, ${valIdx.length} validation${viewNote}), ${channels}-channel, at ${canvas.width}x${canvas.height} px, ${trainedOn}` });
  const masks = o.masks && !o.pretextOnly ? await trainingMasks(usable, sizes, trainIdx, valIdx, o.maskLimit, o.seed) : null;
  if (masks) report({ phase: 'prepare', step: 0, totalSteps: 0, epoch: 0, etaSeconds: null, message: masks.message });

  const { mean, std } = await pixelStatistics(trainIdx.map((i) => paths[i]), channels);
  const spec = resnetSpec({ numClasses: CLASSES.length, inChannels: channels, width: o.width, blocks: [...RESNET50_BLOCKS], pooling: o.pooling });
  const layout = new ParamLayout(spec, o.sideHeads);
  const checkpointDir = join(o.out, 'checkpoint');
  const print = fingerprint(o, resolve(o.data));

  let params: Float32Array;
  let velocity: Float32Array | undefined;
  let secondMoment: Float32Array | undefined;
  let startStep = 0;
  const initNotes: string[] = [];
  const resumed = o.resume ? await loadCheckpoint(checkpointDir, layout) : null;
  if (!resumed) await clearEpochWeights(checkpointDir);
  if (resumed) {
    if (resumed.state.fingerprint !== print) throw new Error(`${checkpointDir}: the checkpoint was made with other options; train into a new --out or repeat the same options`);
    ({ params, velocity, secondMoment } = resumed);
    startStep = resumed.state.step;
  } else if (o.init) {
    const init = await loadInitWeights(o.init, spec, o.seed);
    params = await flattenNet(layout, init.net, undefined, o.seed);
    init.net.dispose();
    initNotes.push(...init.notes);
  } else {
    const net = initialiseResNet(spec, o.seed);
    params = await flattenNet(layout, net, undefined, o.seed);
    net.dispose();
  }

  const shardConfig: ShardConfig = {
    config: spec.config, paths, labels: usable.map((i) => (i.isDefect ? DEFECT_CLASS : 0)), canvas,
    mean, std, augment: o.augment, defectClass: DEFECT_CLASS,
    dense: o.denseWeight > 0 ? { lossWeight: o.denseWeight, positiveWeight: DENSE_POSITIVE_WEIGHT, sideHeads: o.sideHeads } : null,
    engine: { name: engine.name, threads: engineThreads },
    ...(masks ? { masks: masks.perImage } : {}),
  };
  const pool: ShardPool = o.workers > 0 ? await ThreadPool.start(shardConfig, layout.size, o.workers, backend.name) : new InProcessPool(shardConfig, layout.size);
  const optimizer = o.optimizer === 'adamw'
    ? new AdamW(layout, { ...ADAMW_DEFAULTS, weightDecay: o.weightDecay }, startStep, velocity, secondMoment)
    : new Sgd(layout, { momentum: o.momentum, weightDecay: o.weightDecay }, velocity);
  const optimizerState = () => (optimizer instanceof AdamW ? { velocity: optimizer.firstMoment, secondMoment: optimizer.secondMoment } : { velocity: optimizer.velocity });
  const okSet = trainSet.filter((t) => !t.isDefect);
  const epochLength = o.pretextOnly ? okSet.length : epochOrder(trainSet, 0, o.seed, o.balance).length;
  const stepsPerEpoch = Math.max(1, Math.floor(epochLength / o.batch));
  // A budgeted run fixes its length from its steps' pace (PhaseClock): once in the pretext
  // (guessing the fine-tune's pace from its pixels per image), again early in the fine-tune;
  // the plan is checkpointed so a resumed run keeps it.
  const saved = (resumed?.state.extra ?? {}) as { totalSteps?: number; pretextSteps?: number; budget?: BudgetStage; secondsSpent?: number };
  // --minutes is the whole run's budget: a resumed run gets what its earlier sessions left.
  const spentBefore = saved.secondsSpent ?? 0;
  const secondsSpent = () => spentBefore + (Date.now() - started) / 1000;
  const pretextFraction = o.pretextOnly ? 1 : o.pretextFraction;
  const hasPretext = pretextFraction > 0 && okSet.length > 0;
  let totalSteps = saved.totalSteps ?? o.epochs * stepsPerEpoch;
  let pretextSteps = saved.pretextSteps ?? (hasPretext ? Math.round(totalSteps * pretextFraction) : 0);
  let budget: BudgetStage = o.minutes === undefined ? 'planned' : saved.budget ?? (hasPretext ? 'probe-pretext' : 'probe-finetune');
  const phases = () => {
    // A short (budgeted) run must not spend most of itself warming up: at most a tenth of a phase.
    const warmup = (phaseSteps: number) => Math.min(o.warmupEpochs * stepsPerEpoch, Math.ceil(phaseSteps / 10));
    return { pretext: pretextSteps, pretextWarmup: warmup(pretextSteps), warmup: warmup(totalSteps - pretextSteps) };
  };
  const secondsLeft = () => o.minutes! * 60 - secondsSpent();
  /** A fine-tune step's seconds from a pretext step's: the same work per pixel, the whole canvas against a crop. */
  const pretextCropSide = Math.min(o.pretextCrop, canvas.height, canvas.width);
  const finetunePaceOf = (pretextPace: number) => (pretextPace * canvas.height * canvas.width) / pretextCropSide ** 2;
  const logPath = join(o.out, 'train-log.jsonl');
  await mkdir(o.out, { recursive: true });
  const log = (entry: Record<string, unknown>) => appendFile(logPath, `${JSON.stringify({ ...entry, time: new Date().toISOString() })}\n`);
  const checkpoint = (step: number) => saveCheckpoint(checkpointDir, layout, { state: newCheckpointState(step, print, { totalSteps, pretextSteps, budget, secondsSpent: secondsSpent() }), params, ...optimizerState() });

  let validation: ValidationResult | null = null;
  let best: { params: Float32Array; state: BestState } | null = resumed && o.keepBest ? await loadBest(checkpointDir, layout) : null;
  const validate = async (epoch: number, candidate = params, averagedEpochs?: number[]): Promise<ValidationResult | null> => {
    // Without defective images there is no AUROC to give; the pretext's own loss is the log's.
    if (valIdx.length === 0 || !valIdx.some((i) => labelled[i].isDefect)) return null;
    const what = averagedEpochs ? `the mean of epochs ${averagedEpochs.join(', ')}` : `epoch ${epoch + 1}`;
    report({ phase: 'validate', step: epoch * stepsPerEpoch, totalSteps, epoch, etaSeconds: null, message: `validating ${what}` });
    pool.params.set(candidate);
    const probs = await pool.predict(valIdx);
    const truth = valIdx.map((i) => labelled[i].isDefect);
    const result: ValidationResult = {
      epoch: epoch + 1,
      accuracy: probs.filter((p, i) => (p >= 0.5) === truth[i]).length / probs.length,
      auroc: auroc(probs, truth),
      loss: crossEntropy(probs, truth),
    };
    await log({ type: 'validation', ...result, ...(averagedEpochs ? { averagedEpochs } : {}) });
    return result;
  };

  /** The step's images and which get a synthetic defect: OK images only in the pretext. */
  const drawStep = (step: number, pretext: number): { indices: number[]; pastes: boolean[] } => {
    const inPretext = step < pretext;
    const indices = inPretext
      ? stepIndices(okSet, false, step, o.batch, hashSeed(o.seed, 'pretext'))
      : stepIndices(trainSet, o.balance, step - pretext, o.batch, o.seed);
    const rng = new Rng(hashSeed(o.seed, 'paste', step));
    const pastes = indices.map((i) => !labelled[i].isDefect && rng.chance(inPretext ? 0.5 : o.pasteRate));
    return { indices, pastes };
  };

  /** The mean of the last epochs' parameters and its validation; null with fewer than two saved. */
  const averageLastEpochs = async (): Promise<{ params: Float32Array; epochs: number[]; result: ValidationResult | null } | null> => {
    const snapshots = await loadEpochWeights(checkpointDir, layout);
    if (snapshots.length < 2) return null;
    const epochs = snapshots.map((s) => s.epoch);
    const mean = averageWeights(snapshots.map((s) => s.params));
    return { params: mean, epochs, result: await validate(epochs.at(-1)! - 1, mean, epochs) };
  };
  let averaged: Awaited<ReturnType<typeof averageLastEpochs>> = null;

  const recent: number[] = [];
  const stepEnds: number[] = [];
  /** Wall-clock seconds per step over the recent window, pauses for validation included. */
  const recentPace = (): number | null => (stepEnds.length < 10 ? null : (stepEnds[stepEnds.length - 1] - stepEnds[0]) / 1000 / (stepEnds.length - 1));
  let step = startStep;
  let cancelled = false;
  const phaseClock = new PhaseClock();
  try {
    for (; step < totalSteps; step++) {
      if (hooks.signal?.aborted) {
        cancelled = true;
        break;
      }
      const { pretext, pretextWarmup, warmup } = phases();
      const inPretext = step < pretext;
      const epoch = Math.floor(step / stepsPerEpoch);
      const { indices, pastes } = drawStep(step, pretext);
      const t0 = Date.now();
      pool.params.set(params);
      const crop = inPretext ? o.pretextCrop : undefined;
      const results = await pool.step(stepPlans(indices, pastes, crop, step, o, pool.size), indices.length);
      const grads = new Float32Array(layout.size);
      let lossSum = 0;
      let correct = 0;
      for (const r of results) {
        for (let i = 0; i < grads.length; i++) grads[i] += r.grads[i];
        lossSum += r.lossSum;
        correct += r.correct;
      }
      // Each phase has its own warm-up and cosine decay: the fine-tune starts afresh on real labels.
      const lr = inPretext
        ? learningRate(o.lr, step, pretext, pretextWarmup)
        : learningRate(o.lr, step - pretext, totalSteps - pretext, warmup);
      const gradNorm = clipGradients(layout, grads, o.clipNorm);
      optimizer.step(params, grads, lr);
      updateRunningStats(layout, params, meanStatistics(results));
      const seconds = (Date.now() - t0) / 1000;
      // A fine-tune step costs several pretext steps: the pace starts afresh with the phase.
      if (step === pretext) stepEnds.length = 0;
      stepEnds.push(Date.now());
      if (stepEnds.length > PACE_WINDOW) stepEnds.shift();
      recent.push(seconds);
      if (recent.length > 20) recent.shift();
      const perStep = recent.reduce((a, b) => a + b, 0) / recent.length;
      phaseClock.stepDone(inPretext ? 'pretext' : 'finetune', step + 1);
      const probe = phaseClock.pace(inPretext ? 'pretext' : 'finetune', step + 1);
      if (budget === 'probe-pretext' && inPretext && probe && probe.steps >= BUDGET_PROBE_STEPS) {
        const finetunePace = finetunePaceOf(probe.seconds);
        const left = secondsLeft() / BUDGET_MARGIN;
        pretextSteps = step + 1 + Math.floor((pretextFraction * left) / probe.seconds);
        totalSteps = o.pretextOnly ? pretextSteps : pretextSteps + Math.max(1, Math.floor(((1 - pretextFraction) * left) / finetunePace));
        budget = 'probe-finetune';
        await log({ type: 'plan', minutes: o.minutes, secondsPerStep: probe.seconds, finetuneSecondsPerStep: finetunePace, totalSteps, pretextSteps });
      } else if (budget === 'probe-finetune' && !inPretext && probe && probe.steps >= BUDGET_PROBE_STEPS) {
        totalSteps = Math.max(step + 2, step + 1 + Math.floor(secondsLeft() / BUDGET_MARGIN / probe.seconds));
        budget = 'planned';
        await log({ type: 'plan', minutes: o.minutes, finetuneSecondsPerStep: probe.seconds, totalSteps, pretextSteps });
      } else if (o.minutes !== undefined && budget !== 'probe-pretext' && (step + 1) % BUDGET_REPLAN_EVERY === 0 && recentPace() !== null) {
        const pace = recentPace()!;
        const left = secondsLeft() / BUDGET_MARGIN;
        if (inPretext && !o.pretextOnly) {
          // The fine-tune keeps its share of the whole budget, whatever the pretext's pace did.
          const finetuneReserve = ((1 - pretextFraction) * o.minutes * 60) / BUDGET_MARGIN;
          pretextSteps = Math.max(step + 1, step + 1 + Math.floor(Math.max(0, left - finetuneReserve) / pace));
          totalSteps = pretextSteps + Math.max(1, Math.floor(Math.min(left, finetuneReserve) / finetunePaceOf(pace)));
        } else {
          totalSteps = Math.max(step + 2, step + 1 + Math.floor(left / pace));
          if (o.pretextOnly) pretextSteps = totalSteps;
        }
        await log({ type: 'plan', minutes: o.minutes, replan: true, secondsPerStep: pace, totalSteps, pretextSteps });
      }
      const entry = { step: step + 1, epoch: epoch + 1, part: inPretext ? 'pretext' : 'finetune', loss: lossSum / indices.length, accuracy: correct / indices.length, lr, gradNorm, imagesPerSecond: indices.length / seconds };
      await log({ type: 'step', ...entry });
      report({ phase: 'train', totalSteps, etaSeconds: perStep * (totalSteps - step - 1), message: `${entry.part} epoch ${epoch + 1}`, ...entry });
      const endOfEpoch = (step + 1) % stepsPerEpoch === 0 || step + 1 === pretext || step + 1 === totalSteps;
      if ((step + 1) % o.checkpointEvery === 0 || endOfEpoch) await checkpoint(step + 1);
      if (endOfEpoch && !inPretext && o.averageLast > 1) await saveEpochWeights(checkpointDir, layout, epoch + 1, params, o.averageLast);
      if (endOfEpoch) {
        const scored = await validate(epoch);
        validation = scored ?? validation;
        if (scored && o.keepBest && (!best || scored.auroc >= best.state.validationAuroc)) {
          best = { params: Float32Array.from(params), state: { step: step + 1, epoch: scored.epoch, validationAuroc: scored.auroc, validationAccuracy: scored.accuracy, validationLoss: scored.loss } };
          await saveBest(checkpointDir, layout, best.params, best.state);
        }
        if (validation) report({ phase: 'validate', step: step + 1, totalSteps, epoch: epoch + 1, etaSeconds: perStep * (totalSteps - step - 1), message: `validation AUROC ${validation.auroc.toFixed(3)}`, validation });
      }
    }
    if (cancelled) await checkpoint(step);
    else if (o.averageLast > 1) averaged = await averageLastEpochs();
  } finally {
    await pool.close();
  }

  // The mean of the last epochs stands against the best epoch as one more candidate; without
  // keepBest, asking for it is asking to save it.
  const meanSaved = averaged !== null && (!o.keepBest || !best || !averaged.result || averaged.result.auroc >= best.state.validationAuroc) ? averaged : null;
  const kept = !cancelled && !meanSaved && best && best.state.step !== step ? best : null;
  // A run resumed after its last step validates nothing but the mean.
  const lastScore = validation ? validation.auroc.toFixed(4) : 'not measured in this session';
  const keptNote = meanSaved
    ? [`saved the mean of the parameters at the ends of epochs ${meanSaved.epochs.join(', ')}${meanSaved.result ? `, validation AUROC ${meanSaved.result.auroc.toFixed(4)}` : ''}; the best epoch's was ${best?.state.validationAuroc.toFixed(4) ?? 'not measured'}, the last step's ${lastScore}`]
    : kept
      ? [`kept the parameters of step ${kept.state.step} (epoch ${kept.state.epoch}${kept.state.step <= pretextSteps ? ', in the pretext' : ''}), the best validation AUROC ${kept.state.validationAuroc.toFixed(4)}; the last step's was ${lastScore}${averaged ? `; the mean of epochs ${averaged.epochs.join(', ')} scored ${averaged.result?.auroc.toFixed(4)}` : ''}`]
      : [];
  const metricsOfMean = meanSaved?.result
    ? { validationAccuracy: meanSaved.result.accuracy, validationAuroc: meanSaved.result.auroc, validationLoss: meanSaved.result.loss, averagedEpochs: meanSaved.epochs, lastStepValidationAuroc: validation?.auroc }
    : null;
  const manifest: Manifest = {
    format: 'kizu-model',
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    name: `kizu-resnet50${o.width === 64 ? '' : `-w${o.width}`}-${canvas.height === canvas.width ? canvas.width : `${canvas.width}x${canvas.height}`}`,
    architecture: { name: 'resnet50', width: o.width, blocks: [...RESNET50_BLOCKS], pooling: o.pooling },
    classes: CLASSES,
    defectClass: DEFECT_CLASS,
    inputChannels: channels,
    inputSize: { policy: 'fixed', height: canvas.height, width: canvas.width },
    normalization: { mean, std },
    // Under the top-k head the logit's gradient reaches k positions only; adding every position
    // that votes defect localises better (models/RECIPES.md, "The score the maps differentiate").
    camScore: 'logit-and-position-margins',
    weights: { file: 'weights.safetensors', dtype: o.width >= 32 ? 'float16' : 'float32' },
    provenance: {
      createdAt: new Date().toISOString(),
      createdBy: o.pretextOnly ? 'kizu pretrain' : 'kizu train',
      command: o.command,
      dataset: resolve(o.data),
      datasetSplit: dataset.split,
      seed: o.seed,
      init: o.init,
      backend: trainedOn,
      ...(masks ? { trainedMasks: await recordTrainedMasks(o.data, masks.used.map((i) => paths[i])) } : {}),
      notes: [...initNotes, ...(masks ? [masks.message] : []), ...(o.sideHeads.length > 0 ? [`side heads at ${o.sideHeads.join(' and ')} supervised during training (not saved)`] : []), `${step} of ${totalSteps} steps${cancelled ? ' (cancelled; resume with --resume)' : ''}`, `batch ${o.batch} in micro-batches of ${o.microBatch}, ${pool.size} worker(s)`, ...keptNote],
    },
    metrics: metricsOfMean ?? (kept
      ? { validationAccuracy: kept.state.validationAccuracy, validationAuroc: kept.state.validationAuroc, validationLoss: kept.state.validationLoss, keptStep: kept.state.step, lastStepValidationAuroc: validation?.auroc }
      : validation ? { validationAccuracy: validation.accuracy, validationAuroc: validation.auroc, validationLoss: validation.loss } : {}),
  };
  const net = netFromFlat(layout, meanSaved ? meanSaved.params : kept ? kept.params : params);
  try {
    await saveModelDir(o.out, manifest, net);
  } finally {
    net.dispose();
  }
  // The maps' one scale, their default thresholds and the score's calibration come from the validation split, as evaluate fits them.
  if (!cancelled && !o.pretextOnly) {
    await fitOnValidation(o.out, valIdx.map((i) => usable[i]), (done, total) => report({ phase: 'validate', step, totalSteps, epoch: Math.floor(step / stepsPerEpoch), etaSeconds: null, message: `map scale and calibration: ${done} of ${total} validation images` }));
  }
  report({ phase: cancelled ? 'cancelled' : 'done', step, totalSteps, epoch: Math.floor(step / stepsPerEpoch), etaSeconds: 0, message: cancelled ? 'cancelled; a checkpoint was kept' : 'done', validation: validation ?? undefined });
  return { modelDir: o.out, cancelled, steps: step, validation, seconds: secondsSpent(), ...(masks ? { masks: { found: masks.found, used: masks.used.length } } : {}) };
}
