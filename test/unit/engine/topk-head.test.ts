import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../../electron/engine/backend.ts';
import { Rng } from '../../../electron/data/synth/rng.ts';
import { runHead, topkCount } from '../../../electron/engine/resnet50.ts';
import { backendsUnderTest } from '../helpers/backends.ts';

const backends = await backendsUnderTest();
const [N, H, W, C, K] = [2, 3, 3, 4, 2];
const rng = new Rng(3);
const random = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
const features = random(N * H * W * C);
const weight = random(C * K);
const bias = random(K);

/** The class-score map and its top-k mean, written out loop by loop. */
function reference(fraction: number): { logits: number[][]; grad: Float32Array } {
  const k = topkCount(H * W, fraction);
  const logits: number[][] = [];
  const grad = new Float32Array(features.length);
  for (let n = 0; n < N; n++) {
    logits.push([]);
    for (let c = 0; c < K; c++) {
      const scores = Array.from({ length: H * W }, (_, p) => {
        let s = bias[c];
        for (let i = 0; i < C; i++) s += features[(n * H * W + p) * C + i] * weight[i * K + c];
        return { p, s };
      }).sort((a, b) => b.s - a.s);
      const top = scores.slice(0, k);
      logits[n].push(top.reduce((a, t) => a + t.s, 0) / k);
      // d(sum of logits)/d(features): each top position passes on W[:, c] / k.
      for (const t of top) for (let i = 0; i < C; i++) grad[(n * H * W + t.p) * C + i] += weight[i * K + c] / k;
    }
  }
  return { logits, grad };
}

describe.each(backends)('the top-k head on %s', (backend) => {
  it.each([0.25, 1 / 16, 1])('gives the mean of the top scores and its gradient (fraction %s)', async (fraction) => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const want = reference(fraction);
    const x = tf.tensor4d(features, [N, H, W, C]);
    const w = tf.tensor2d(weight, [C, K]);
    const b = tf.tensor1d(bias);
    const pooling = { kind: 'topk', fraction } as const;
    const logits = tf.tidy(() => runHead(x, w, b, pooling));
    const got = (await logits.array()) as number[][];
    got.forEach((row, n) => row.forEach((v, c) => expect(v).toBeCloseTo(want.logits[n][c], 5)));
    const grad = tf.tidy(() => tf.grad((f: tf.Tensor) => tf.sum(runHead(f as tf.Tensor4D, w, b, pooling)))(x));
    const g = (await grad.data()) as Float32Array;
    g.forEach((v, i) => expect(v).toBeCloseTo(want.grad[i], 5));
    tf.dispose([x, w, b, logits, grad]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('equals average pooling when it keeps every position', async () => {
    await useBackend(backend);
    const x = tf.tensor4d(features, [N, H, W, C]);
    const w = tf.tensor2d(weight, [C, K]);
    const b = tf.tensor1d(bias);
    const topAll = tf.tidy(() => runHead(x, w, b, { kind: 'topk', fraction: 1 }));
    const mean = tf.tidy(() => runHead(x, w, b));
    const all = (await topAll.array()) as number[][];
    const avg = (await mean.array()) as number[][];
    all.forEach((row, n) => row.forEach((v, c) => expect(v).toBeCloseTo(avg[n][c], 5)));
    tf.dispose([x, w, b, topAll, mean]);
  });
});
