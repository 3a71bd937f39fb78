import * as tf from '@tensorflow/tfjs-core';
import type { RasterImage } from '../data/image-io.ts';
import type { Manifest } from './manifest.ts';

/** The network's input size for an image under the manifest's policy. */
export function networkInputSize(policy: Manifest['inputSize'], height: number, width: number): [number, number] {
  if (policy.policy === 'fixed') return [policy.height, policy.width];
  const scale = Math.min(1, policy.maxSide / Math.max(height, width));
  return [Math.max(32, Math.round(height * scale)), Math.max(32, Math.round(width * scale))];
}

/**
 * Image pixels in [0, 1] -> a [h, w, C] tensor still in [0, 1]: grey replicated for a colour
 * model, Rec. 601 luma for a grey one, bilinear resize with half-pixel centres. Training
 * caches this; inference normalises it straight away: both see the same pixels.
 */
export function resizeForNetwork(image: RasterImage, channels: 1 | 3, height: number, width: number): tf.Tensor3D {
  return tf.tidy(() => {
    let x = tf.tensor3d(image.data, [image.height, image.width, image.channels]);
    if (image.channels === 1 && channels === 3) x = tf.tile(x, [1, 1, 3]);
    if (image.channels === 3 && channels === 1) x = tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), -1, true);
    if (height !== image.height || width !== image.width) x = tf.image.resizeBilinear(x, [height, width], false, true);
    return x;
  });
}

/** (x - mean) / std per channel, for any [..., C] tensor. */
export function normalise<T extends tf.Tensor>(x: T, mean: number[], std: number[]): T {
  return tf.tidy(() => tf.div(tf.sub(x, tf.tensor1d(mean)), tf.tensor1d(std)) as T);
}

/** The normalised [1, h, w, C] tensor the network expects for one image. */
export function toInputTensor(image: RasterImage, manifest: Manifest): tf.Tensor4D {
  const [h, w] = networkInputSize(manifest.inputSize, image.height, image.width);
  return tf.tidy(() => {
    const x = resizeForNetwork(image, manifest.inputChannels, h, w);
    return tf.expandDims(normalise(x, manifest.normalization.mean, manifest.normalization.std), 0) as tf.Tensor4D;
  });
}
