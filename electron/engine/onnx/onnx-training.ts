import { allConvs } from '../resnet-spec.ts';
import type { ParamLayout } from '../train/param-layout.ts';
import { parseTrainingEngine, type GradientEngine, type MicroBatchGradients, type MicroBatchInput, type TrainingEngineName } from '../train/gradient-engine.ts';
import { SessionCache } from './session-cache.ts';
import { createSession, ensureOpen, loadOnnxRuntime, onnxRuntimeOrTfjs, tracked, type Ort, type OrtSession, type OrtTensor } from './runtime.ts';
import { buildTrainingGraph, gradientOutput, sideTargetsInput, statisticsOutputs, TRAINING_INPUTS, TRAINING_OUTPUTS, type TrainingGraphShape } from './training-graph.ts';

/** Sessions kept: a run meets two micro-batch shapes (pretext crops, whole images) and a short last one. */
const SESSIONS_KEPT = 3;

/**
 * What will compute training's gradients: `requested` (default KIZU_TRAIN_ENGINE), else
 * onnxruntime where it loads, else tfjs, saying why onnxruntime was skipped.
 */
export async function chooseTrainingEngine(
  requested = parseTrainingEngine(process.env.KIZU_TRAIN_ENGINE),
): Promise<{ name: TrainingEngineName; label: string; fallback?: string }> {
  return onnxRuntimeOrTfjs('KIZU_TRAIN_ENGINE', requested);
}

/**
 * A training micro-batch's loss and gradients on onnxruntime's CPU kernels: the graph of
 * buildTrainingGraph, one session per micro-batch shape. The same answers as the tfjs
 * engine's autodiff, several times faster on a CPU.
 */
export class OnnxGradients implements GradientEngine {
  readonly name = 'onnxruntime' as const;
  private readonly sessions = new SessionCache(SESSIONS_KEPT);
  private readonly outputNames: string[];
  /** Every BatchNorm's state_dict prefix, whose batch statistics the graph outputs. */
  private readonly batchNorms: string[];

  private constructor(
    private readonly runtime: Ort,
    private readonly layout: ParamLayout,
    private readonly threads: number,
    private readonly profilePrefix?: string,
  ) {
    this.batchNorms = allConvs(layout.spec).map((c) => c.bn);
    this.outputNames = [
      TRAINING_OUTPUTS.loss, TRAINING_OUTPUTS.logits,
      ...layout.trainable.map((s) => gradientOutput(s.name)),
      ...this.batchNorms.flatMap((bn) => Object.values(statisticsOutputs(bn))),
    ];
  }

  /**
   * `threads`: onnxruntime's intra-op threads; data-parallel workers take one each. With
   * `profilePrefix`, onnxruntime times every node, written out by endProfiling().
   */
  static async create(layout: ParamLayout, threads: number, profilePrefix?: string): Promise<OnnxGradients> {
    return new OnnxGradients(await loadOnnxRuntime(), layout, threads, profilePrefix);
  }

  private session(shape: TrainingGraphShape): Promise<OrtSession> {
    const key = JSON.stringify(shape);
    return this.sessions.get(key, () => createSession(buildTrainingGraph(this.layout, shape), this.threads, this.profilePrefix));
  }

  async compute(params: Float32Array, input: MicroBatchInput): Promise<MicroBatchGradients> {
    const { layout, runtime } = this;
    const { n, height, width, channels, labels, dense } = input;
    const classes = layout.spec.config.numClasses;
    const session = await this.session({ batch: n, height, width, dense: dense ? { lossWeight: dense.lossWeight, positiveWeight: dense.positiveWeight } : null });
    const onehot = new Float32Array(n * classes);
    labels.forEach((label, i) => (onehot[i * classes + label] = 1));
    const feeds: Record<string, OrtTensor> = {
      [TRAINING_INPUTS.image]: new runtime.Tensor('float32', planar(input.pixels, n, height * width, channels), [n, channels, height, width]),
      [TRAINING_INPUTS.onehot]: new runtime.Tensor('float32', onehot, [n, classes]),
      [TRAINING_INPUTS.scale]: new runtime.Tensor('float32', Float32Array.of(1 / input.stepSize), [1]),
    };
    if (dense) {
      feeds[TRAINING_INPUTS.denseTargets] = new runtime.Tensor('float32', dense.targets, [n, dense.targets.length / n]);
      feeds[TRAINING_INPUTS.denseWeights] = new runtime.Tensor('float32', dense.weights, [n]);
    }
    for (const layer of layout.sideHeads) {
      const targets = dense?.sideTargets?.[layer];
      if (!targets) throw new Error(`the layout has a side head at ${layer} but the micro-batch has no dense targets for it`);
      feeds[sideTargetsInput(layer)] = new runtime.Tensor('float32', targets, [n, targets.length / n]);
    }
    for (const slot of layout.trainable) feeds[slot.name] = new runtime.Tensor('float32', params.slice(slot.offset, slot.offset + slot.size), slot.shape);
    ensureOpen();
    const out = await tracked(session.run(feeds, this.outputNames));
    try {
      const values = (name: string) => out[name].data as Float32Array;
      const logits = values(TRAINING_OUTPUTS.logits);
      let correct = 0;
      for (let i = 0; i < n; i++) {
        const row = Array.from(logits.subarray(i * classes, (i + 1) * classes));
        if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
      }
      return {
        lossSum: values(TRAINING_OUTPUTS.loss)[0] * input.stepSize,
        correct,
        grads: layout.trainable.map((s) => values(gradientOutput(s.name))),
        stats: new Map(this.batchNorms.map((bn) => {
          const names = statisticsOutputs(bn);
          return [bn, { mean: values(names.mean), variance: values(names.variance) }];
        })),
      };
    } finally {
      for (const value of Object.values(out)) value.dispose();
    }
  }

  /** Writes each session's node timings to `<profilePrefix>_<time>.json`. */
  async endProfiling(): Promise<void> {
    for (const session of this.sessions.held()) (await session).endProfiling();
  }

  dispose(): void {
    this.sessions.dispose();
  }
}

/** NHWC pixels as NCHW; one channel is the same bytes. */
function planar(pixels: Float32Array, n: number, positions: number, channels: number): Float32Array {
  if (channels === 1) return pixels;
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < positions; p++) {
      for (let c = 0; c < channels; c++) out[(i * channels + c) * positions + p] = pixels[(i * positions + p) * channels + c];
    }
  }
  return out;
}
