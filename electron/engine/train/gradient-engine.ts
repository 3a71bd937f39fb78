import { parseEngineSetting, type EngineName } from '../engine-setting.ts';
import type { SideHeadLayer } from './side-heads.ts';

/** Which library computes a training micro-batch's gradients. */
export type TrainingEngineName = EngineName;

/** KIZU_TRAIN_ENGINE: onnxruntime or tfjs forces one; unset picks onnxruntime where it loads. */
export function parseTrainingEngine(value: string | undefined): TrainingEngineName | undefined {
  return parseEngineSetting('KIZU_TRAIN_ENGINE', value);
}

/**
 * Dense supervision of the class-score map (fc at every layer4 position) where the truth is
 * known: an OK image is OK everywhere, a pasted synthetic defect is exactly where it was drawn.
 * Images of real defects carry weight 0, their image-level label saying nothing about where,
 * unless a mask of theirs is trained on (--masks) and marks the view.
 */
export interface DenseTargets {
  /** Per image, per layer4 position (row-major): 1 defect, 0 not. [n * positions] */
  targets: Float32Array;
  /** Per image: 1 to supervise its map, 0 not. */
  weights: Float32Array;
  /** Weight of the dense term against the image-level cross-entropy. */
  lossWeight: number;
  /** Weight of defect positions against clean ones: they are few. */
  positiveWeight: number;
  /**
   * Per side head of the layout (side-heads.ts): the same truth on that stage's grid, per
   * image, per position. The side heads' terms carry the same weights.
   */
  sideTargets?: Partial<Record<SideHeadLayer, Float32Array>>;
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
