import { Mean } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelFunc, MeanAttrs } from '@tensorflow/tfjs-core';
import { axisBlock, reduceAxisBlock } from './axis-block-reduction.ts';
import { kernelInput } from './wasm-kernel-scope.ts';

/** Mean over non-trailing axes (batch statistics, global pooling) without wasm's transpose. */
export function meanKernel(builtin: KernelFunc): KernelFunc {
  return (args) => {
    const x = kernelInput(args.inputs, 'x', Mean);
    const { axis, keepDims } = args.attrs as unknown as MeanAttrs;
    const block = x.dtype === 'float32' ? axisBlock(axis, x.shape) : undefined;
    if (block === undefined) return builtin(args);
    return reduceAxisBlock(args.backend as BackendWasm, x, block, 1 / block.reduced, keepDims);
  };
}
