import { BN_EPS, type ConvSpec, type ResNetSpec, type StageName } from '../resnet-spec.ts';
import { topkCount } from '../resnet50.ts';
import type { ParamLayout } from '../train/param-layout.ts';
import { sideHeadParams, type SideHeadLayer } from '../train/side-heads.ts';
import { GraphBuilder, MICROSOFT_DOMAIN } from './graph-builder.ts';

/** ScatterElements' `reduction` (the max-pool's backward) needs operator set 16. */
const TRAINING_OPSET = 16;

export interface TrainingGraphShape {
  /** Images per run: BatchNorm normalises over them, as one micro-batch. */
  batch: number;
  height: number;
  width: number;
  /**
   * The dense class-score-map term, with its weights baked in; null: cross-entropy alone.
   * The layout's side heads (if any) add their terms with the same weights.
   */
  dense: { lossWeight: number; positiveWeight: number } | null;
}

/**
 * Graph value names. Inputs: `x` [n, C, H, W], `onehot` [n, classes], `scale` [1] (1 / the
 * step's images), with dense supervision `dense_targets` [n, positions] and `dense_weights`
 * [n], and per side head `dense_targets:layer2` [n, its positions]; and every trainable
 * parameter under its state_dict name (side heads': side.layer2.weight), in the flat
 * buffer's (tfjs) layout. Outputs: `loss` (the micro-batch's share of the step's mean), `logits`, and per
 * parameter and BatchNorm the gradient and batch statistics named below.
 */
export const TRAINING_INPUTS = { image: 'x', onehot: 'onehot', scale: 'scale', denseTargets: 'dense_targets', denseWeights: 'dense_weights' } as const;
export const sideTargetsInput = (layer: SideHeadLayer) => `${TRAINING_INPUTS.denseTargets}:${layer}`;
export const TRAINING_OUTPUTS = { loss: 'loss', logits: 'logits' } as const;
export const gradientOutput = (param: string) => `grad:${param}`;
export const statisticsOutputs = (bn: string) => ({ mean: `mean:${bn}`, variance: `var:${bn}` });

interface Activation {
  value: string;
  c: number;
  h: number;
  w: number;
}

/** What a BatchNorm's backward pass needs of its forward pass. */
interface BatchNormTrace {
  conv: ConvSpec;
  input: Activation;
  xhat: string;
  /** gamma * invstd, [1, C, 1, 1]. */
  scale: string;
  /** The output after ReLU, whose sign masks the gradient; absent without ReLU. */
  relu?: string;
  out: Activation;
}

interface BlockTrace {
  convs: [BatchNormTrace, BatchNormTrace, BatchNormTrace];
  downsample?: BatchNormTrace;
  out: string;
}

const convOut = (size: number, c: Pick<ConvSpec, 'kernel' | 'stride' | 'pad'>) => Math.floor((size + 2 * c.pad - c.kernel) / c.stride) + 1;

/**
 * One training micro-batch of the ResNet as a single ONNX graph for onnxruntime, which has no
 * autodiff in its Node package: the forward pass with BatchNorm in training mode (batch
 * statistics), the loss of TfjsGradients (cross-entropy, plus the dense class-score-map
 * term), and its gradient by hand, layer by layer back to the stem. The gradients are those
 * tfjs's autodiff gives for the same loss (the tests hold them to it):
 * - a conv's input gradient is ConvTranspose on its filter;
 * - a conv's filter gradient is, per kernel tap, the shifted input times dy over positions
 *   (one onnxruntime FusedMatMul per tap, which reads dy transposed without copying it);
 * - BatchNorm's backward is its closed form, as batchNormTrain's;
 * - the max-pool's routes each gradient to the argmax its forward pass recorded;
 * - the top-k head shares a class score's gradient among the positions at or above its k-th;
 * - a side head's 1x1 logit map adds its gradient at its stage's output.
 * Parameters come in and gradients go out in the flat buffer's layout (HWIO filters, fc as
 * [in, out]), so the trainer's buffers do not change with the engine.
 */
export function buildTrainingGraph(layout: ParamLayout, shape: TrainingGraphShape): Uint8Array {
  const spec = layout.spec;
  if (layout.sideHeads.length > 0 && !shape.dense) throw new Error('side heads need the dense term: their targets are the same truth');
  const g = new GraphBuilder(TRAINING_OPSET);
  const n = shape.batch;
  const classes = spec.config.numClasses;
  const x = g.input(TRAINING_INPUTS.image, [n, spec.config.inChannels, shape.height, shape.width]);
  const onehot = g.input(TRAINING_INPUTS.onehot, [n, classes]);
  const lossScale = g.input(TRAINING_INPUTS.scale, [1]);
  const params = new Map<string, string>();
  for (const slot of layout.trainable) params.set(slot.name, g.input(slot.name, slot.shape));
  const param = (name: string) => params.get(name)!;
  const zero = g.scalar(0);
  const channelAxes = g.int64([0, 2, 3]);
  const grads = new Map<string, string>();

  const filters = new Map<string, string>();
  /** The filter in ONNX's OIHW, transposed once from the buffer's HWIO. */
  const filterOf = (c: ConvSpec) => {
    let f = filters.get(c.conv);
    if (!f) filters.set(c.conv, (f = g.op('Transpose', [param(`${c.conv}.weight`)], { perm: [3, 2, 0, 1] })));
    return f;
  };
  const convAttrs = (c: ConvSpec) => ({ kernel_shape: [c.kernel, c.kernel], strides: [c.stride, c.stride], pads: [c.pad, c.pad, c.pad, c.pad] });
  const perChannel = (v: string, channels: number) => g.op('Reshape', [v, g.int64([1, channels, 1, 1])]);
  const flat = (v: string, channels: number) => g.op('Reshape', [v, g.int64([channels])]);

  const convBn = (input: Activation, c: ConvSpec, relu: boolean): BatchNormTrace => {
    const h = convOut(input.h, c);
    const w = convOut(input.w, c);
    const y = g.op('Conv', [input.value, filterOf(c)], convAttrs(c));
    const count = n * h * w;
    const mean = g.op('ReduceMean', [y], { axes: [0, 2, 3], keepdims: 1 });
    const centred = g.op('Sub', [y, mean]);
    const variance = g.op('ReduceMean', [g.op('Mul', [centred, centred])], { axes: [0, 2, 3], keepdims: 1 });
    const invstd = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.scalar(BN_EPS)])])]);
    const xhat = g.op('Mul', [centred, invstd]);
    const gamma = perChannel(param(`${c.bn}.weight`), c.outChannels);
    const normalised = g.op('Add', [g.op('Mul', [xhat, gamma]), perChannel(param(`${c.bn}.bias`), c.outChannels)]);
    const out = relu ? g.op('Relu', [normalised]) : normalised;
    const stats = statisticsOutputs(c.bn);
    g.output(stats.mean, flat(mean, c.outChannels));
    g.output(stats.variance, flat(g.op('Mul', [variance, g.scalar(count / Math.max(count - 1, 1))]), c.outChannels));
    return { conv: c, input, xhat, scale: g.op('Mul', [gamma, invstd]), relu: relu ? out : undefined, out: { value: out, c: c.outChannels, h, w } };
  };

  /** dL/d(conv input), recording the conv's and its BatchNorm's parameter gradients. */
  const convBnBackward = (dOut: string, t: BatchNormTrace, needInput: boolean): string | undefined => {
    const { conv: c, input, out } = t;
    const d = t.relu ? reluBackward(dOut, t.relu) : dOut;
    const count = n * out.h * out.w;
    const dBeta = g.op('ReduceSum', [d, channelAxes], { keepdims: 1 });
    const dGamma = g.op('ReduceSum', [g.op('Mul', [d, t.xhat]), channelAxes], { keepdims: 1 });
    grads.set(`${c.bn}.bias`, flat(dBeta, c.outChannels));
    grads.set(`${c.bn}.weight`, flat(dGamma, c.outChannels));
    // dy = gamma invstd (d - mean(d) - xhat mean(d xhat)), with the per-channel factors folded first.
    const invCount = g.scalar(1 / count);
    const k2 = g.op('Mul', [t.scale, g.op('Mul', [dGamma, invCount])]);
    const k3 = g.op('Mul', [t.scale, g.op('Mul', [dBeta, invCount])]);
    const dy = g.op('Sub', [g.op('Sub', [g.op('Mul', [d, t.scale]), g.op('Mul', [t.xhat, k2])]), k3]);
    grads.set(`${c.conv}.weight`, filterGradient(input, dy, c, out));
    if (!needInput) return undefined;
    const extra = (size: number, o: number) => size - ((o - 1) * c.stride - 2 * c.pad + c.kernel);
    return g.op('ConvTranspose', [dy, filterOf(c)], { ...convAttrs(c), output_padding: [extra(input.h, out.h), extra(input.w, out.w)] });
  };

  const reluBackward = (dy: string, out: string) => g.op('Where', [g.op('Greater', [out, zero]), dy, zero]);

  /** dL/dW in HWIO: for each tap, sum over images and positions of input(shifted) x dy. */
  const filterGradient = (input: Activation, dy: string, c: ConvSpec, out: Activation): string => {
    const positions = out.h * out.w;
    const dyRows = g.op('Reshape', [dy, g.int64([n, c.outChannels, positions])]);
    const tap = (shifted: string) => {
      const rows = g.op('Reshape', [shifted, g.int64([n, c.inChannels, positions])]);
      const perImage = g.op('FusedMatMul', [rows, dyRows], { transB: 1 }, 1, MICROSOFT_DOMAIN);
      return g.op('ReduceSum', [perImage, g.int64([0])], { keepdims: 1 });
    };
    const padded = c.pad > 0 ? g.op('Pad', [input.value, g.int64([0, 0, c.pad, c.pad, 0, 0, c.pad, c.pad])]) : input.value;
    const taps: string[] = [];
    for (let kh = 0; kh < c.kernel; kh++) {
      for (let kw = 0; kw < c.kernel; kw++) {
        const whole = c.kernel === 1 && c.stride === 1;
        const shifted = whole
          ? padded
          : g.op('Slice', [padded, g.int64([kh, kw]), g.int64([kh + (out.h - 1) * c.stride + 1, kw + (out.w - 1) * c.stride + 1]), g.int64([2, 3]), g.int64([c.stride, c.stride])]);
        taps.push(tap(shifted));
      }
    }
    const stacked = taps.length === 1 ? taps[0] : g.op('Concat', taps, { axis: 0 });
    return g.op('Reshape', [stacked, g.int64([c.kernel, c.kernel, c.inChannels, c.outChannels])]);
  };

  // Forward.
  const input: Activation = { value: x, c: spec.config.inChannels, h: shape.height, w: shape.width };
  const stem = convBn(input, spec.stem, true);
  const [pooled, argmax] = g.opOutputs('MaxPool', [stem.out.value], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, 2);
  const pool = { k: 3, s: 2, p: 1 };
  let h: Activation = { value: pooled, c: stem.out.c, h: convOut(stem.out.h, { kernel: pool.k, stride: pool.s, pad: pool.p }), w: convOut(stem.out.w, { kernel: pool.k, stride: pool.s, pad: pool.p }) };
  const traces: BlockTrace[] = [];
  const stageOutputs = new Map<StageName, { activation: Activation; lastBlock: number }>();
  for (const stage of spec.stages) {
    for (const block of stage.blocks) {
      const [c1, c2, c3] = block.convs;
      const t1 = convBn(h, c1, true);
      const t2 = convBn(t1.out, c2, true);
      const t3 = convBn(t2.out, c3, false);
      const ds = block.downsample ? convBn(h, block.downsample, false) : undefined;
      const sum = g.op('Add', [t3.out.value, ds ? ds.out.value : h.value]);
      const out = g.op('Relu', [sum]);
      traces.push({ convs: [t1, t2, t3], downsample: ds, out });
      h = { value: out, c: t3.out.c, h: t3.out.h, w: t3.out.w };
    }
    stageOutputs.set(stage.name, { activation: h, lastBlock: traces.length - 1 });
  }

  // Head, loss and the gradient at layer4; the side heads' terms and gradients at their stages.
  const dense = shape.dense ? { ...shape.dense, weights: g.input(TRAINING_INPUTS.denseWeights, [n]), lossScale } : null;
  const { logits, perImage, dFeatures } = head(g, spec, h, shape, { onehot, lossScale, fcWeight: param('fc.weight'), fcBias: param('fc.bias'), grads, dense });
  let total = perImage;
  const sideGradients = new Map<number, string>();
  for (const layer of layout.sideHeads) {
    const { activation, lastBlock } = stageOutputs.get(layer)!;
    const names = sideHeadParams(layer);
    const side = sideHead(g, activation, n, g.input(sideTargetsInput(layer), [n, activation.h * activation.w]), param(names.weight), param(names.bias), dense!);
    total = g.op('Add', [total, side.perImage]);
    grads.set(names.weight, side.dWeight);
    grads.set(names.bias, side.dBias);
    sideGradients.set(lastBlock, side.dActivation);
  }
  g.output(TRAINING_OUTPUTS.logits, logits);
  g.output(TRAINING_OUTPUTS.loss, g.op('Mul', [g.op('ReduceSum', [total, g.int64([0])], { keepdims: 1 }), lossScale]));

  // Backward, block by block.
  let grad = dFeatures;
  for (let b = traces.length - 1; b >= 0; b--) {
    const t = traces[b];
    const fromSide = sideGradients.get(b);
    if (fromSide) grad = g.op('Add', [grad, fromSide]);
    const dSum = reluBackward(grad, t.out);
    const dH2 = convBnBackward(dSum, t.convs[2], true)!;
    const dH1 = convBnBackward(dH2, t.convs[1], true)!;
    const dMain = convBnBackward(dH1, t.convs[0], true)!;
    const dShortcut = t.downsample ? convBnBackward(dSum, t.downsample, true)! : dSum;
    grad = g.op('Add', [dMain, dShortcut]);
  }
  const stemOut = stem.out;
  const stemSize = g.int64([n * stemOut.c * stemOut.h * stemOut.w]);
  const routed = g.op('ScatterElements', [
    g.op('Expand', [zero, stemSize]),
    g.op('Reshape', [argmax, g.int64([-1])]),
    g.op('Reshape', [grad, g.int64([-1])]),
  ], { axis: 0, reduction: 'add' });
  convBnBackward(g.op('Reshape', [routed, g.int64([n, stemOut.c, stemOut.h, stemOut.w])]), stem, false);

  for (const slot of layout.trainable) {
    const value = grads.get(slot.name);
    if (!value) throw new Error(`the training graph has no gradient for ${slot.name}`);
    g.output(gradientOutput(slot.name), value);
  }
  return g.encode('kizu-training-step');
}

/** The dense terms' weights and the graph values they share. */
interface DenseInputs {
  lossWeight: number;
  positiveWeight: number;
  /** [n]: 1 supervises an image's maps, 0 not. */
  weights: string;
  lossScale: string;
}

interface HeadInputs {
  onehot: string;
  lossScale: string;
  /** [features, classes], the buffer's layout. */
  fcWeight: string;
  fcBias: string;
  grads: Map<string, string>;
  dense: DenseInputs | null;
}

/**
 * Per image [n]: the positive-weighted binary cross-entropy of a margin map [n, 1, positions]
 * against `targets` [n, positions], averaged over positions, times the image's weight; and its
 * gradient on the margin, already scaled as the step's mean.
 */
function weightedBce(g: GraphBuilder, margin: string, targets: string, n: number, positions: number, d: DenseInputs): { perImage: string; dMargin: string } {
  const t = g.op('Unsqueeze', [targets, g.int64([1])]);
  const notT = g.op('Sub', [g.scalar(1), t]);
  const positive = g.op('Mul', [t, g.scalar(d.positiveWeight)]);
  const bce = g.op('Add', [g.op('Mul', [positive, g.op('Softplus', [g.op('Neg', [margin])])]), g.op('Mul', [notT, g.op('Softplus', [margin])])]);
  const imageWeight = g.op('Mul', [d.weights, g.scalar(d.lossWeight)]);
  const perImage = g.op('Mul', [g.op('ReduceMean', [bce], { axes: [1, 2], keepdims: 0 }), imageWeight]);
  const dBce = g.op('Sub', [g.op('Mul', [notT, g.op('Sigmoid', [margin])]), g.op('Mul', [positive, g.op('Sigmoid', [g.op('Neg', [margin])])])]);
  const perPosition = g.op('Mul', [g.op('Reshape', [imageWeight, g.int64([n, 1, 1])]), g.op('Mul', [d.lossScale, g.scalar(1 / positions)])]);
  return { perImage, dMargin: g.op('Mul', [dBce, perPosition]) };
}

/** A side head: its 1x1 logit at every position of the stage, the term's loss per image, and its gradients. */
function sideHead(g: GraphBuilder, stage: Activation, n: number, targets: string, weight: string, bias: string, d: DenseInputs) {
  const positions = stage.h * stage.w;
  const rows = g.op('Reshape', [stage.value, g.int64([n, stage.c, positions])]);
  // [n, 1, positions]
  const margin = g.op('Add', [g.op('FusedMatMul', [weight, rows], { transA: 1 }, 1, MICROSOFT_DOMAIN), bias]);
  const { perImage, dMargin } = weightedBce(g, margin, targets, n, positions, d);
  const dWeight = g.op('ReduceSum', [g.op('FusedMatMul', [rows, dMargin], { transB: 1 }, 1, MICROSOFT_DOMAIN), g.int64([0])], { keepdims: 0 });
  const dBias = g.op('Reshape', [g.op('ReduceSum', [dMargin, g.int64([0, 1, 2])], { keepdims: 0 }), g.int64([1])]);
  const dActivation = g.op('Reshape', [g.op('MatMul', [weight, dMargin]), g.int64([n, stage.c, stage.h, stage.w])]);
  return { perImage, dWeight, dBias, dActivation };
}

/**
 * Class scores, the micro-batch's per-image loss (cross-entropy plus the dense term), and its
 * gradients: fc's into `grads`, the features' returned.
 */
function head(g: GraphBuilder, spec: ResNetSpec, features: Activation, shape: TrainingGraphShape, io: HeadInputs): { logits: string; perImage: string; dFeatures: string } {
  const n = shape.batch;
  const classes = spec.config.numClasses;
  const channels = features.c;
  const positions = features.h * features.w;
  const pooling = spec.config.pooling ?? { kind: 'avg' };
  const featureRows = g.op('Reshape', [features.value, g.int64([n, channels, positions])]);
  // The class-score map, fc at every position: [n, classes, positions].
  const scoreMap = () => g.op('Add', [
    g.op('FusedMatMul', [io.fcWeight, featureRows], { transA: 1 }, 1, MICROSOFT_DOMAIN),
    g.op('Reshape', [io.fcBias, g.int64([classes, 1])]),
  ]);
  const scores = pooling.kind === 'topk' || shape.dense ? scoreMap() : undefined;

  let logits: string;
  let pooled: string | undefined;
  let top: string | undefined;
  if (pooling.kind === 'avg') {
    pooled = g.op('Flatten', [g.op('GlobalAveragePool', [features.value])]);
    logits = g.op('Add', [g.op('MatMul', [pooled, io.fcWeight]), io.fcBias]);
  } else {
    top = g.op('TopK', [scores!, g.int64([topkCount(positions, pooling.fraction)])], { axis: 2, largest: 1, sorted: 1 }, 2);
    logits = g.op('ReduceMean', [top], { axes: [2], keepdims: 0 });
  }
  const perImage = g.op('Neg', [g.op('ReduceSum', [g.op('Mul', [io.onehot, g.op('LogSoftmax', [logits], { axis: 1 })]), g.int64([1])], { keepdims: 0 })]);
  const dLogits = g.op('Mul', [g.op('Sub', [g.op('Softmax', [logits], { axis: 1 }), io.onehot]), io.lossScale]);

  let total = perImage;
  let dScores: string | undefined;
  if (top) {
    const kth = g.op('ReduceMin', [top], { axes: [2], keepdims: 1 });
    const selected = g.op('Cast', [g.op('GreaterOrEqual', [scores!, kth])], { to: 1 });
    const share = g.op('Div', [selected, g.op('ReduceSum', [selected, g.int64([2])], { keepdims: 1 })]);
    dScores = g.op('Mul', [share, g.op('Unsqueeze', [dLogits, g.int64([2])])]);
  }
  if (io.dense) {
    const targets = g.input(TRAINING_INPUTS.denseTargets, [n, positions]);
    const classScore = (k: number) => g.op('Gather', [scores!, g.int64([k])], { axis: 1 });
    // [n, 1, positions]: the defect-minus-OK margin, as denseLoss's.
    const margin = g.op('Sub', [classScore(1), classScore(0)]);
    const term = weightedBce(g, margin, targets, n, positions, io.dense);
    total = g.op('Add', [total, term.perImage]);
    const dMargin = term.dMargin;
    const dDense = g.op('Concat', [g.op('Neg', [dMargin]), dMargin], { axis: 1 });
    dScores = dScores ? g.op('Add', [dScores, dDense]) : dDense;
  }
  const fcWeightGrads: string[] = [];
  const fcBiasGrads: string[] = [];
  const featureGrads: string[] = [];
  if (pooled) {
    fcWeightGrads.push(g.op('FusedMatMul', [pooled, dLogits], { transA: 1 }, 1, MICROSOFT_DOMAIN));
    fcBiasGrads.push(g.op('ReduceSum', [dLogits, g.int64([0])], { keepdims: 0 }));
    const dPooled = g.op('FusedMatMul', [dLogits, io.fcWeight], { transB: 1 }, 1, MICROSOFT_DOMAIN);
    const spread = g.op('Mul', [g.op('Reshape', [dPooled, g.int64([n, channels, 1, 1])]), g.scalar(1 / positions)]);
    featureGrads.push(g.op('Expand', [spread, g.int64([n, channels, features.h, features.w])]));
  }
  if (dScores) {
    const perImage = g.op('FusedMatMul', [featureRows, dScores], { transB: 1 }, 1, MICROSOFT_DOMAIN);
    fcWeightGrads.push(g.op('ReduceSum', [perImage, g.int64([0])], { keepdims: 0 }));
    fcBiasGrads.push(g.op('ReduceSum', [dScores, g.int64([0, 2])], { keepdims: 0 }));
    featureGrads.push(g.op('Reshape', [g.op('MatMul', [io.fcWeight, dScores]), g.int64([n, channels, features.h, features.w])]));
  }
  const sum = (values: string[]) => (values.length === 1 ? values[0] : g.op('Add', values));
  io.grads.set('fc.weight', sum(fcWeightGrads));
  io.grads.set('fc.bias', sum(fcBiasGrads));
  return { logits, perImage: total, dFeatures: sum(featureGrads) };
}
