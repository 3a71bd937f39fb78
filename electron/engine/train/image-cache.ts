import * as tf from '@tensorflow/tfjs-core';
import { readImage } from '../../data/image-io.ts';
import { resizeForNetwork } from '../preprocess.ts';
import type { Canvas } from './canvas.ts';

/**
 * Training images decoded and resized once, kept as 16-bit levels: a 224 px grey image costs
 * 100 KB, so a few thousand fit in memory and later epochs never touch the disk.
 */
export class TrainingImageCache {
  private readonly cache = new Map<number, Uint16Array>();

  constructor(
    private readonly paths: readonly string[],
    readonly canvas: Canvas,
    readonly channels: 1 | 3,
  ) {}

  async pixels(index: number): Promise<Float32Array> {
    let levels = this.cache.get(index);
    if (!levels) {
      const path = this.paths[index];
      if (path === undefined) throw new Error(`no training image #${index}`);
      const image = await readImage(path);
      const resized = resizeForNetwork(image, this.channels, this.canvas.height, this.canvas.width);
      const data = (await resized.data()) as Float32Array;
      resized.dispose();
      levels = new Uint16Array(data.length);
      for (let i = 0; i < data.length; i++) levels[i] = Math.round(Math.min(1, Math.max(0, data[i])) * 65535);
      this.cache.set(index, levels);
    }
    const out = new Float32Array(levels.length);
    for (let i = 0; i < levels.length; i++) out[i] = levels[i] / 65535;
    return out;
  }
}

/** Stacks HWC images into a normalised [n, height, width, C] batch. */
export function batchTensor(images: Float32Array[], canvas: Canvas, channels: number, mean: number[], std: number[]): tf.Tensor4D {
  const flat = new Float32Array(images.length * canvas.height * canvas.width * channels);
  images.forEach((img, i) => flat.set(img, i * img.length));
  return tf.tidy(() => tf.div(tf.sub(tf.tensor4d(flat, [images.length, canvas.height, canvas.width, channels]), tf.tensor1d(mean)), tf.tensor1d(std)) as tf.Tensor4D);
}
