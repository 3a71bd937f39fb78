import { Tile } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelFunc, TileAttrs, TypedArray } from '@tensorflow/tfjs-core';
import { kernelInput } from './wasm-kernel-scope.ts';

/** Drops axes that neither have extent nor repeat, and merges neighbouring unrepeated axes. */
function simplify(shape: number[], reps: number[]): { shape: number[]; reps: number[] } {
  const outShape: number[] = [];
  const outReps: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1 && reps[i] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && reps[i] === 1 && outReps[last] === 1) {
      outShape[last] *= shape[i];
    } else {
      outShape.push(shape[i]);
      outReps.push(reps[i]);
    }
  }
  return outShape.length > 0 ? { shape: outShape, reps: outReps } : { shape: [1], reps: [1] };
}

/**
 * Fills `dst` axis by axis: each axis's block is written once and then doubled with
 * copyWithin until it is repeated reps[axis] times, so the work is a few native memmoves.
 */
function tileInto(src: TypedArray, dst: TypedArray, shape: number[], reps: number[]): void {
  const rank = shape.length;
  const inStrides = new Array<number>(rank);
  const outStrides = new Array<number>(rank);
  inStrides[rank - 1] = 1;
  outStrides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) {
    inStrides[i] = inStrides[i + 1] * shape[i + 1];
    outStrides[i] = outStrides[i + 1] * shape[i + 1] * reps[i + 1];
  }
  const fill = (axis: number, srcOffset: number, dstOffset: number): void => {
    const extent = shape[axis];
    if (axis === rank - 1) {
      if (extent === 1) {
        dst.fill(src[srcOffset], dstOffset, dstOffset + reps[axis]);
        return;
      }
      dst.set(src.subarray(srcOffset, srcOffset + extent), dstOffset);
    } else {
      for (let i = 0; i < extent; i++) fill(axis + 1, srcOffset + i * inStrides[axis], dstOffset + i * outStrides[axis]);
    }
    const block = extent * outStrides[axis];
    const total = block * reps[axis];
    for (let done = block; done < total; done += Math.min(done, total - done)) {
      dst.copyWithin(dstOffset + done, dstOffset, dstOffset + Math.min(done, total - done));
    }
  };
  fill(0, 0, 0);
}

/**
 * wasm's Tile computes an index per output element; batchnorm's gradient tiles a
 * per-channel vector to the full activation size and spent seconds per ResNet50 step there.
 */
export function tileKernel(builtin: KernelFunc): KernelFunc {
  return (args) => {
    const x = kernelInput(args.inputs, 'x', Tile);
    const backend = args.backend as BackendWasm;
    if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') return builtin(args);
    const { reps } = args.attrs as unknown as TileAttrs;
    if (reps.length !== x.shape.length) {
      throw new Error(`Tile: reps [${reps.join(', ')}] must have one entry per axis of the input [${x.shape.join(', ')}]`);
    }
    const outShape = x.shape.map((d, i) => d * reps[i]);
    const out = backend.makeOutput(outShape, x.dtype);
    if (outShape.every((d) => d > 0)) {
      const simple = simplify(x.shape, reps);
      tileInto(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), simple.shape, simple.reps);
    }
    return out;
  };
}
