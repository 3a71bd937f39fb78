import * as tf from '@tensorflow/tfjs-core';
import { BN_MOMENTUM } from '../resnet-spec.ts';
import { classScoreMap, ResNet50, forwardWithBatchNorm } from '../resnet50.ts';
import type { ParamLayout } from './param-layout.ts';
import type { DenseTargets, GradientEngine, MicroBatchGradients, MicroBatchInput } from './gradient-engine.ts';
import { sideHeadParams, type SideHeadLayer } from './side-heads.ts';

export interface MicroBatchResult {
  /** Sum over the micro-batch of the per-image cross-entropy. */
  lossSum: number;
  correct: number;
  count: number;
}

/**
 * Gradients of the mean loss over a whole step, accumulated micro-batch by micro-batch into a
 * flat buffer, so an effective batch larger than one pass allows still gives exactly the
 * mean's gradient. BatchNorm uses each micro-batch's statistics. The engine computes them.
 */
export class GradientAccumulator {
  readonly grads: Float32Array;
  /** Sum over micro-batches of each BatchNorm's batch mean / unbiased variance. */
  private readonly statSums_ = new Map<string, { mean: Float32Array; variance: Float32Array }>();
  private microBatches = 0;

  constructor(
    private readonly layout: ParamLayout,
    private readonly engine: GradientEngine = new TfjsGradients(layout),
  ) {
    this.grads = new Float32Array(layout.size);
  }

  /**
   * One micro-batch: images [n, h, w, c] normalised, labels class indices. `stepSize` is the
   * number of images in the whole step, so the gradients sum to the step's mean.
   */
  async add(params: Float32Array, x: tf.Tensor4D, labels: Int32Array, stepSize: number, dense?: DenseTargets): Promise<MicroBatchResult> {
    const [n, height, width, channels] = x.shape;
    const pixels = (await x.data()) as Float32Array;
    const result = await this.engine.compute(params, { pixels, n, height, width, channels, labels, stepSize, dense });
    this.layout.trainable.forEach((slot, i) => {
      const g = result.grads[i];
      const target = this.grads.subarray(slot.offset, slot.offset + slot.size);
      for (let j = 0; j < g.length; j++) target[j] += g[j];
    });
    for (const [bn, s] of result.stats) {
      const sums = this.statSums_.get(bn) ?? { mean: new Float32Array(s.mean.length), variance: new Float32Array(s.variance.length) };
      for (let j = 0; j < s.mean.length; j++) {
        sums.mean[j] += s.mean[j];
        sums.variance[j] += s.variance[j];
      }
      this.statSums_.set(bn, sums);
    }
    this.microBatches++;
    return { lossSum: result.lossSum, correct: result.correct, count: labels.length };
  }

  /** Sums of batch statistics over the micro-batches, to merge across workers. */
  statSums(): Record<string, { mean: Float32Array; variance: Float32Array }> {
    return Object.fromEntries(this.statSums_);
  }

  /** Mean batch statistics over the micro-batches, per BatchNorm prefix. */
  batchStatistics(): Map<string, { mean: Float32Array; variance: Float32Array }> {
    return meanStatistics([{ statSums: this.statSums(), microBatches: this.microBatches }]);
  }
}

/** The micro-batch's loss and gradients by tfjs's autodiff, on whichever backend tfjs runs. */
export class TfjsGradients implements GradientEngine {
  readonly name = 'tfjs' as const;

  constructor(private readonly layout: ParamLayout) {}

  async compute(params: Float32Array, input: MicroBatchInput): Promise<MicroBatchGradients> {
    const { layout } = this;
    const { labels, stepSize, dense } = input;
    const numClasses = layout.spec.config.numClasses;
    const result = tf.tidy(() => {
      const x = tf.tensor4d(input.pixels, [input.n, input.height, input.width, input.channels]);
      const tensors = new Map(layout.slots.map((s) => [s.name, tf.tensor(params.subarray(s.offset, s.offset + s.size), s.shape)]));
      const net = ResNet50.fromTensors(layout.spec, tensors);
      const trainables = layout.trainable.map((s) => tensors.get(s.name)!);
      const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses);
      let logits: tf.Tensor2D | undefined;
      const stats: Record<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }> = {};
      const lossFn = (...ps: tf.Tensor[]): tf.Scalar => {
        const byName = new Map(layout.trainable.map((s, i) => [s.name, ps[i]]));
        const out = forwardWithBatchNorm(net, x, true, (n) => byName.get(n) ?? tensors.get(n)!);
        logits = tf.keep(out.logits);
        for (const [bn, s] of out.batchStats) stats[bn] = { mean: tf.keep(s.mean), variance: tf.keep(s.variance) };
        const perImage = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(out.logits)), 1));
        let total = dense ? tf.add(perImage, denseLoss(out.stages.layer4, byName.get('fc.weight') as tf.Tensor2D, byName.get('fc.bias') as tf.Tensor1D, dense)) : perImage;
        for (const layer of layout.sideHeads) {
          const names = sideHeadParams(layer);
          total = tf.add(total, sideHeadLoss(out.stages[layer], byName.get(names.weight) as tf.Tensor2D, byName.get(names.bias) as tf.Tensor1D, layer, dense));
        }
        return tf.div(tf.sum(total), stepSize) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(lossFn)(trainables);
      const predicted = tf.argMax(logits!, 1);
      const correct = tf.sum(tf.cast(tf.equal(predicted, tf.tensor1d(labels, 'int32')), 'int32'));
      return { value, grads, correct, stats, logits: logits! };
    });
    try {
      const statEntries = await Promise.all(Object.entries(result.stats).map(async ([bn, s]) => [bn, {
        mean: (await s.mean.data()) as Float32Array,
        variance: (await s.variance.data()) as Float32Array,
      }] as const));
      return {
        lossSum: (await result.value.data())[0] * stepSize,
        correct: (await result.correct.data())[0],
        grads: await Promise.all(result.grads.map(async (g) => (await g.data()) as Float32Array)),
        stats: new Map(statEntries),
      };
    } finally {
      tf.dispose([result.value, ...result.grads, result.correct, result.logits, ...Object.values(result.stats).flatMap((s) => [s.mean, s.variance])]);
    }
  }

  dispose(): void {}
}

/**
 * Per image: the weighted binary cross-entropy of the defect-minus-OK score at each layer4
 * position against the dense target, averaged over positions. [n]
 */
function denseLoss(layer4: tf.Tensor4D, fcWeight: tf.Tensor2D, fcBias: tf.Tensor1D, d: DenseTargets): tf.Tensor1D {
  const map = classScoreMap(layer4, fcWeight, fcBias);
  const margin = tf.sub(tf.squeeze(tf.slice(map, [0, 0, 1], [-1, -1, 1]), [2]), tf.squeeze(tf.slice(map, [0, 0, 0], [-1, -1, 1]), [2]));
  return weightedBce(margin as tf.Tensor2D, d.targets, d, 'layer4');
}

/** A side head's term: its 1x1 logit at every position of the stage against the truth on that grid. [n] */
function sideHeadLoss(stage: tf.Tensor4D, weight: tf.Tensor2D, bias: tf.Tensor1D, layer: SideHeadLayer, d: DenseTargets | undefined): tf.Tensor1D {
  const targets = d?.sideTargets?.[layer];
  if (!d || !targets) throw new Error(`the layout has a side head at ${layer} but the micro-batch has no dense targets for it`);
  const [n, h, w, c] = stage.shape;
  const margin = tf.reshape(tf.add(tf.matMul(tf.reshape(stage, [n * h * w, c]), weight), bias), [n, h * w]);
  return weightedBce(margin as tf.Tensor2D, targets, d, layer);
}

/** Per image: the positive-weighted binary cross-entropy of a margin map [n, positions] against its targets, averaged over positions. */
function weightedBce(margin: tf.Tensor2D, targets: Float32Array, d: DenseTargets, where: string): tf.Tensor1D {
  const [n, positions] = margin.shape;
  if (targets.length !== n * positions) throw new Error(`dense targets at ${where} hold ${targets.length} values for ${n} images of ${positions} positions`);
  const t = tf.tensor2d(targets, [n, positions]);
  const bce = tf.add(tf.mul(tf.mul(t, d.positiveWeight), tf.softplus(tf.neg(margin))), tf.mul(tf.sub(1, t), tf.softplus(margin)));
  return tf.mul(tf.mul(tf.mean(bce, 1), tf.tensor1d(d.weights)), d.lossWeight) as tf.Tensor1D;
}

/** Averages BatchNorm batch statistics over every micro-batch of every worker. */
export function meanStatistics(
  parts: { statSums: Record<string, { mean: Float32Array; variance: Float32Array }>; microBatches: number }[],
): Map<string, { mean: Float32Array; variance: Float32Array }> {
  const total = parts.reduce((a, p) => a + p.microBatches, 0);
  const out = new Map<string, { mean: Float32Array; variance: Float32Array }>();
  for (const part of parts) {
    for (const [bn, s] of Object.entries(part.statSums)) {
      const acc = out.get(bn) ?? { mean: new Float32Array(s.mean.length), variance: new Float32Array(s.variance.length) };
      for (let j = 0; j < s.mean.length; j++) {
        acc.mean[j] += s.mean[j] / total;
        acc.variance[j] += s.variance[j] / total;
      }
      out.set(bn, acc);
    }
  }
  return out;
}

/** PyTorch's running-average update of BatchNorm statistics, in place on the flat buffer. */
export function updateRunningStats(layout: ParamLayout, params: Float32Array, stats: Map<string, { mean: Float32Array; variance: Float32Array }>): void {
  for (const [bn, s] of stats) {
    const mean = layout.view(params, `${bn}.running_mean`);
    const variance = layout.view(params, `${bn}.running_var`);
    for (let j = 0; j < mean.length; j++) {
      mean[j] = (1 - BN_MOMENTUM) * mean[j] + BN_MOMENTUM * s.mean[j];
      variance[j] = (1 - BN_MOMENTUM) * variance[j] + BN_MOMENTUM * s.variance[j];
    }
  }
}
