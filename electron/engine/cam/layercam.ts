import * as tf from '@tensorflow/tfjs-core';
import type { CamFormula } from './types.ts';

/** LayerCAM (Jiang et al. 2021): a weight per position, M = ReLU(sum_k ReLU(g_k) * A_k). */
export const layerCam: CamFormula = ({ activations, gradients }) =>
  tf.tidy(() => tf.relu(tf.squeeze(tf.sum(tf.mul(tf.relu(gradients), activations), -1), [0])) as tf.Tensor2D);
