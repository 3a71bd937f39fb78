import * as tf from '@tensorflow/tfjs-core';
import { allConvs, AVG_POOLING, BN_EPS, BN_PARAMS, parameterShapes, type ConvSpec, type HeadPooling, type ResNetSpec, type StageName, type StageSpec } from './resnet-spec.ts';
import type { StateDict } from './state-dict.ts';
import { batchNormTrain } from './batch-norm.ts';

/**
 * torchvision's ResNet50 in NHWC with its parameters held by state_dict name. Conv filters
 * are stored in tfjs's HWIO layout and fc.weight as [in, out]; toStateDict() converts back.
 */
export class ResNet50 {
  private constructor(
    readonly spec: ResNetSpec,
    readonly params: Map<string, tf.Tensor>,
  ) {}

  static fromStateDict(spec: ResNetSpec, weights: StateDict): ResNet50 {
    const params = new Map<string, tf.Tensor>();
    for (const [name, shape] of parameterShapes(spec)) {
      const entry = weights.get(name);
      if (!entry) throw new Error(`state dict has no "${name}"`);
      params.set(name, tf.tidy(() => toTfLayout(name, tf.tensor(entry.data, shape))));
    }
    return new ResNet50(spec, params);
  }

  /** Wraps tensors already in tfjs layout (e.g. a training step's variables); takes ownership. */
  static fromTensors(spec: ResNetSpec, params: Map<string, tf.Tensor>): ResNet50 {
    return new ResNet50(spec, params);
  }

  async toStateDict(): Promise<StateDict> {
    const out: StateDict = new Map();
    for (const [name, shape] of parameterShapes(this.spec)) {
      const t = tf.tidy(() => toTorchLayout(name, this.param(name)));
      out.set(name, { shape, data: (await t.data()) as Float32Array });
      t.dispose();
    }
    return out;
  }

  param(name: string): tf.Tensor {
    const t = this.params.get(name);
    if (!t) throw new Error(`ResNet50 has no parameter "${name}"`);
    return t;
  }

  dispose(): void {
    for (const t of this.params.values()) t.dispose();
    this.params.clear();
  }
}

function toTfLayout(name: string, t: tf.Tensor): tf.Tensor {
  if (t.rank === 4) return tf.transpose(t, [2, 3, 1, 0]);
  if (name === 'fc.weight') return tf.transpose(t);
  return t.clone();
}

function toTorchLayout(name: string, t: tf.Tensor): tf.Tensor {
  if (t.rank === 4) return tf.transpose(t, [3, 2, 0, 1]);
  if (name === 'fc.weight') return tf.transpose(t);
  return t.clone();
}

export interface ForwardResult {
  logits: tf.Tensor2D;
  stages: Record<StageName, tf.Tensor4D>;
}

export interface TrainForwardResult extends ForwardResult {
  /** Per BatchNorm prefix: the batch mean and unbiased variance, for the running averages. */
  batchStats: Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>;
}

/**
 * The network with explicit BatchNorm: eval mode uses the running statistics, train mode the
 * batch's (biased variance to normalise, unbiased for the running averages, as PyTorch).
 * Used by training; inference uses the folded network.
 */
export function forwardWithBatchNorm(
  net: ResNet50,
  x: tf.Tensor4D,
  training: boolean,
  param: (name: string) => tf.Tensor = (n) => net.param(n),
): TrainForwardResult {
  const batchStats = new Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>();
  const convBn = (input: tf.Tensor4D, c: ConvSpec, relu: boolean): tf.Tensor4D => {
    const y = tf.conv2d(input, param(`${c.conv}.weight`) as tf.Tensor4D, c.stride, c.pad);
    const gamma = param(`${c.bn}.weight`) as tf.Tensor1D;
    const beta = param(`${c.bn}.bias`) as tf.Tensor1D;
    if (training) return batchNormTrain(y, gamma, beta, relu, (stats) => batchStats.set(c.bn, stats));
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(param(`${c.bn}.running_var`), BN_EPS)));
    const shift = tf.sub(beta, tf.mul(param(`${c.bn}.running_mean`), scale));
    const out = tf.add(tf.mul(y, scale), shift) as tf.Tensor4D;
    return relu ? (tf.relu(out) as tf.Tensor4D) : out;
  };
  const result = runNetwork(net.spec, x, convBn, param('fc.weight') as tf.Tensor2D, param('fc.bias') as tf.Tensor1D);
  return { ...result, batchStats };
}

export type ConvOp = (input: tf.Tensor4D, conv: ConvSpec, relu: boolean) => tf.Tensor4D;
export type StageTap = (stage: StageName, output: tf.Tensor4D) => tf.Tensor4D;

/** The topology, shared by every variant: stem, maxpool, four stages of bottlenecks, avgpool, fc. */
export function runNetwork(
  spec: ResNetSpec,
  x: tf.Tensor4D,
  conv: ConvOp,
  fcWeight: tf.Tensor2D,
  fcBias: tf.Tensor1D,
  tap: StageTap = (_stage, output) => output,
): ForwardResult {
  let h = runStem(spec, x, conv);
  const stages = {} as Record<StageName, tf.Tensor4D>;
  for (const stage of spec.stages) {
    h = tap(stage.name, runStage(stage, h, conv));
    stages[stage.name] = h;
  }
  return { logits: runHead(h, fcWeight, fcBias, spec.config.pooling), stages };
}

export function runStem(spec: ResNetSpec, x: tf.Tensor4D, conv: ConvOp): tf.Tensor4D {
  return tf.maxPool(conv(x, spec.stem, true), 3, 2, 1) as tf.Tensor4D;
}

export function runStage(stage: StageSpec, input: tf.Tensor4D, conv: ConvOp): tf.Tensor4D {
  let h = input;
  for (const block of stage.blocks) {
    const [c1, c2, c3] = block.convs;
    const y = conv(conv(conv(h, c1, true), c2, true), c3, false);
    const shortcut = block.downsample ? conv(h, block.downsample, false) : h;
    h = tf.relu(tf.add(y, shortcut)) as tf.Tensor4D;
  }
  return h;
}

/** The class scores before softmax, pooled as the spec says (see HeadPooling). */
export function runHead(features: tf.Tensor4D, fcWeight: tf.Tensor2D, fcBias: tf.Tensor1D, pooling: HeadPooling = AVG_POOLING): tf.Tensor2D {
  if (pooling.kind === 'avg') return tf.add(tf.matMul(tf.mean(features, [1, 2]) as tf.Tensor2D, fcWeight), fcBias) as tf.Tensor2D;
  return topkMean(classScoreMap(features, fcWeight, fcBias), pooling.fraction);
}

/** fc at every position of [n, h, w, c] features: [n, h * w, classes]. */
export function classScoreMap(features: tf.Tensor4D, fcWeight: tf.Tensor2D, fcBias: tf.Tensor1D): tf.Tensor3D {
  const [n, h, w, c] = features.shape;
  const flat = tf.reshape(features, [n * h * w, c]) as tf.Tensor2D;
  return tf.reshape(tf.add(tf.matMul(flat, fcWeight), fcBias), [n, h * w, fcWeight.shape[1]]) as tf.Tensor3D;
}

/** How many positions the top-k head averages: at least one. */
export function topkCount(positions: number, fraction: number): number {
  return Math.max(1, Math.min(positions, Math.round(positions * fraction)));
}

type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];

/**
 * Per image and class, the mean of the k highest scores of [n, positions, classes]. tfjs has no
 * gradient for topk, so the op carries its own: the incoming gradient shared equally by the
 * positions at or above the k-th score, zero elsewhere (PyTorch's topk gradient, up to ties).
 */
function topkMean(map: tf.Tensor3D, fraction: number): tf.Tensor2D {
  const op = tf.customGrad(((m: tf.Tensor3D, save: (ts: tf.Tensor[]) => void) => {
    const byClass = tf.transpose(m, [0, 2, 1]) as tf.Tensor3D;
    const k = topkCount(byClass.shape[2], fraction);
    const { values } = tf.topk(byClass, k);
    const kth = tf.slice(values, [0, 0, k - 1], [-1, -1, 1]);
    save([byClass, kth]);
    return {
      value: tf.mean(values, 2),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [scores, threshold] = saved;
        const selected = tf.cast(tf.greaterEqual(scores, threshold), 'float32');
        const share = tf.div(selected, tf.sum(selected, 2, true));
        return tf.transpose(tf.mul(share, tf.expandDims(dy, 2)), [0, 2, 1]);
      },
    };
  }) as unknown as CustomGradientFunc);
  return op(map) as tf.Tensor2D;
}

export interface FoldedConv {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
}

/**
 * Inference form: each BatchNorm folded into the conv before it (w * g / sqrt(v + eps),
 * b = beta - mean * g / sqrt(v + eps)), so a conv + bias + ReLU is one fused kernel.
 */
export class FoldedResNet {
  private constructor(
    readonly spec: ResNetSpec,
    readonly convs: Map<string, FoldedConv>,
    readonly fcWeight: tf.Tensor2D,
    readonly fcBias: tf.Tensor1D,
  ) {}

  static fold(net: ResNet50): FoldedResNet {
    const convs = new Map<string, FoldedConv>();
    for (const c of allConvs(net.spec)) {
      convs.set(c.conv, tf.tidy(() => {
        const [gamma, beta, mean, variance] = BN_PARAMS.map((p) => net.param(`${c.bn}.${p}`));
        const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, BN_EPS)));
        return {
          filter: tf.mul(net.param(`${c.conv}.weight`), scale) as tf.Tensor4D,
          bias: tf.sub(beta, tf.mul(mean, scale)) as tf.Tensor1D,
        };
      }));
    }
    return new FoldedResNet(net.spec, convs, net.param('fc.weight').clone() as tf.Tensor2D, net.param('fc.bias').clone() as tf.Tensor1D);
  }

  conv(c: ConvSpec): FoldedConv {
    const f = this.convs.get(c.conv);
    if (!f) throw new Error(`folded network has no conv "${c.conv}"`);
    return f;
  }

  /** Plain inference: fused conv + bias (+ ReLU) kernels. */
  readonly fusedConv: ConvOp = (input, c, relu) => {
    const { filter, bias } = this.conv(c);
    return tf.fused.conv2d({ x: input, filter, strides: c.stride, pad: c.pad, bias, activation: relu ? 'relu' : 'linear' });
  };

  forward(x: tf.Tensor4D, tap?: StageTap): ForwardResult {
    return runNetwork(this.spec, x, this.fusedConv, this.fcWeight, this.fcBias, tap);
  }

  dispose(): void {
    for (const c of this.convs.values()) {
      c.filter.dispose();
      c.bias.dispose();
    }
    this.convs.clear();
    this.fcWeight.dispose();
    this.fcBias.dispose();
  }
}
