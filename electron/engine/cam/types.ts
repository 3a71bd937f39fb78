import type * as tf from '@tensorflow/tfjs-core';
import type { CamLayer } from '../resnet-spec.ts';

export const CAM_METHODS = ['layercam', 'gradcam', 'gradcampp'] as const;
export type CamMethod = (typeof CAM_METHODS)[number];

/** One stage's activations A and the target score's gradient dy_c/dA, both [1, h, w, C]. */
export interface StageEvidence {
  layer: CamLayer;
  activations: tf.Tensor4D;
  gradients: tf.Tensor4D;
}

/** A CAM method turns a stage's evidence into a non-negative [h, w] map. */
export type CamFormula = (evidence: StageEvidence) => tf.Tensor2D;
