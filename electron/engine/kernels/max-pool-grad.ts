import { backend_util, MaxPoolGrad } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelFunc, MaxPoolGradAttrs } from '@tensorflow/tfjs-core';
import { kernelInput } from './wasm-kernel-scope.ts';

type Shape4 = [number, number, number, number];

/**
 * Routes each dy pixel to the first strictly largest input of its window (the cpu
 * backend's rule, which decides ties such as a window of ReLU zeros), channel by channel
 * in one sweep over the window. wasm's own MaxPoolGrad took ~100x its forward pass
 * (375 ms for ResNet50's stem pool at batch 8 and 224 px).
 */
export function maxPoolGradKernel(builtin: KernelFunc): KernelFunc {
  return (args) => {
    const dy = kernelInput(args.inputs, 'dy', MaxPoolGrad);
    const x = kernelInput(args.inputs, 'input', MaxPoolGrad);
    if (x.dtype !== 'float32' || dy.dtype !== 'float32') return builtin(args);
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
    const info = backend_util.computePool2DInfo(x.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
    if (dy.shape.some((d, i) => d !== info.outShape[i])) {
      throw new Error(`MaxPoolGrad: dy has shape [${dy.shape.join(', ')}] but pooling [${x.shape.join(', ')}] gives [${info.outShape.join(', ')}]`);
    }
    const backend = args.backend as BackendWasm;
    const out = backend.makeOutput(x.shape, 'float32');
    const dx = backend.typedArrayFromHeap(out) as Float32Array;
    const xs = backend.typedArrayFromHeap(x) as Float32Array;
    const dys = backend.typedArrayFromHeap(dy) as Float32Array;
    dx.fill(0);
    const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
    const best = new Float32Array(channels);
    const where = new Int32Array(channels);
    let dyAt = 0;
    for (let n = 0; n < batchSize; n++) {
      const image = n * inHeight * inWidth * channels;
      for (let oh = 0; oh < outHeight; oh++) {
        const top = oh * strideHeight - info.padInfo.top;
        const rowFirst = Math.max(0, top);
        const rowEnd = Math.min(inHeight, top + filterHeight);
        for (let ow = 0; ow < outWidth; ow++) {
          const left = ow * strideWidth - info.padInfo.left;
          const colFirst = Math.max(0, left);
          const colEnd = Math.min(inWidth, left + filterWidth);
          best.fill(Number.NEGATIVE_INFINITY);
          where.fill(-1);
          for (let r = rowFirst; r < rowEnd; r++) {
            for (let c = colFirst; c < colEnd; c++) {
              const pixel = image + (r * inWidth + c) * channels;
              for (let ch = 0; ch < channels; ch++) {
                const v = xs[pixel + ch];
                if (v > best[ch]) {
                  best[ch] = v;
                  where[ch] = pixel + ch;
                }
              }
            }
          }
          for (let ch = 0; ch < channels; ch++, dyAt++) {
            if (where[ch] >= 0) dx[where[ch]] += dys[dyAt];
          }
        }
      }
    }
    return out;
  };
}
