import * as tf from '@tensorflow/tfjs-core';

/** Small enough not to lift an all-zero map, large enough to keep a flat one finite. */
export const NORMALISE_EPS = 1e-7;

/** Bilinear with half-pixel centres: PyTorch's interpolate(mode='bilinear', align_corners=False). */
export function upsample(map: tf.Tensor2D, height: number, width: number): tf.Tensor2D {
  return tf.tidy(() => tf.squeeze(tf.image.resizeBilinear(tf.expandDims(map, -1) as tf.Tensor3D, [height, width], false, true), [2]) as tf.Tensor2D);
}

/** Min-max to [0, 1]; the epsilon keeps an all-zero or constant map at zero instead of NaN. */
export function minMaxNormalise(map: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const lo = tf.min(map);
    return tf.div(tf.sub(map, lo), tf.add(tf.sub(tf.max(map), lo), NORMALISE_EPS)) as tf.Tensor2D;
  });
}

/**
 * The authors' multi-layer fusion: each map scaled by tanh(gamma * M / max M), brought to the
 * image's size, element-wise maximum, then min-max normalised like the single-layer maps.
 */
export function fuse(maps: tf.Tensor2D[], height: number, width: number, gamma: number): tf.Tensor2D {
  return tf.tidy(() => {
    const scaled = maps.map((m) => upsample(tf.tanh(tf.mul(m, tf.div(gamma, tf.add(tf.max(m), NORMALISE_EPS)))) as tf.Tensor2D, height, width));
    return minMaxNormalise(scaled.reduce((acc, m) => tf.maximum(acc, m)) as tf.Tensor2D);
  });
}
