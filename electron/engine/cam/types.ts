import type * as tf from '@tensorflow/tfjs-core';
import type { CamLayer } from '../resnet-spec.ts';

export const CAM_METHODS = ['layercam', 'gradcam', 'gradcampp'] as const;
export type CamMethod = (typeof CAM_METHODS)[number];

/**
 * The score y_c whose gradient the CAM formulas take. 'logit': the target class's logit, as the
 * LayerCAM paper and pytorch-grad-cam's ClassifierOutputTarget; under a top-k head its gradient
 * reaches only the k positions the pooling chose. 'logit-and-position-margins': that logit plus
 * the class-score map's margin of the target class over the strongest other class, summed over
 * every position where it is positive: every place that votes for the class, and on an image
 * where none does, the logit's map.
 */
export const CAM_SCORES = ['logit', 'logit-and-position-margins'] as const;
export type CamScore = (typeof CAM_SCORES)[number];

/** One stage's activations A and the target score's gradient dy_c/dA, both [1, h, w, C]. */
export interface StageEvidence {
  layer: CamLayer;
  activations: tf.Tensor4D;
  gradients: tf.Tensor4D;
}

/** A CAM method turns a stage's evidence into a non-negative [h, w] map. */
export type CamFormula = (evidence: StageEvidence) => tf.Tensor2D;
