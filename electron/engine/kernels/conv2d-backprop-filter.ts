import { Conv2DBackpropFilter } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Conv2DBackpropFilterAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { convBackpropGeometry, type ConvBackpropGeometry } from './conv-backprop-geometry.ts';
import { stackedTapsFilterGradient } from './stacked-taps-filter-gradient.ts';
import { gatherPixels } from './strided-copy.ts';
import { kernelInput, WasmKernelScope } from './wasm-kernel-scope.ts';

type Shape4 = [number, number, number, number];

/**
 * dW of a 1x1 conv is x^T dy over all pixels. wasm's matMul is only fast without
 * transpose flags, so one operand is transposed explicitly: the one with more channels,
 * because the product runs ~2x faster with many rows than with few (measured on
 * 8192 pixels, 64 <-> 256 channels), which outweighs transposing the larger tensor.
 */
function pointwiseFilterGradient(scope: WasmKernelScope, x: TensorInfo, dy: TensorInfo, g: ConvBackpropGeometry): TensorInfo {
  const readsAllPixels = g.strideHeight === 1 && g.strideWidth === 1 && g.padTop === 0 && g.padLeft === 0 &&
    g.outHeight === g.inHeight && g.outWidth === g.inWidth;
  const xRead = readsAllPixels ? x : gatherPixels(scope, x, g.outHeight, g.outWidth, {
    strideHeight: g.strideHeight, strideWidth: g.strideWidth, offsetHeight: -g.padTop, offsetWidth: -g.padLeft,
  });
  const pixels = g.batch * g.outHeight * g.outWidth;
  const x2 = scope.reshape(xRead, [1, pixels, g.inChannels]);
  const dy2 = scope.reshape(dy, [1, pixels, g.outChannels]);
  const noFlags = { transposeA: false, transposeB: false };
  if (g.inChannels >= g.outChannels) {
    const dw = scope.run('BatchMatMul', { a: scope.transpose(x2, [0, 2, 1]), b: dy2 }, noFlags);
    return scope.reshape(dw, [1, 1, g.inChannels, g.outChannels]);
  }
  const dwT = scope.run('BatchMatMul', { a: scope.transpose(dy2, [0, 2, 1]), b: x2 }, noFlags);
  return scope.reshape(scope.transpose(dwT, [0, 2, 1]), [1, 1, g.inChannels, g.outChannels]);
}

/** The wasm backend has no Conv2DBackpropFilter; training (and fused conv gradients) need it. */
export const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = kernelInput(inputs, 'x', Conv2DBackpropFilter);
  const dy = kernelInput(inputs, 'dy', Conv2DBackpropFilter);
  const a = attrs as unknown as Conv2DBackpropFilterAttrs;
  const g = convBackpropGeometry(Conv2DBackpropFilter, x.shape as Shape4, a.filterShape, dy.shape, a);
  return WasmKernelScope.use(backend as BackendWasm, (scope) => {
    const xNhwc = g.channelsFirst ? scope.transpose(x, [0, 2, 3, 1]) : x;
    const dyNhwc = g.channelsFirst ? scope.transpose(dy, [0, 2, 3, 1]) : dy;
    const pointwise = g.filterHeight === 1 && g.filterWidth === 1;
    return pointwise
      ? pointwiseFilterGradient(scope, xNhwc, dyNhwc, g)
      : stackedTapsFilterGradient(scope, xNhwc, dyNhwc, g);
  });
};
