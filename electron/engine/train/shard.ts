import * as tf from '@tensorflow/tfjs-core';
import { FoldedResNet } from '../resnet50.ts';
import { resnetSpec, type ResNetConfig } from '../resnet-spec.ts';
import { softmax } from '../explain.ts';
import { augment, type AugmentOptions } from './augment.ts';
import { GradientAccumulator } from './grad-step.ts';
import { batchTensor, TrainingImageCache } from './image-cache.ts';
import { netFromFlat, ParamLayout } from './param-layout.ts';

export interface ShardConfig {
  config: ResNetConfig;
  paths: string[];
  /** Class index per path. */
  labels: number[];
  inputSize: number;
  mean: number[];
  std: number[];
  augment: AugmentOptions;
  defectClass: number;
}

export interface MicroBatchPlan {
  indices: number[];
  /** One augmentation seed per image. */
  seeds: number[];
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

  constructor(private readonly cfg: ShardConfig) {
    this.layout = new ParamLayout(resnetSpec(cfg.config));
    this.images = new TrainingImageCache(cfg.paths, cfg.inputSize, cfg.config.inChannels);
  }

  private async batch(indices: number[], seeds: number[] | null): Promise<tf.Tensor4D> {
    const { inputSize: size, mean, std } = this.cfg;
    const channels = this.cfg.config.inChannels;
    const pixels = await Promise.all(indices.map((i) => this.images.pixels(i)));
    const ready = seeds ? pixels.map((p, k) => augment(p, size, channels, seeds[k], this.cfg.augment)) : pixels;
    return batchTensor(ready, size, channels, mean, std);
  }

  async step(params: Float32Array, plan: MicroBatchPlan[], stepSize: number): Promise<ShardStepResult> {
    const acc = new GradientAccumulator(this.layout);
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    for (const mb of plan) {
      const x = await this.batch(mb.indices, mb.seeds);
      const labels = Int32Array.from(mb.indices.map((i) => this.cfg.labels[i]));
      try {
        const r = await acc.add(params, x, labels, stepSize);
        lossSum += r.lossSum;
        correct += r.correct;
        count += r.count;
      } finally {
        x.dispose();
      }
    }
    return { grads: acc.grads, statSums: acc.statSums(), microBatches: plan.length, lossSum, correct, count };
  }

  /** Defect probability per index, in eval mode (running statistics, BatchNorm folded). */
  async predict(params: Float32Array, indices: number[], batchSize = 8): Promise<number[]> {
    const net = netFromFlat(this.layout, params);
    const folded = FoldedResNet.fold(net);
    net.dispose();
    const out: number[] = [];
    try {
      for (let i = 0; i < indices.length; i += batchSize) {
        const x = await this.batch(indices.slice(i, i + batchSize), null);
        const logits = tf.tidy(() => folded.forward(x).logits);
        const rows = (await logits.array()) as number[][];
        tf.dispose([x, logits]);
        out.push(...rows.map((r) => softmax(r)[this.cfg.defectClass]));
      }
    } finally {
      folded.dispose();
    }
    return out;
  }
}
