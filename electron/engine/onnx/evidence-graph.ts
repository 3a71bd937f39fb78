import type { ResNetSpec, ConvSpec, CamLayer, StageSpec } from '../resnet-spec.ts';
import { STAGES } from '../resnet-spec.ts';
import type { CamScore } from '../cam/types.ts';
import { topkCount } from '../resnet50.ts';
import { GraphBuilder, type FloatTensor } from './graph-builder.ts';

/** A BatchNorm-folded conv in ONNX's layout: filter [out, in, k, k] and bias [out]. */
export interface OnnxConv {
  filter: FloatTensor;
  bias: FloatTensor;
}

export interface EvidenceGraphWeights {
  spec: ResNetSpec;
  conv(c: ConvSpec): OnnxConv;
  /** fc.weight as PyTorch holds it, [classes, features]. */
  fcWeight: FloatTensor;
  fcBias: FloatTensor;
}

export interface EvidenceGraphShape {
  height: number;
  width: number;
  /** Stages whose activations and gradients the graph outputs; the shallowest bounds the backward pass; none: logits alone. */
  layers: readonly CamLayer[];
  /** The score whose gradient the graph outputs (default 'logit'). */
  score?: CamScore;
}

/** Graph value names: inputs `x` [1, C, H, W] and `target` (int64 [1]); outputs `logits`, `act_<layer>`, `grad_<layer>`. */
export const EVIDENCE_INPUTS = { image: 'x', target: 'target' } as const;
export const evidenceOutputs = (layer: CamLayer) => ({ activations: `act_${layer}`, gradients: `grad_${layer}` });

interface Spatial {
  h: number;
  w: number;
}

const convOut = (size: number, c: Pick<ConvSpec, 'kernel' | 'stride' | 'pad'>) => Math.floor((size + 2 * c.pad - c.kernel) / c.stride) + 1;

/** What the backward pass needs of one bottleneck's forward pass. */
interface BlockTrace {
  inputSize: Spatial;
  h1: string;
  h2: string;
  out: string;
}

/**
 * The CAM engine's one forward and one backward pass (gatherEvidence) as a single ONNX graph
 * for onnxruntime: the folded network forward, then dy_c/dA by hand, block by block back to
 * the shallowest requested stage. The backward convs are ConvTranspose on the forward
 * filters (the input gradient of a conv, by definition), so no weight is stored twice; ReLU's
 * gradient is a Where on its output. The graph is built for one input size, which fixes the
 * top-k head's k and the transposed convs' output padding.
 */
export function buildEvidenceGraph(weights: EvidenceGraphWeights, shape: EvidenceGraphShape): Uint8Array {
  const { spec } = weights;
  const g = new GraphBuilder();
  let zero: string | undefined;
  const x = g.input(EVIDENCE_INPUTS.image, [1, spec.config.inChannels, shape.height, shape.width]);
  const target = g.input(EVIDENCE_INPUTS.target, [1], 'int64');

  const filters = new Map<string, string>();
  const convAttrs = (c: ConvSpec) => ({ kernel_shape: [c.kernel, c.kernel], strides: [c.stride, c.stride], pads: [c.pad, c.pad, c.pad, c.pad] });
  const filterOf = (c: ConvSpec): string => {
    let name = filters.get(c.conv);
    if (!name) {
      const { filter, bias } = weights.conv(c);
      name = g.float(`${c.conv}.weight`, filter);
      g.float(`${c.conv}.bias`, bias);
      filters.set(c.conv, name);
    }
    return name;
  };
  const conv = (input: string, c: ConvSpec, relu: boolean): string => {
    const y = g.op('Conv', [input, filterOf(c), `${c.conv}.bias`], convAttrs(c));
    return relu ? g.op('Relu', [y]) : y;
  };
  /** dL/dinput of conv c, given dL/doutput, for an input of `size`. */
  const convBackward = (dy: string, c: ConvSpec, size: Spatial, outSize: Spatial): string => {
    const extra = (n: number, out: number) => n - ((out - 1) * c.stride - 2 * c.pad + c.kernel);
    return g.op('ConvTranspose', [dy, filterOf(c)], { ...convAttrs(c), output_padding: [extra(size.h, outSize.h), extra(size.w, outSize.w)] });
  };
  const reluBackward = (dy: string, out: string): string => {
    zero ??= g.scalar(0);
    return g.op('Where', [g.op('Greater', [out, zero]), dy, zero]);
  };

  let size: Spatial = { h: shape.height, w: shape.width };
  let h = conv(x, spec.stem, true);
  size = { h: convOut(size.h, spec.stem), w: convOut(size.w, spec.stem) };
  h = g.op('MaxPool', [h], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  size = { h: convOut(size.h, { kernel: 3, stride: 2, pad: 1 }), w: convOut(size.w, { kernel: 3, stride: 2, pad: 1 }) };

  const wanted = (shape.layers as readonly string[]);
  const shallowest = STAGES.findIndex((s) => wanted.includes(s));
  const traces: BlockTrace[][] = [];
  spec.stages.forEach((stage) => {
    const blocks: BlockTrace[] = [];
    for (const block of stage.blocks) {
      const [c1, c2, c3] = block.convs;
      const input = h;
      const inputSize = size;
      const h1 = conv(input, c1, true);
      const h2 = conv(h1, c2, true);
      size = { h: convOut(size.h, c2), w: convOut(size.w, c2) };
      const shortcut = block.downsample ? conv(input, block.downsample, false) : input;
      h = g.op('Relu', [g.op('Add', [conv(h2, c3, false), shortcut])]);
      blocks.push({ inputSize, h2, h1, out: h });
    }
    traces.push(blocks);
    if (wanted.includes(stage.name)) g.output(evidenceOutputs(stage.name as CamLayer).activations, h);
  });

  const { logits, gradient } = head(g, weights, h, size, target, shape.score ?? 'logit');
  g.output('logits', logits);
  if (shallowest < 0) return g.encode('kizu-forward');

  let grad = gradient();
  for (let s = spec.stages.length - 1; s >= shallowest; s--) {
    const stage: StageSpec = spec.stages[s];
    if (wanted.includes(stage.name)) g.output(evidenceOutputs(stage.name as CamLayer).gradients, grad);
    if (s === shallowest) break;
    for (let b = stage.blocks.length - 1; b >= 0; b--) {
      const block = stage.blocks[b];
      const t = traces[s][b];
      const [c1, c2, c3] = block.convs;
      const dSum = reluBackward(grad, t.out);
      const outSize = { h: convOut(t.inputSize.h, c2), w: convOut(t.inputSize.w, c2) };
      const dH2 = reluBackward(convBackward(dSum, c3, outSize, outSize), t.h2);
      const dH1 = reluBackward(convBackward(dH2, c2, t.inputSize, outSize), t.h1);
      const dMain = convBackward(dH1, c1, t.inputSize, t.inputSize);
      const dShortcut = block.downsample ? convBackward(dSum, block.downsample, t.inputSize, outSize) : dSum;
      grad = g.op('Add', [dMain, dShortcut]);
    }
  }
  return g.encode('kizu-evidence');
}

/**
 * The class scores and d(y)/d(layer4), for the head the spec names: global average then fc, or
 * fc at every position (a 1x1 conv) and the mean of each class's top k. y is the target's logit,
 * whose gradient under top-k is shared equally by the positions at or above the k-th score (as
 * the training head's, and PyTorch's topk up to ties), with, for 'logit-and-position-margins',
 * the positions' positive margins added (the same under either head): W[target] - W[strongest
 * other] where the margin is positive, else 0.
 */
function head(g: GraphBuilder, weights: EvidenceGraphWeights, features: string, size: Spatial, target: string, score: CamScore): { logits: string; gradient: () => string } {
  const { spec, fcWeight, fcBias } = weights;
  const [classes, channels] = fcWeight.dims;
  const fcW = g.float('fc.weight', fcWeight);
  const fcB = g.float('fc.bias', fcBias);
  const targetRow = () => g.op('Reshape', [g.op('Gather', [fcW, target], { axis: 0 }), g.int64([1, channels, 1, 1])]);
  const pooling = spec.config.pooling ?? { kind: 'avg' };
  const positions = size.h * size.w;
  const scoreMap = () => {
    const filter = g.op('Reshape', [fcW, g.int64([classes, channels, 1, 1])]);
    return g.op('Reshape', [g.op('Conv', [features, filter, fcB]), g.int64([1, classes, positions])]);
  };
  const marginGradient = (scores: string) => {
    const isTarget = g.op('Equal', [g.op('Reshape', [g.int64(Array.from({ length: classes }, (_, c) => c)), g.int64([1, classes, 1])]), target]);
    const others = g.op('Where', [isTarget, g.scalar(-3.4e38), scores]);
    const strongest = g.op('ArgMax', [others], { axis: 1, keepdims: 0 });
    const margin = g.op('Sub', [g.op('Gather', [scores, target], { axis: 1 }), g.op('ReduceMax', [others], { axes: [1], keepdims: 1 })]);
    const voting = g.op('Cast', [g.op('Greater', [margin, g.scalar(0)])], { to: 1 });
    const otherRows = g.op('Transpose', [g.op('Gather', [fcW, g.op('Reshape', [strongest, g.int64([positions])])], { axis: 0 })], { perm: [1, 0] });
    const direction = g.op('Sub', [targetRow(), g.op('Reshape', [otherRows, g.int64([1, channels, size.h, size.w])])]);
    return g.op('Mul', [g.op('Reshape', [voting, g.int64([1, 1, size.h, size.w])]), direction]);
  };
  const withMargins = (logitGradient: () => string, scores: () => string) => (score === 'logit' ? logitGradient : () => g.op('Add', [logitGradient(), marginGradient(scores())]));
  if (pooling.kind === 'avg') {
    const pooled = g.op('Flatten', [g.op('GlobalAveragePool', [features])]);
    const logits = g.op('Gemm', [pooled, fcW, fcB], { transB: 1 });
    return { logits, gradient: withMargins(() => g.op('Expand', [g.op('Mul', [targetRow(), g.scalar(1 / positions)]), g.op('Shape', [features])]), scoreMap) };
  }
  const scores = scoreMap();
  const k = topkCount(positions, pooling.fraction);
  const top = g.op('TopK', [scores, g.int64([k])], { axis: 2, largest: 1, sorted: 1 }, 2);
  const logits = g.op('ReduceMean', [top], { axes: [2], keepdims: 0 });
  const logitGradient = () => {
    const targetScores = g.op('Gather', [scores, target], { axis: 1 });
    const kth = g.op('ReduceMin', [g.op('Gather', [top, target], { axis: 1 })], { axes: [2], keepdims: 1 });
    const selected = g.op('Cast', [g.op('GreaterOrEqual', [targetScores, kth])], { to: 1 });
    const share = g.op('Div', [selected, g.op('ReduceSum', [selected, g.int64([2])], { keepdims: 1 })]);
    return g.op('Mul', [g.op('Reshape', [share, g.int64([1, 1, size.h, size.w])]), targetRow()]);
  };
  return { logits, gradient: withMargins(logitGradient, () => scores) };
}
