import * as tf from '@tensorflow/tfjs-core';
import { BN_EPS } from './resnet-spec.ts';

type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];

export interface BatchStatistics {
  mean: tf.Tensor1D;
  /** Unbiased, as PyTorch keeps in running_var. */
  variance: tf.Tensor1D;
}

/**
 * Training-mode BatchNorm (+ optional ReLU) over NHWC with the closed-form backward pass,
 *   dx = gamma * invstd / N * (N dy - sum(dy) - xhat * sum(dy * xhat)),
 * instead of differentiating through moments op by op: on wasm that cut the step's
 * BatchNorm share by about half. The batch statistics go to `onStats` for the running averages.
 */
export function batchNormTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  relu: boolean,
  onStats: (stats: BatchStatistics) => void,
): tf.Tensor4D {
  const f = ((input: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const { mean, variance } = tf.moments(input, [0, 1, 2]);
    const n = input.shape[0] * input.shape[1] * input.shape[2];
    onStats({ mean: tf.keep(tf.clone(mean)) as tf.Tensor1D, variance: tf.keep(tf.mul(variance, n / Math.max(n - 1, 1))) as tf.Tensor1D });
    const invstd = tf.rsqrt(tf.add(variance, BN_EPS));
    const xhat = tf.mul(tf.sub(input, mean), invstd);
    const normalised = tf.add(tf.mul(xhat, g), b);
    const y = relu ? tf.relu(normalised) : normalised;
    save([xhat, invstd, g, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, [xh, inv, gm, out]: tf.Tensor[]) => {
        const d = relu ? tf.mul(dy, tf.step(out)) : dy;
        const dBeta = tf.sum(d, [0, 1, 2]);
        const dGamma = tf.sum(tf.mul(d, xh), [0, 1, 2]);
        const dx = tf.mul(tf.div(tf.mul(gm, inv), n), tf.sub(tf.sub(tf.mul(d, n), dBeta), tf.mul(xh, dGamma)));
        return [dx, dGamma, dBeta];
      },
    };
  }) as unknown as CustomGradientFunc;
  return tf.customGrad(f)(x, gamma, beta) as tf.Tensor4D;
}
