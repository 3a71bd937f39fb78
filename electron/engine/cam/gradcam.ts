import * as tf from '@tensorflow/tfjs-core';
import type { CamFormula } from './types.ts';

/** Grad-CAM (Selvaraju et al. 2017): one weight per channel, the gradient's spatial mean. */
export const gradCam: CamFormula = ({ activations, gradients }) =>
  tf.tidy(() => {
    const weights = tf.mean(gradients, [1, 2], true);
    return tf.relu(tf.squeeze(tf.sum(tf.mul(weights, activations), -1), [0])) as tf.Tensor2D;
  });
