import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../electron/engine/backend.ts';
import { registerWasmKernels } from '../../../electron/engine/kernels/register-wasm-kernels.ts';
import { maxRelativeError } from '../helpers/backends.ts';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Shape4 = [number, number, number, number];

/** mulberry32: a seeded generator, so every run compares the same numbers. */
function seededValues(count: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 * 2 - 1;
  }
  return out;
}

interface Operand {
  shape: number[];
  data: Float32Array;
}

function operand(shape: number[], seed: number): Operand {
  return { shape, data: seededValues(shape.reduce((a, b) => a * b, 1), seed) };
}

/** Runs `fn` on a backend with fresh tensors made from the same numbers; returns every output's values. */
async function on(backend: 'wasm' | 'cpu', operands: Operand[], fn: (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await useBackend(backend);
  const outs = tf.tidy(() => {
    const r = fn(...operands.map((o) => tf.tensor(o.data, o.shape)));
    return Array.isArray(r) ? r : [r];
  });
  const values = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  return values;
}

/** The largest error of wasm (with Kizu's kernels) against the cpu backend, relative to the reference's largest value. */
async function wasmVsCpu(operands: Operand[], fn: (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<number> {
  const expected = await on('cpu', operands, fn);
  const actual = await on('wasm', operands, fn);
  expect(actual.length).toBe(expected.length);
  return Math.max(...expected.map((e, i) => maxRelativeError(actual[i], e)));
}

interface ConvCase {
  batch: number;
  height: number;
  width: number;
  inC: number;
  outC: number;
  filter: number;
  stride: number;
  pad: Pad;
}

const convCases: ConvCase[] = [];
{
  const sizes: [number, number][] = [[7, 7], [13, 15], [15, 13]];
  const channels: [number, number][] = [[3, 5], [5, 3], [6, 7]];
  let k = 0;
  for (const filter of [1, 3, 7]) {
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) {
        const [height, width] = sizes[k % 3];
        const [inC, outC] = channels[(k + 1) % 3];
        convCases.push({ batch: k % 2 === 0 ? 1 : 3, height, width, inC, outC, filter, stride, pad });
        k++;
      }
    }
  }
  // torchvision's symmetric pads, uneven explicit pads, and pads wider than the filter reaches.
  convCases.push(
    { batch: 3, height: 14, width: 14, inC: 5, outC: 4, filter: 3, stride: 2, pad: 1 },
    { batch: 1, height: 15, width: 15, inC: 3, outC: 6, filter: 7, stride: 2, pad: 3 },
    { batch: 3, height: 13, width: 7, inC: 4, outC: 3, filter: 3, stride: 2, pad: [[0, 0], [2, 0], [0, 1], [0, 0]] },
    { batch: 1, height: 7, width: 13, inC: 5, outC: 5, filter: 1, stride: 2, pad: 2 },
    { batch: 3, height: 9, width: 9, inC: 3, outC: 4, filter: 3, stride: 1, pad: [[0, 0], [4, 3], [3, 4], [0, 0]] },
  );
}

function describeCase(c: ConvCase): string {
  return `${c.batch}x${c.height}x${c.width}x${c.inC} -> ${c.outC}, ${c.filter}x${c.filter} stride ${c.stride} pad ${JSON.stringify(c.pad)}`;
}

function convOperands(c: ConvCase, seed: number): { x: Operand; filter: Operand; dy: Operand } {
  const xShape: Shape4 = [c.batch, c.height, c.width, c.inC];
  const filterShape: Shape4 = [c.filter, c.filter, c.inC, c.outC];
  const outShape = tf.backend_util.computeConv2DInfo(xShape, filterShape, c.stride, 1, c.pad).outShape;
  return { x: operand(xShape, seed), filter: operand(filterShape, seed + 1), dy: operand(outShape, seed + 2) };
}

const TOLERANCE = 1e-4;

beforeAll(async () => {
  await useBackend('cpu');
  await useBackend('wasm');
});

describe('Conv2DBackpropFilter and Conv2DBackpropInput on wasm match the cpu backend', () => {
  it.each(convCases.map((c, i) => [describeCase(c), c, i] as const))('%s', async (_name, c, i) => {
    const { x, filter, dy } = convOperands(c, 100 + 10 * i);
    const dw = await wasmVsCpu([x, dy], (xt, dyt) => tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy: dyt },
      { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: filter.shape }) as tf.Tensor);
    const dx = await wasmVsCpu([dy, filter], (dyt, ft) => tf.engine().runKernel('Conv2DBackpropInput', { dy: dyt, filter: ft },
      { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: x.shape }) as tf.Tensor);
    expect(dw).toBeLessThanOrEqual(TOLERANCE);
    expect(dx).toBeLessThanOrEqual(TOLERANCE);
  });

  it('dW in groups of images when one stacked-taps matrix would pass its budget', async () => {
    // 33 x 33 taps x 4 channels x 40 x 40 phase pixels per image: two images fit 16 Mi floats, three do not.
    const c: ConvCase = { batch: 3, height: 40, width: 40, inC: 4, outC: 3, filter: 33, stride: 1, pad: 'valid' };
    const { x, filter, dy } = convOperands(c, 71);
    const dw = await wasmVsCpu([x, dy], (xt, dyt) => tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy: dyt },
      { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: filter.shape }) as tf.Tensor);
    expect(dw).toBeLessThanOrEqual(TOLERANCE);
  });

  it('handles NCHW tensors', async () => {
    const [n, ch, h, w, outC] = [3, 5, 13, 11, 4];
    const pad: Pad = [[0, 0], [0, 0], [1, 2], [2, 1]];
    const x = operand([n, ch, h, w], 7);
    const filter = operand([3, 3, ch, outC], 8);
    const outShape = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, 2, 1, pad, undefined, false, 'channelsFirst').outShape;
    const dy = operand(outShape, 9);
    const attrs = { strides: 2, pad, dataFormat: 'NCHW' };
    expect(await wasmVsCpu([x, dy], (xt, dyt) => tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy: dyt },
      { ...attrs, filterShape: filter.shape }) as tf.Tensor)).toBeLessThanOrEqual(TOLERANCE);
    expect(await wasmVsCpu([dy, filter], (dyt, ft) => tf.engine().runKernel('Conv2DBackpropInput', { dy: dyt, filter: ft },
      { ...attrs, inputShape: x.shape }) as tf.Tensor)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('says which shapes disagree when dy does not fit the convolution', async () => {
    await useBackend('wasm');
    const x = tf.zeros([1, 8, 8, 3]);
    const dy = tf.zeros([1, 7, 7, 4]);
    expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
      { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] })).toThrow(/dy has shape \[1, 7, 7, 4\].*gives \[1, 8, 8, 4\]/);
    tf.dispose([x, dy]);
  });
});

describe('gradients through conv ops on wasm match the cpu backend', () => {
  const x = operand([3, 15, 13, 5], 21);
  const filter = operand([3, 3, 5, 6], 22);
  const bias = operand([6], 23);

  it.each([
    [1, 'same'], [2, 'same'], [2, 'valid'], [2, 1],
  ] as const)('tf.grad of conv2d, stride %s pad %s: dx and dW', async (stride, pad) => {
    const out = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, stride, 1, pad).outShape;
    const weights = operand(out, 24);
    const err = await wasmVsCpu([x, filter, weights], (xt, ft, wt) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), wt)))([xt, ft]));
    expect(err).toBeLessThanOrEqual(TOLERANCE);
  });

  it('tf.fused.conv2d with bias and relu: dx, dW and dbias', async () => {
    const out = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, 2, 1, 'same').outShape;
    const weights = operand(out, 25);
    const err = await wasmVsCpu([x, filter, bias, weights], (xt, ft, bt, wt) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(tf.fused.conv2d({
        x: a as tf.Tensor4D, filter: b as tf.Tensor4D, bias: c, strides: 2, pad: 'same', activation: 'relu',
      }), wt)))([xt, ft, bt]));
    expect(err).toBeLessThanOrEqual(TOLERANCE);
  });

  it('batchnorm-style training graph (moments, batchNorm, relu, mean): every parameter gradient', async () => {
    const input = operand([3, 9, 7, 4], 31);
    const w = operand([3, 3, 4, 5], 32);
    const gamma = operand([5], 33);
    const beta = operand([5], 34);
    const err = await wasmVsCpu([input, w, gamma, beta], (xt, wt, g, b) =>
      tf.grads((f: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor) => {
        const y = tf.conv2d(xt as tf.Tensor4D, f as tf.Tensor4D, 1, 'same');
        const m = tf.moments(y, [0, 1, 2]);
        const z = tf.relu(tf.batchNorm(y, m.mean, m.variance, offset, scale, 1e-5));
        return tf.sum(tf.square(tf.mean(z, [1, 2])));
      })([wt, g, b]));
    expect(err).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('Tile, Sum, Mean and MaxPoolGrad on wasm match the cpu backend', () => {
  it.each([
    [[1, 1, 1, 5], [3, 7, 9, 1]],
    [[3, 1, 4], [2, 5, 1]],
    [[2, 3], [1, 1]],
    [[4, 1, 3], [1, 6, 2]],
    [[5], [7]],
  ])('Tile of %j by %j', async (shape, reps) => {
    expect(await wasmVsCpu([operand(shape, 41)], (t) => tf.tile(t, reps))).toBe(0);
  });

  it('Tile of int32 and bool tensors', async () => {
    await useBackend('wasm');
    const ints = tf.tile(tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'), [2, 3]);
    expect(ints.arraySync()).toEqual([
      [1, 2, 1, 2, 1, 2], [3, 4, 3, 4, 3, 4], [1, 2, 1, 2, 1, 2], [3, 4, 3, 4, 3, 4],
    ]);
    const bools = tf.tile(tf.tensor1d([true, false], 'bool'), [3]);
    expect(Array.from(bools.dataSync())).toEqual([1, 0, 1, 0, 1, 0]);
    tf.dispose([ints, bools]);
  });

  it.each([
    [[3, 7, 9, 5], [0, 1, 2], false],
    [[3, 7, 9, 5], [0, 1, 2], true],
    [[3, 7, 9, 5], [1, 2], false],
    [[3, 7, 9, 5], [2, 1], true],
    [[6, 11], [0], false],
    [[3, 7, 9, 5], [3], false],
    [[3, 7, 9, 5], [0, 2], false],
    [[4, 5, 6], [0, 1, 2], false],
  ] as const)('Sum and Mean of %j over %j (keepDims %s)', async (shape, axis, keepDims) => {
    const x = operand([...shape], 51);
    expect(await wasmVsCpu([x], (t) => [tf.sum(t, [...axis], keepDims), tf.mean(t, [...axis], keepDims)])).toBeLessThanOrEqual(1e-5);
  });

  it.each([
    [[3, 15, 13, 5], 3, 2, 1],
    [[1, 14, 14, 3], 3, 2, 'same'],
    [[3, 9, 11, 4], 2, 2, 'valid'],
    [[1, 7, 7, 6], 3, 1, 'same'],
  ] as const)('MaxPoolGrad of %j, window %s stride %s pad %s, ties going to the first maximum', async (shape, size, stride, pad) => {
    // Coarse values after a ReLU: many windows hold equal maxima, often all zeros.
    const x = operand([...shape], 81);
    x.data.forEach((v, i) => { x.data[i] = Math.max(0, Math.round(v * 3) / 3); });
    const out = tf.backend_util.computePool2DInfo(x.shape as Shape4, size, stride, 1, pad).outShape;
    const weights = operand(out, 82);
    const err = await wasmVsCpu([x, weights], (xt, wt) =>
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, size, stride, pad), wt)))(xt));
    // Overlapping windows add in another order (1e-8); a tie sent elsewhere would be ~1.
    expect(err).toBeLessThanOrEqual(1e-6);
  });

  it('Sum of int32 still uses the built-in kernel', async () => {
    await useBackend('wasm');
    const s = tf.sum(tf.tensor3d([[[1, 2]], [[3, 4]]], [2, 1, 2], 'int32'), [0, 1]);
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.dataSync())).toEqual([4, 6]);
    s.dispose();
  });
});

describe('registration', () => {
  it('is idempotent and leaves the cpu backend alone', async () => {
    await useBackend('wasm');
    const names = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Tile', 'Sum', 'Mean', 'MaxPoolGrad'];
    const before = names.map((n) => tf.getKernel(n, 'wasm')?.kernelFunc);
    const cpuBefore = names.map((n) => tf.getKernel(n, 'cpu')?.kernelFunc);
    registerWasmKernels();
    registerWasmKernels();
    expect(names.map((n) => tf.getKernel(n, 'wasm')?.kernelFunc)).toEqual(before);
    expect(names.map((n) => tf.getKernel(n, 'cpu')?.kernelFunc)).toEqual(cpuBefore);
    expect(before.every((f) => f !== undefined)).toBe(true);
  });

  it('leaks no tensors, wasm buffers or heap, and a rejected call allocates nothing', async () => {
    await useBackend('wasm');
    const backend = tf.backend();
    const run = () => tf.tidy(() => {
      const x = tf.tensor(operand([3, 15, 13, 6], 61).data, [3, 15, 13, 6]) as tf.Tensor4D;
      const f = tf.tensor(operand([3, 3, 6, 5], 62).data, [3, 3, 6, 5]) as tf.Tensor4D;
      const f1 = tf.tensor(operand([1, 1, 6, 5], 63).data, [1, 1, 6, 5]) as tf.Tensor4D;
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 1)))([x, f]);
      const [dx1, dw1] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'valid')))([x, f1]);
      const stats = tf.moments(tf.tile(x, [1, 1, 1, 2]), [0, 1, 2]);
      const pooled = tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 3, 2, 1)))(x);
      return tf.stack([tf.sum(dx), tf.sum(dw), tf.sum(dx1), tf.sum(dw1), tf.sum(stats.mean), tf.sum(stats.variance), tf.sum(pooled)]).dataSync();
    });
    const badDy = () => tf.tidy(() => tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.zeros([1, 5, 5, 2]), filter: tf.zeros([3, 3, 2, 2]) },
      { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 6, 6, 2] }));
    run();
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    const heap = (backend as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    for (let i = 0; i < 20; i++) {
      run();
      expect(badDy).toThrow(/Conv2DBackpropInput: dy has shape/);
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(dataIds);
    expect((backend as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length).toBe(heap);
  });
});
