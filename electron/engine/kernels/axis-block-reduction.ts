import { backend_util, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';

/** A reduction viewed as [outer, reduced, inner] with the middle extent summed away. */
export interface AxisBlock {
  outer: number;
  reduced: number;
  inner: number;
  axes: number[];
}

/**
 * The [outer, reduced, inner] view of a reduction whose axes are one contiguous run that
 * does not end at the last axis (NHWC per-channel statistics [0, 1, 2], global pooling
 * [1, 2]); undefined otherwise. wasm's own reductions transpose such inputs so the
 * reduced axes come last, a full copy this avoids.
 */
export function axisBlock(axis: number | number[], shape: number[]): AxisBlock | undefined {
  const axes = util.parseAxisParam(axis, shape).sort((a, b) => a - b);
  if (axes.length === 0) return undefined;
  const first = axes[0];
  const last = axes[axes.length - 1];
  if (last - first + 1 !== axes.length || last === shape.length - 1) return undefined;
  return {
    outer: util.sizeFromShape(shape.slice(0, first)),
    reduced: util.sizeFromShape(shape.slice(first, last + 1)),
    inner: util.sizeFromShape(shape.slice(last + 1)),
    axes,
  };
}

/** Sums a float32 tensor over the block's axes (in double precision), times `scale`. */
export function reduceAxisBlock(backend: BackendWasm, x: TensorInfo, block: AxisBlock, scale: number, keepDims: boolean): TensorInfo {
  const { outer, reduced, inner, axes } = block;
  const kept = x.shape.filter((_, i) => !axes.includes(i));
  const outShape = keepDims ? backend_util.expandShapeToKeepDim(kept, axes) : kept;
  const out = backend.makeOutput(outShape, 'float32');
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    const start = o * reduced * inner;
    let r = 0;
    // Four rows per pass halves the accumulator traffic that bounds this loop.
    for (; r + 4 <= reduced; r += 4) {
      const b0 = start + r * inner;
      const b1 = b0 + inner;
      const b2 = b1 + inner;
      const b3 = b2 + inner;
      for (let c = 0; c < inner; c++) acc[c] += (src[b0 + c] + src[b1 + c]) + (src[b2 + c] + src[b3 + c]);
    }
    for (; r < reduced; r++) {
      const base = start + r * inner;
      for (let c = 0; c < inner; c++) acc[c] += src[base + c];
    }
    const dstBase = o * inner;
    for (let c = 0; c < inner; c++) dst[dstBase + c] = acc[c] * scale;
  }
  return out;
}
