import { Conv2DBackpropInput } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Conv2DBackpropInputAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { convBackpropGeometry, type ConvBackpropGeometry } from './conv-backprop-geometry.ts';
import { scatterPixels } from './strided-copy.ts';
import { kernelInput, WasmKernelScope } from './wasm-kernel-scope.ts';

type Shape4 = [number, number, number, number];

/**
 * dx of a 1x1 conv: a 1x1 conv of dy with the transposed filter, then its pixels put
 * back where the strided forward conv read them (zeros elsewhere).
 */
function pointwiseInputGradient(scope: WasmKernelScope, dy: TensorInfo, filter: TensorInfo, g: ConvBackpropGeometry): TensorInfo {
  const filterT = scope.reshape(scope.transpose(filter, [0, 1, 3, 2]), [1, 1, g.outChannels, g.inChannels]);
  const dxAtOutputs = scope.run('Conv2D', { x: dy, filter: filterT },
    { strides: 1, dilations: 1, pad: 'valid', dataFormat: 'NHWC' });
  const covers = g.strideHeight === 1 && g.strideWidth === 1 && g.padTop === 0 && g.padLeft === 0 &&
    g.outHeight === g.inHeight && g.outWidth === g.inWidth;
  if (covers) return dxAtOutputs;
  return scatterPixels(scope, dxAtOutputs, g.inHeight, g.inWidth, {
    strideHeight: g.strideHeight, strideWidth: g.strideWidth, offsetHeight: -g.padTop, offsetWidth: -g.padLeft,
  });
}

/**
 * Reverses a filter's rows and columns. Each (row, column) holds a contiguous in x out
 * block, so this is fh * fw block copies; wasm's Reverse took ~90 ms on a 3x3x512x512 filter.
 */
function flipFilterSpatially(scope: WasmKernelScope, filter: TensorInfo): TensorInfo {
  const [fh, fw, inC, outC] = filter.shape;
  const block = inC * outC;
  const out = scope.allocate(filter.shape);
  const src = scope.heap(filter);
  const dst = scope.heap(out);
  for (let tap = 0; tap < fh * fw; tap++) {
    const from = (fh * fw - 1 - tap) * block;
    dst.set(src.subarray(from, from + block), tap * block);
  }
  return out;
}

/**
 * dx as a stride-1 conv of dy with the filter flipped in space and transposed in/out:
 * dy is spread out by the stride (zero insertion) and padded by filter - 1 - pad, so
 * each output pixel gathers exactly the dy pixels whose windows covered it.
 */
function spatialInputGradient(scope: WasmKernelScope, dy: TensorInfo, filter: TensorInfo, g: ConvBackpropGeometry): TensorInfo {
  const flipped = flipFilterSpatially(scope, scope.transpose(filter, [0, 1, 3, 2]));
  const padTop = g.filterHeight - 1 - g.padTop;
  const padLeft = g.filterWidth - 1 - g.padLeft;
  const paddedH = g.inHeight + g.filterHeight - 1;
  const paddedW = g.inWidth + g.filterWidth - 1;
  const spreadH = (g.outHeight - 1) * g.strideHeight + 1;
  const spreadW = (g.outWidth - 1) * g.strideWidth + 1;
  const padBottom = paddedH - spreadH - padTop;
  const padRight = paddedW - spreadW - padLeft;
  const strided = g.strideHeight > 1 || g.strideWidth > 1;
  if (!strided && Math.min(padTop, padLeft, padBottom, padRight) >= 0) {
    return scope.run('Conv2D', { x: dy, filter: flipped },
      { strides: 1, dilations: 1, pad: [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]], dataFormat: 'NHWC' });
  }
  const spread = scatterPixels(scope, dy, paddedH, paddedW, {
    strideHeight: g.strideHeight, strideWidth: g.strideWidth, offsetHeight: padTop, offsetWidth: padLeft,
  });
  return scope.run('Conv2D', { x: spread, filter: flipped },
    { strides: 1, dilations: 1, pad: 'valid', dataFormat: 'NHWC' });
}

/**
 * Replaces the wasm backend's Conv2DBackpropInput, a direct loop several times slower
 * than the XNNPACK convolution this is built on.
 */
export const conv2DBackpropInputWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const dy = kernelInput(inputs, 'dy', Conv2DBackpropInput);
  const filter = kernelInput(inputs, 'filter', Conv2DBackpropInput);
  const a = attrs as unknown as Conv2DBackpropInputAttrs;
  const g = convBackpropGeometry(Conv2DBackpropInput, a.inputShape, filter.shape as Shape4, dy.shape, a);
  return WasmKernelScope.use(backend as BackendWasm, (scope) => {
    const dyNhwc = g.channelsFirst ? scope.transpose(dy, [0, 2, 3, 1]) : dy;
    const pointwise = g.filterHeight === 1 && g.filterWidth === 1;
    const dx = pointwise
      ? pointwiseInputGradient(scope, dyNhwc, filter, g)
      : spatialInputGradient(scope, dyNhwc, filter, g);
    return g.channelsFirst ? scope.transpose(dx, [0, 3, 1, 2]) : dx;
  });
};
