import { appendFile, mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { openDataset, type DatasetItem } from '../../data/datasets.ts';
import { probeImage, readImage } from '../../data/image-io.ts';
import { auroc } from '../../data/metrics.ts';
import { hashSeed } from '../../data/synth/rng.ts';
import { initBackend, describeBackend } from '../backend.ts';
import { initialiseResNet } from '../init-weights.ts';
import { MANIFEST_SCHEMA_VERSION, type Manifest } from '../manifest.ts';
import { saveModelDir } from '../model-dir.ts';
import { loadInitWeights } from './init-from.ts';
import { RESNET50_BLOCKS, resnetSpec } from '../resnet-spec.ts';
import { DEFAULT_AUGMENT, type AugmentOptions } from './augment.ts';
import { loadCheckpoint, newCheckpointState, saveCheckpoint } from './checkpoint.ts';
import { meanStatistics, updateRunningStats } from './grad-step.ts';
import { flattenNet, netFromFlat, ParamLayout } from './param-layout.ts';
import { epochOrder, splitTrainVal, type LabelledIndex } from './sampler.ts';
import { learningRate, Sgd } from './sgd.ts';
import { InProcessPool, ThreadPool, type ShardPool } from './shard-pool.ts';
import type { MicroBatchPlan, ShardConfig } from './shard.ts';

export interface TrainOptions {
  data: string;
  defectLabel: string;
  out: string;
  epochs: number;
  /** Images per optimiser step (the effective batch). */
  batch: number;
  /** Images per forward/backward pass; gradients accumulate up to `batch`. */
  microBatch: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  warmupEpochs: number;
  inputSize: number;
  /** Stem width: 64 is torchvision's ResNet50; smaller keeps the same topology, narrower. */
  width: number;
  init?: string;
  resume: boolean;
  seed: number;
  valFraction: number;
  /** Data-parallel worker threads; 0 runs in this thread. */
  workers: number;
  /** Checkpoint every N steps (and at every epoch's end). */
  checkpointEvery: number;
  augment: AugmentOptions;
  balance: boolean;
  /** How the run was asked for, for the manifest's provenance. */
  command?: string;
}

export const DEFAULT_TRAIN_OPTIONS: Omit<TrainOptions, 'data' | 'out'> = {
  defectLabel: 'defect',
  epochs: 15,
  batch: 32,
  // A full-width ResNet50 at 224 px needs about 3 GB of wasm heap for 4 images; 8 exceed its 4 GB.
  microBatch: 4,
  lr: 0.01,
  momentum: 0.9,
  weightDecay: 1e-4,
  warmupEpochs: 1,
  inputSize: 224,
  width: 64,
  resume: false,
  seed: 0,
  valFraction: 0.15,
  workers: Math.min(2, availableParallelism()),
  checkpointEvery: 50,
  augment: DEFAULT_AUGMENT,
  balance: true,
};

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
  cancelled: boolean;
  steps: number;
  validation: ValidationResult | null;
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

function fingerprint(o: TrainOptions, dataset: string): string {
  return JSON.stringify({
    dataset, defectLabel: o.defectLabel, epochs: o.epochs, batch: o.batch, microBatch: o.microBatch, lr: o.lr,
    momentum: o.momentum, weightDecay: o.weightDecay, warmupEpochs: o.warmupEpochs, inputSize: o.inputSize,
    width: o.width, init: o.init ?? null, seed: o.seed, valFraction: o.valFraction, workers: o.workers,
    augment: o.augment, balance: o.balance,
  });
}

/** Splits one step's images into micro-batches and deals them out to the workers. */
function stepPlans(indices: number[], step: number, o: TrainOptions, workers: number): MicroBatchPlan[][] {
  const plans: MicroBatchPlan[][] = Array.from({ length: workers }, () => []);
  for (let m = 0, k = 0; m < indices.length; m += o.microBatch, k++) {
    const part = indices.slice(m, m + o.microBatch);
    plans[k % workers].push({ indices: part, seeds: part.map((_, j) => hashSeed(o.seed, 'augment', step, m + j)) });
  }
  return plans;
}

function crossEntropy(probabilities: number[], defect: boolean[]): number {
  let sum = 0;
  probabilities.forEach((p, i) => (sum -= Math.log(Math.max(1e-7, defect[i] ? p : 1 - p))));
  return sum / probabilities.length;
}

/**
 * Trains the defect classifier on image-level labels only: masks, even when the dataset has
 * them, are never read. Data-parallel over worker threads, gradient accumulation, SGD with
 * momentum, warm-up + cosine learning rate, class-balanced sampling, checkpoints that resume
 * exactly, a JSONL log; cancel through the signal leaves a checkpoint to resume from.
 */
export async function train(
  options: TrainOptions,
  hooks: { onProgress?: (p: TrainProgress) => void; signal?: AbortSignal } = {},
): Promise<TrainResult> {
  const o = { ...options, out: resolve(options.out) };
  const started = Date.now();
  const report = (p: TrainProgress) => hooks.onProgress?.(p);
  const backend = await initBackend();
  if (o.batch % o.microBatch !== 0) throw new Error(`--batch (${o.batch}) must be a multiple of --micro-batch (${o.microBatch})`);

  const dataset = await openDataset(o.data, { defectLabel: o.defectLabel });
  const usable: DatasetItem[] = dataset.items.filter((i) => i.split !== 'test');
  if (usable.length === 0) throw new Error(`${o.data}: no training images found`);
  const paths = usable.map((i) => i.path);
  const first = await probeImage(paths[0]);
  const channels: 1 | 3 = first.channels;
  const labelled: LabelledIndex[] = usable.map((item, index) => ({ index, isDefect: item.isDefect }));
  const { train: trainIdx, val: valIdx } = splitTrainVal(labelled, o.valFraction, o.seed);
  const trainSet = trainIdx.map((i) => labelled[i]);
  report({ phase: 'prepare', step: 0, totalSteps: 0, epoch: 0, etaSeconds: null, message: `${usable.length} images (${trainIdx.length} train, ${valIdx.length} validation), ${channels}-channel, ${describeBackend(backend)}` });

  const { mean, std } = await pixelStatistics(trainIdx.map((i) => paths[i]), channels);
  const spec = resnetSpec({ numClasses: CLASSES.length, inChannels: channels, width: o.width, blocks: [...RESNET50_BLOCKS] });
  const layout = new ParamLayout(spec);
  const checkpointDir = join(o.out, 'checkpoint');
  const print = fingerprint(o, resolve(o.data));

  let params: Float32Array;
  let velocity: Float32Array | undefined;
  let startStep = 0;
  const initNotes: string[] = [];
  const resumed = o.resume ? await loadCheckpoint(checkpointDir, layout) : null;
  if (resumed) {
    if (resumed.state.fingerprint !== print) throw new Error(`${checkpointDir}: the checkpoint was made with other options; train into a new --out or repeat the same options`);
    ({ params, velocity } = resumed);
    startStep = resumed.state.step;
  } else if (o.init) {
    const init = await loadInitWeights(o.init, spec, o.seed);
    params = await flattenNet(layout, init.net);
    init.net.dispose();
    initNotes.push(...init.notes);
  } else {
    const net = initialiseResNet(spec, o.seed);
    params = await flattenNet(layout, net);
    net.dispose();
  }

  const shardConfig: ShardConfig = {
    config: spec.config, paths, labels: usable.map((i) => (i.isDefect ? DEFECT_CLASS : 0)), inputSize: o.inputSize,
    mean, std, augment: o.augment, defectClass: DEFECT_CLASS,
  };
  const pool: ShardPool = o.workers > 0 ? await ThreadPool.start(shardConfig, layout.size, o.workers, backend.name) : new InProcessPool(shardConfig, layout.size);
  const sgd = new Sgd(layout, { momentum: o.momentum, weightDecay: o.weightDecay }, velocity);
  const epochLength = epochOrder(trainSet, 0, o.seed, o.balance).length;
  const stepsPerEpoch = Math.max(1, Math.floor(epochLength / o.batch));
  const totalSteps = o.epochs * stepsPerEpoch;
  const warmup = Math.min(totalSteps, o.warmupEpochs * stepsPerEpoch);
  const logPath = join(o.out, 'train-log.jsonl');
  await mkdir(o.out, { recursive: true });
  const log = (entry: Record<string, unknown>) => appendFile(logPath, `${JSON.stringify({ ...entry, time: new Date().toISOString() })}\n`);
  const checkpoint = (step: number) => saveCheckpoint(checkpointDir, layout, { state: newCheckpointState(step, print), params, velocity: sgd.velocity });

  let validation: ValidationResult | null = null;
  const validate = async (epoch: number): Promise<ValidationResult | null> => {
    if (valIdx.length === 0) return null;
    report({ phase: 'validate', step: epoch * stepsPerEpoch, totalSteps, epoch, etaSeconds: null, message: `validating epoch ${epoch + 1}` });
    pool.params.set(params);
    const probs = await pool.predict(valIdx);
    const truth = valIdx.map((i) => labelled[i].isDefect);
    const result: ValidationResult = {
      epoch: epoch + 1,
      accuracy: probs.filter((p, i) => (p >= 0.5) === truth[i]).length / probs.length,
      auroc: auroc(probs, truth),
      loss: crossEntropy(probs, truth),
    };
    await log({ type: 'validation', ...result });
    return result;
  };

  let order: number[] = [];
  let orderEpoch = -1;
  const recent: number[] = [];
  let step = startStep;
  let cancelled = false;
  try {
    for (; step < totalSteps; step++) {
      if (hooks.signal?.aborted) {
        cancelled = true;
        break;
      }
      const epoch = Math.floor(step / stepsPerEpoch);
      if (epoch !== orderEpoch) {
        order = epochOrder(trainSet, epoch, o.seed, o.balance);
        orderEpoch = epoch;
      }
      const within = step - epoch * stepsPerEpoch;
      const indices = order.slice(within * o.batch, (within + 1) * o.batch);
      const t0 = Date.now();
      pool.params.set(params);
      const results = await pool.step(stepPlans(indices, step, o, pool.size), indices.length);
      const grads = new Float32Array(layout.size);
      let lossSum = 0;
      let correct = 0;
      for (const r of results) {
        for (let i = 0; i < grads.length; i++) grads[i] += r.grads[i];
        lossSum += r.lossSum;
        correct += r.correct;
      }
      const lr = learningRate(o.lr, step, totalSteps, warmup);
      sgd.step(params, grads, lr);
      updateRunningStats(layout, params, meanStatistics(results));
      const seconds = (Date.now() - t0) / 1000;
      recent.push(seconds);
      if (recent.length > 20) recent.shift();
      const perStep = recent.reduce((a, b) => a + b, 0) / recent.length;
      const entry = { step: step + 1, epoch: epoch + 1, loss: lossSum / indices.length, accuracy: correct / indices.length, lr, imagesPerSecond: indices.length / seconds };
      await log({ type: 'step', ...entry });
      report({ phase: 'train', totalSteps, etaSeconds: perStep * (totalSteps - step - 1), message: `epoch ${epoch + 1}/${o.epochs}`, ...entry });
      const endOfEpoch = (step + 1) % stepsPerEpoch === 0;
      if ((step + 1) % o.checkpointEvery === 0 || endOfEpoch) await checkpoint(step + 1);
      if (endOfEpoch) {
        validation = (await validate(epoch)) ?? validation;
        if (validation) report({ phase: 'validate', step: step + 1, totalSteps, epoch: epoch + 1, etaSeconds: perStep * (totalSteps - step - 1), message: `validation AUROC ${validation.auroc.toFixed(3)}`, validation });
      }
    }
    if (cancelled) await checkpoint(step);
  } finally {
    await pool.close();
  }

  const manifest: Manifest = {
    format: 'kizu-model',
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    name: `kizu-resnet50${o.width === 64 ? '' : `-w${o.width}`}-${o.inputSize}`,
    architecture: { name: 'resnet50', width: o.width, blocks: [...RESNET50_BLOCKS] },
    classes: CLASSES,
    defectClass: DEFECT_CLASS,
    inputChannels: channels,
    inputSize: { policy: 'fixed', height: o.inputSize, width: o.inputSize },
    normalization: { mean, std },
    weights: { file: 'weights.safetensors', dtype: o.width >= 32 ? 'float16' : 'float32' },
    provenance: {
      createdAt: new Date().toISOString(),
      createdBy: 'kizu train',
      command: o.command,
      dataset: resolve(o.data),
      seed: o.seed,
      init: o.init,
      backend: describeBackend(backend),
      notes: [...initNotes, `${step} of ${totalSteps} steps${cancelled ? ' (cancelled; resume with --resume)' : ''}`, `batch ${o.batch} in micro-batches of ${o.microBatch}, ${pool.size} worker(s)`],
    },
    metrics: validation ? { validationAccuracy: validation.accuracy, validationAuroc: validation.auroc, validationLoss: validation.loss } : {},
  };
  const net = netFromFlat(layout, params);
  try {
    await saveModelDir(o.out, manifest, net);
  } finally {
    net.dispose();
  }
  report({ phase: cancelled ? 'cancelled' : 'done', step, totalSteps, epoch: Math.floor(step / stepsPerEpoch), etaSeconds: 0, message: cancelled ? 'cancelled; a checkpoint was kept' : 'done', validation: validation ?? undefined });
  return { modelDir: o.out, cancelled, steps: step, validation, seconds: (Date.now() - started) / 1000 };
}
