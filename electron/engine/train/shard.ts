import * as tf from '@tensorflow/tfjs-core';
import { FoldedResNet } from '../resnet50.ts';
import { resnetSpec, type ResNetConfig } from '../resnet-spec.ts';
import { softmax } from '../explain.ts';
import type { AugmentOptions } from './augment.ts';
import { GradientAccumulator, TfjsGradients } from './grad-step.ts';
import type { DenseTargets, GradientEngine, TrainingEngineName } from './gradient-engine.ts';
import { OnnxGradients } from '../onnx/onnx-training.ts';
import { OnnxEvidence } from '../onnx/onnx-evidence.ts';
import { TfjsEvidence } from '../cam/evidence.ts';
import type { EvidenceSource } from '../cam/evidence-source.ts';
import { maskOnGrid } from './synthetic-defects.ts';
import { pasteOnCanvas, type Canvas } from './canvas.ts';
import { viewMask, viewPixels, viewShape, type View } from './aligned-view.ts';
import { TrainingMaskCache } from './training-masks.ts';
import { hashSeed } from '../../data/synth/rng.ts';
import { batchTensor, TrainingImageCache } from './image-cache.ts';
import { netFromFlat, ParamLayout } from './param-layout.ts';
import { stageCells, type SideHeadLayer } from './side-heads.ts';

export interface ShardConfig {
  config: ResNetConfig;
  paths: string[];
  /** Class index per path. */
  labels: number[];
  /** Every training image is resized to this (a shape like the set's images: canvas.ts). */
  canvas: Canvas;
  mean: number[];
  std: number[];
  augment: AugmentOptions;
  defectClass: number;
  /**
   * Dense supervision of the class-score map where the truth is known, and of the side heads
   * at `sideHeads` (side-heads.ts; absent: none); null for none.
   */
  dense: (Pick<DenseTargets, 'lossWeight' | 'positiveWeight'> & { sideHeads?: SideHeadLayer[] }) | null;
  /**
   * Per path: a real mask (a reviewed one, or the dataset's) whose pixels supervise the
   * class-score map in place of the image label's silence about where; null for none. Absent:
   * no image has one. Only training-split images ever get one.
   */
  masks?: Array<string | null>;
  /** What computes the gradients (chooseTrainingEngine), and with how many threads of its own. */
  engine: { name: TrainingEngineName; threads: number };
}

export interface MicroBatchPlan {
  indices: number[];
  /** One augmentation seed per image. */
  seeds: number[];
  /** Per image: draw a synthetic defect onto it (it then counts as defective). */
  pastes?: boolean[];
  /** Train on a random square crop of this side at the input resolution instead of the whole image. */
  crop?: number;
}

export interface ShardStepResult {
  grads: Float32Array;
  /** Per BatchNorm: sums over micro-batches of batch mean and unbiased variance. */
  statSums: Record<string, { mean: Float32Array; variance: Float32Array }>;
  microBatches: number;
  lossSum: number;
  correct: number;
  count: number;
}

/**
 * What one data-parallel worker does: its share of a step's micro-batches, gradients summed
 * into one buffer; and defect probabilities for validation with the running statistics.
 * The same class runs in a worker thread or in-process.
 */
export class TrainingShard {
  readonly layout: ParamLayout;
  private readonly images: TrainingImageCache;
  private readonly masks: TrainingMaskCache;
  private engine?: Promise<GradientEngine>;

  constructor(private readonly cfg: ShardConfig) {
    this.layout = new ParamLayout(resnetSpec(cfg.config), cfg.dense?.sideHeads ?? []);
    this.images = new TrainingImageCache(cfg.paths, cfg.canvas, cfg.config.inChannels);
    this.masks = new TrainingMaskCache(cfg.paths, cfg.masks ?? [], cfg.canvas);
  }

  private async batch(indices: number[]): Promise<tf.Tensor4D> {
    const pixels = await Promise.all(indices.map((i) => this.images.pixels(i)));
    return batchTensor(pixels, this.cfg.canvas, this.cfg.config.inChannels, this.cfg.mean, this.cfg.std);
  }

  /**
   * A micro-batch ready for the accumulator: augmented pixels with any synthetic defects drawn
   * in, the labels (a pasted image is defective), and the dense targets where they are known:
   * a real mask, moved with its pixels; a pasted defect's; an OK image's nothing.
   */
  private async trainingBatch(mb: MicroBatchPlan): Promise<{ x: tf.Tensor4D; labels: Int32Array; dense?: DenseTargets }> {
    const { mean, std, defectClass } = this.cfg;
    const whole = this.cfg.canvas;
    const { side, shape } = viewShape(whole, mb.crop);
    const channels = this.cfg.config.inChannels;
    const n = mb.indices.length;
    const grids = (['layer4', ...this.layout.sideHeads] as const).map((stage) => {
      const rows = stageCells(shape.height, stage), cols = stageCells(shape.width, stage);
      return { stage, rows, cols, targets: new Float32Array(n * rows * cols) };
    });
    /** A mask on the view, onto every grid; whether it marks anything at layer4. */
    const setTargets = (k: number, mask: Uint8Array): boolean => {
      for (const grid of grids) grid.targets.set(maskOnGrid(mask, shape.height, shape.width, grid.rows, grid.cols), k * grid.rows * grid.cols);
      return grids[0].targets.subarray(k * grids[0].rows * grids[0].cols, (k + 1) * grids[0].rows * grids[0].cols).some((v) => v > 0);
    };
    const images: Float32Array[] = [];
    const labels = new Int32Array(n);
    const weights = new Float32Array(n);
    for (let k = 0; k < mb.indices.length; k++) {
      const index = mb.indices[k];
      const view: View = { canvas: whole, side, seed: mb.seeds[k], augment: this.cfg.augment };
      let pixels = viewPixels(await this.images.pixels(index), channels, view);
      labels[k] = this.cfg.labels[index];
      const real = await this.masks.mask(index);
      if (real) {
        const marked = setTargets(k, viewMask(real, view));
        // A defect image whose mask misses this crop (or is empty) says nothing certain about it.
        weights[k] = labels[k] !== defectClass || marked ? 1 : 0;
      } else if (mb.pastes?.[k]) {
        const pasted = pasteOnCanvas(pixels, shape, channels, hashSeed(mb.seeds[k], 'paste'));
        pixels = pasted.pixels;
        labels[k] = defectClass;
        setTargets(k, pasted.mask);
        weights[k] = 1;
      } else if (labels[k] !== defectClass) {
        weights[k] = 1;
      }
      images.push(pixels);
    }
    const x = batchTensor(images, shape, channels, mean, std);
    if (!this.cfg.dense) return { x, labels };
    const { lossWeight, positiveWeight } = this.cfg.dense;
    const sideTargets = Object.fromEntries(grids.slice(1).map((grid) => [grid.stage, grid.targets]));
    return { x, labels, dense: { lossWeight, positiveWeight, targets: grids[0].targets, weights, sideTargets } };
  }

  private gradients(): Promise<GradientEngine> {
    const { name, threads } = this.cfg.engine;
    this.engine ??= name === 'onnxruntime' ? OnnxGradients.create(this.layout, threads) : Promise.resolve(new TfjsGradients(this.layout));
    return this.engine;
  }

  async step(params: Float32Array, plan: MicroBatchPlan[], stepSize: number): Promise<ShardStepResult> {
    const acc = new GradientAccumulator(this.layout, await this.gradients());
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    for (const mb of plan) {
      const { x, labels, dense } = await this.trainingBatch(mb);
      try {
        const r = await acc.add(params, x, labels, stepSize, dense);
        lossSum += r.lossSum;
        correct += r.correct;
        count += r.count;
      } finally {
        x.dispose();
      }
    }
    return { grads: acc.grads, statSums: acc.statSums(), microBatches: plan.length, lossSum, correct, count };
  }

  /** Releases the engine's native memory. */
  async dispose(): Promise<void> {
    (await this.engine)?.dispose();
    this.engine = undefined;
  }

  /**
   * Defect probability per index, in eval mode (running statistics, BatchNorm folded), on the
   * shard's engine: onnxruntime's forward graph takes one image at a time, tfjs a batch.
   */
  async predict(params: Float32Array, indices: number[], batchSize = 8): Promise<number[]> {
    const net = netFromFlat(this.layout, params);
    const folded = FoldedResNet.fold(net);
    net.dispose();
    const { name, threads } = this.cfg.engine;
    const out: number[] = [];
    try {
      const source: EvidenceSource = name === 'onnxruntime' ? await OnnxEvidence.create(folded, threads) : new TfjsEvidence(folded);
      const step = name === 'onnxruntime' ? 1 : batchSize;
      const classes = this.cfg.config.numClasses;
      try {
        for (let i = 0; i < indices.length; i += step) {
          const x = await this.batch(indices.slice(i, i + step));
          const logits = await source.logits(x).finally(() => x.dispose());
          for (let r = 0; r < logits.length; r += classes) out.push(softmax(logits.slice(r, r + classes))[this.cfg.defectClass]);
        }
      } finally {
        source.dispose();
      }
    } finally {
      folded.dispose();
    }
    return out;
  }
}
