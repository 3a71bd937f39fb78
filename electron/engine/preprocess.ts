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
 * Image pixels in [0, 1] -> the normalised [1, h, w, C] tensor the network expects: grey
 * replicated for a colour model, Rec. 601 luma for a grey one, bilinear resize with
 * half-pixel centres, then (x - mean) / std per channel.
 */
export function toInputTensor(image: RasterImage, manifest: Manifest): tf.Tensor4D {
  const [h, w] = networkInputSize(manifest.inputSize, image.height, image.width);
  return tf.tidy(() => {
    let x = tf.tensor3d(image.data, [image.height, image.width, image.channels]);
    if (image.channels === 1 && manifest.inputChannels === 3) x = tf.tile(x, [1, 1, 3]);
    if (image.channels === 3 && manifest.inputChannels === 1) x = tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), -1, true);
    if (h !== image.height || w !== image.width) x = tf.image.resizeBilinear(x, [h, w], false, true);
    const { mean, std } = manifest.normalization;
    return tf.expandDims(tf.div(tf.sub(x, tf.tensor1d(mean)), tf.tensor1d(std)), 0) as tf.Tensor4D;
  });
}
