import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { registerWasmKernels, replacedWasmKernel } from '../engine/kernels/register-wasm-kernels.ts';
import { median } from './timing.ts';

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: 'same' | 'valid' | number;
}

/** ResNet50 (v1.5) convs whose gradients dominate a backward pass. */
function convCases(batch: number): ConvCase[] {
  return [
    { name: 'conv1x1_56x56x256_to_64', x: [batch, 56, 56, 256], filter: [1, 1, 256, 64], stride: 1, pad: 0 },
    { name: 'conv1x1_s2_56x56x256_to_512', x: [batch, 56, 56, 256], filter: [1, 1, 256, 512], stride: 2, pad: 0 },
    { name: 'conv3x3_28x28x128', x: [batch, 28, 28, 128], filter: [3, 3, 128, 128], stride: 1, pad: 1 },
    { name: 'conv3x3_s2_56x56x128_to_28x28', x: [batch, 56, 56, 128], filter: [3, 3, 128, 128], stride: 2, pad: 1 },
    { name: 'conv3x3_14x14x256', x: [batch, 14, 14, 256], filter: [3, 3, 256, 256], stride: 1, pad: 1 },
  ];
}

function wasmKernel(name: string): KernelFunc {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`the wasm backend has no ${name} kernel`);
  return kernel.kernelFunc;
}

/**
 * Median CPU ms of this process calling a kernel function straight on the backend (output
 * freed each time). wasm runs on one thread, so CPU time is the kernel's time even when
 * other jobs share the machine and stretch the wall clock.
 */
function timeKernel(fn: KernelFunc, inputs: NamedTensorInfoMap, attrs: NamedAttrMap, runs: number): number {
  const backend = tf.backend();
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const start = process.cpuUsage();
    const out = fn({ inputs, backend, attrs }) as TensorInfo;
    const used = process.cpuUsage(start);
    backend.disposeData(out.dataId);
    if (i > 0) times.push((used.user + used.system) / 1000);
  }
  return median(times);
}

function benchConv(c: ConvCase, runs: number, out: Record<string, number>): void {
  const x = tf.randomNormal(c.x, 0, 1, 'float32', 1);
  const filter = tf.randomNormal(c.filter, 0, 0.1, 'float32', 2);
  const y = tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, c.stride, c.pad);
  const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 3);
  const common = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' } as const;
  out[`${c.name}_conv2d_ms`] = timeKernel(wasmKernel('Conv2D'), { x, filter }, { ...common, dilations: 1 }, runs);
  const dxAttrs = { ...common, inputShape: c.x };
  const builtin = replacedWasmKernel('Conv2DBackpropInput');
  if (builtin !== undefined) out[`${c.name}_dx_builtin_ms`] = timeKernel(builtin, { dy, filter }, dxAttrs, runs);
  out[`${c.name}_dx_kizu_ms`] = timeKernel(wasmKernel('Conv2DBackpropInput'), { dy, filter }, dxAttrs, runs);
  out[`${c.name}_dw_kizu_ms`] = timeKernel(wasmKernel('Conv2DBackpropFilter'), { x, dy }, { ...common, filterShape: c.filter }, runs);
  tf.dispose([x, filter, y, dy]);
}

/**
 * The other kernels Kizu replaces, on ResNet50 stem/layer1 sizes at 224 px: batchnorm
 * gradients' per-channel sums and tiling, and the stem max pool's gradient.
 */
function benchOtherKernels(batch: number, runs: number, out: Record<string, number>): void {
  const act = tf.randomNormal([batch, 56, 56, 256], 0, 1, 'float32', 4);
  const perChannel = tf.randomNormal([1, 1, 1, 256], 0, 1, 'float32', 5);
  const stem = tf.relu(tf.randomNormal([batch, 112, 112, 64], 0, 1, 'float32', 6));
  const pooled = tf.maxPool(stem as tf.Tensor4D, 3, 2, 1);
  const poolDy = tf.randomNormal(pooled.shape, 0, 1, 'float32', 7);
  const sum = { axis: [0, 1, 2], keepDims: false };
  const cases: [string, string, NamedTensorInfoMap, NamedAttrMap][] = [
    ['sum_over_nhw_56x56x256', 'Sum', { x: act }, sum],
    ['mean_over_nhw_56x56x256', 'Mean', { x: act }, sum],
    ['tile_channels_to_56x56x256', 'Tile', { x: perChannel }, { reps: [batch, 56, 56, 1] }],
    ['max_pool_grad_112x112x64', 'MaxPoolGrad', { dy: poolDy, input: stem, output: pooled }, { filterSize: 3, strides: 2, pad: 1 }],
  ];
  for (const [name, kernel, inputs, attrs] of cases) {
    const builtin = replacedWasmKernel(kernel);
    if (builtin !== undefined) out[`${name}_builtin_ms`] = timeKernel(builtin, inputs, attrs, runs);
    out[`${name}_kizu_ms`] = timeKernel(wasmKernel(kernel), inputs, attrs, runs);
  }
  tf.dispose([act, perChannel, stem, pooled, poolDy]);
}

/**
 * Times the wasm backend's own kernels against Kizu's replacements on ResNet50-like
 * shapes: median CPU ms of `runs` calls after one warm-up. `<conv>_conv2d_ms` is the
 * forward conv with its filter already packed, for scale (the backward kernels pack a
 * new filter each call, as training's changing weights make the forward do too). Runs
 * on wasm whatever the current backend, and switches back afterwards.
 */
export async function benchKernels(runs = 3, batch = 1): Promise<Record<string, number>> {
  const previous = tf.getBackend();
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
  registerWasmKernels();
  const out: Record<string, number> = { batch };
  try {
    for (const c of convCases(batch)) benchConv(c, runs, out);
    benchOtherKernels(batch, runs, out);
  } finally {
    if (previous && previous !== 'wasm') await tf.setBackend(previous);
  }
  return out;
}
