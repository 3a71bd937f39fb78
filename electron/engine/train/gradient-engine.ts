import { parseEngineSetting, type EngineName } from '../engine-setting.ts';
import type { DenseTargets } from './grad-step.ts';

/** Which library computes a training micro-batch's gradients. */
export type TrainingEngineName = EngineName;

/** KIZU_TRAIN_ENGINE: onnxruntime or tfjs forces one; unset picks onnxruntime where it loads. */
export function parseTrainingEngine(value: string | undefined): TrainingEngineName | undefined {
  return parseEngineSetting('KIZU_TRAIN_ENGINE', value);
}

/** One micro-batch, normalised, as the engines take it. */
export interface MicroBatchInput {
  /** NHWC [n, height, width, channels]. */
  pixels: Float32Array;
  n: number;
  height: number;
  width: number;
  channels: number;
  /** Class index per image. */
  labels: Int32Array;
  /** Images in the whole step: the micro-batch's gradients are its share of the step's mean. */
  stepSize: number;
  dense?: DenseTargets;
}

export interface MicroBatchGradients {
  /** Sum over the micro-batch of the per-image loss. */
  lossSum: number;
  correct: number;
  /** Per trainable parameter, in ParamLayout.trainable's order and the buffer's layout. */
  grads: Float32Array[];
  /** Per BatchNorm prefix: the batch mean and unbiased variance. */
  stats: Map<string, { mean: Float32Array; variance: Float32Array }>;
}

/** Computes a micro-batch's loss, gradients and BatchNorm statistics for the weights in `params`. */
export interface GradientEngine {
  readonly name: TrainingEngineName;
  compute(params: Float32Array, input: MicroBatchInput): Promise<MicroBatchGradients>;
  dispose(): void;
}
