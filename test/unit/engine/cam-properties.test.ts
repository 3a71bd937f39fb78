import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../electron/engine/backend.ts';
import { gradCam } from '../../../electron/engine/cam/gradcam.ts';
import { gradCamPlusPlus } from '../../../electron/engine/cam/gradcampp.ts';
import { layerCam } from '../../../electron/engine/cam/layercam.ts';
import { fuse, minMaxNormalise } from '../../../electron/engine/cam/resize.ts';

beforeAll(async () => {
  await initBackend();
});

const H = 9;
const W = 11;
const C = 5;

describe('CAM formulas', () => {
  it('a LayerCAM map is zero wherever the class gradient is zero', async () => {
    const activations = tf.abs(tf.randomNormal([1, H, W, C], 0, 1, 'float32', 3)) as tf.Tensor4D;
    const rowMask = tf.tensor4d(Array.from({ length: H }, (_, y) => (y < 4 ? 0 : 1)), [1, H, 1, 1]);
    const gradients = tf.mul(tf.randomNormal([1, H, W, C], 0, 1, 'float32', 4), rowMask) as tf.Tensor4D;
    const map = layerCam({ layer: 'layer2', activations, gradients });
    const values = (await map.array()) as number[][];
    for (let y = 0; y < 4; y++) expect(values[y].every((v) => v === 0)).toBe(true);
    expect(values.slice(4).flat().some((v) => v > 0)).toBe(true);
    tf.dispose([activations, rowMask, gradients, map]);
  });

  it('LayerCAM equals Grad-CAM when the gradient is spatially constant and positive', async () => {
    const activations = tf.abs(tf.randomNormal([1, H, W, C], 0, 1, 'float32', 5)) as tf.Tensor4D;
    const perChannel = tf.abs(tf.randomNormal([1, 1, 1, C], 0, 1, 'float32', 6));
    const gradients = tf.tile(perChannel, [1, H, W, 1]) as tf.Tensor4D;
    const a = layerCam({ layer: 'layer3', activations, gradients });
    const b = gradCam({ layer: 'layer3', activations, gradients });
    const diff = tf.max(tf.abs(tf.sub(a, b)));
    expect((await diff.data())[0]).toBeLessThan(1e-5 * (await tf.max(a).data())[0]);
    tf.dispose([activations, perChannel, gradients, a, b, diff]);
  });

  it('Grad-CAM++ ignores positions whose gradient is exactly zero', async () => {
    const activations = tf.ones([1, 2, 2, 1]) as tf.Tensor4D;
    const gradients = tf.tensor4d([0, 0, 0, 0], [1, 2, 2, 1]);
    const map = gradCamPlusPlus({ layer: 'layer4', activations, gradients });
    expect(Array.from(await map.data())).toEqual([0, 0, 0, 0]);
    tf.dispose([activations, gradients, map]);
  });

  it('normalising an all-zero map gives zeros, never NaN', async () => {
    const zero = tf.zeros([4, 4]) as tf.Tensor2D;
    const n = minMaxNormalise(zero);
    const f = fuse([zero, zero], 8, 8, 2);
    expect(Array.from(await n.data()).every((v) => v === 0)).toBe(true);
    expect(Array.from(await f.data()).every((v) => v === 0)).toBe(true);
    tf.dispose([zero, n, f]);
  });
});
