import * as tf from '@tensorflow/tfjs-core';
import type { CamFormula } from './types.ts';

/** pytorch-grad-cam's constant, kept so maps agree with the reference library. */
const EPS = 1e-6;

/**
 * Grad-CAM++ (Chattopadhay et al. 2018) with the closed-form alpha of an exponential score,
 * alpha = g^2 / (2 g^2 + sum(A) g^3), as pytorch-grad-cam computes it.
 */
export const gradCamPlusPlus: CamFormula = ({ activations, gradients }) =>
  tf.tidy(() => {
    const g2 = tf.square(gradients);
    const g3 = tf.mul(g2, gradients);
    const sumA = tf.sum(activations, [1, 2], true);
    const alpha = tf.div(g2, tf.add(tf.add(tf.mul(g2, 2), tf.mul(sumA, g3)), EPS));
    const alphaWhereGrad = tf.where(tf.notEqual(gradients, 0), alpha, tf.zerosLike(alpha));
    const weights = tf.sum(tf.mul(tf.relu(gradients), alphaWhereGrad), [1, 2], true);
    return tf.relu(tf.squeeze(tf.sum(tf.mul(weights, activations), -1), [0])) as tf.Tensor2D;
  });
