import { Sum } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelFunc, SumAttrs } from '@tensorflow/tfjs-core';
import { axisBlock, reduceAxisBlock } from './axis-block-reduction.ts';
import { kernelInput } from './wasm-kernel-scope.ts';

/** Sum over non-trailing axes (batchnorm's per-channel gradients) without wasm's transpose. */
export function sumKernel(builtin: KernelFunc): KernelFunc {
  return (args) => {
    const x = kernelInput(args.inputs, 'x', Sum);
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const block = x.dtype === 'float32' ? axisBlock(axis, x.shape) : undefined;
    if (block === undefined) return builtin(args);
    return reduceAxisBlock(args.backend as BackendWasm, x, block, 1, keepDims);
  };
}
