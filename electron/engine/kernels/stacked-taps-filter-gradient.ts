import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvBackpropGeometry } from './conv-backprop-geometry.ts';
import { gatherPixels, type BatchRange } from './strided-copy.ts';
import { WasmKernelScope } from './wasm-kernel-scope.ts';

/** Cap on the stacked-taps matrix per matMul (floats); larger batches are done in groups of images. */
const STACK_BUDGET = 16 * 1024 * 1024;

/** Extra GEMM work, as a fraction, above which exact windows are cut instead of shifted rows. */
const SHIFTED_ROWS_MAX_WASTE = 1.15;

/**
 * The phase grid: pixel (r, c) of phase (ph, pw) is x[oh*s + ph - pad] at r = oh + kh/s, so
 * tap (kh, kw) of every output pixel is phase (kh % s, kw % s) shifted by (kh / s, kw / s).
 */
interface PhaseGrid {
  height: number;
  width: number;
}

function phaseGrid(g: ConvBackpropGeometry): PhaseGrid {
  return {
    height: g.outHeight + Math.floor((g.filterHeight - 1) / g.strideHeight),
    width: g.outWidth + Math.floor((g.filterWidth - 1) / g.strideWidth),
  };
}

/** Each phase of x that some tap reads, as [Ci, images * grid] (channels first, so a tap's rows are contiguous). */
function transposedPhases(scope: WasmKernelScope, x: TensorInfo, g: ConvBackpropGeometry, grid: PhaseGrid, images: BatchRange): TensorInfo[][] {
  const phases: TensorInfo[][] = [];
  for (let ph = 0; ph < Math.min(g.strideHeight, g.filterHeight); ph++) {
    const row: TensorInfo[] = [];
    for (let pw = 0; pw < Math.min(g.strideWidth, g.filterWidth); pw++) {
      const phase = gatherPixels(scope, x, grid.height, grid.width, {
        strideHeight: g.strideHeight, strideWidth: g.strideWidth, offsetHeight: ph - g.padTop, offsetWidth: pw - g.padLeft,
      }, images);
      row.push(scope.transpose(scope.reshape(phase, [images.count * grid.height * grid.width, g.inChannels]), [1, 0]));
    }
    phases.push(row);
  }
  return phases;
}

/**
 * Rows (tap, ci) of the stacked matrix. With `shifted`, a row is the phase's whole row
 * shifted by the tap's offset (one copy; dy is laid on the phase grid, zeros off the
 * outputs); otherwise it is cut to the exact output windows (no wasted columns).
 */
function stackTaps(scope: WasmKernelScope, phases: TensorInfo[][], g: ConvBackpropGeometry, grid: PhaseGrid, images: number, shifted: boolean): TensorInfo {
  const { inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = g;
  const gridSize = images * grid.height * grid.width;
  const columns = shifted ? gridSize : images * outHeight * outWidth;
  const stacked = scope.allocate([1, filterHeight * filterWidth * inChannels, columns]);
  const dst = scope.heap(stacked);
  let at = 0;
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const src = scope.heap(phases[kh % strideHeight][kw % strideWidth]);
      const dh = Math.floor(kh / strideHeight);
      const dw = Math.floor(kw / strideWidth);
      for (let ci = 0; ci < inChannels; ci++) {
        if (shifted) {
          const from = ci * gridSize + dh * grid.width + dw;
          const available = Math.min(columns, (ci + 1) * gridSize - from);
          dst.set(src.subarray(from, from + available), at);
          // Columns past the phase's end meet zeros of dy, but must not be NaN garbage.
          dst.fill(0, at + available, at + columns);
          at += columns;
          continue;
        }
        for (let n = 0; n < images; n++) {
          for (let oh = 0; oh < outHeight; oh++) {
            let from = ((ci * images + n) * grid.height + oh + dh) * grid.width + dw;
            if (outWidth >= 16) {
              dst.set(src.subarray(from, from + outWidth), at);
              at += outWidth;
            } else {
              for (let ow = 0; ow < outWidth; ow++) dst[at++] = src[from++];
            }
          }
        }
      }
    }
  }
  return stacked;
}

/**
 * dW of a conv with a spatial filter as ONE matMul per group of images:
 * [taps * Ci, pixels] x [pixels, Co] = [fh, fw, Ci, Co], where row (tap, ci) holds the x
 * values each output pixel saw through that tap. wasm's matMul is fast only with many
 * rows, so stacking all taps beats one product per tap; a conv of x with dy as a dilated
 * filter (the other formulation) has only the batch as its inner channels and measured
 * slower, most at batch 1.
 */
export function stackedTapsFilterGradient(scope: WasmKernelScope, x: TensorInfo, dy: TensorInfo, g: ConvBackpropGeometry): TensorInfo {
  const grid = phaseGrid(g);
  const shifted = grid.height * grid.width <= SHIFTED_ROWS_MAX_WASTE * g.outHeight * g.outWidth;
  const perImage = g.filterHeight * g.filterWidth * g.inChannels * grid.height * grid.width;
  const group = Math.max(1, Math.min(g.batch, Math.floor(STACK_BUDGET / perImage)));
  let dw: TensorInfo | undefined;
  for (let first = 0; first < g.batch; first += group) {
    const images = { first, count: Math.min(group, g.batch - first) };
    // Each group's stacked matrix is freed before the next is built, to keep within the budget.
    const part = scope.adopt(WasmKernelScope.use(scope.backend, (inner) => {
      const stacked = stackTaps(inner, transposedPhases(inner, x, g, grid, images), g, grid, images.count, shifted);
      const whole = { strideHeight: 1, strideWidth: 1, offsetHeight: 0, offsetWidth: 0 };
      const dyRows = shifted
        ? gatherPixels(inner, dy, grid.height, grid.width, whole, images)
        : images.count === g.batch ? dy : gatherPixels(inner, dy, g.outHeight, g.outWidth, whole, images);
      const [, , columns] = stacked.shape;
      return inner.run('BatchMatMul', { a: stacked, b: inner.reshape(dyRows, [1, columns, g.outChannels]) },
        { transposeA: false, transposeB: false });
    }));
    if (dw === undefined) {
      dw = part;
    } else {
      const sum = scope.heap(dw);
      const add = scope.heap(part);
      for (let i = 0; i < sum.length; i++) sum[i] += add[i];
      scope.release(part);
    }
  }
  if (dw === undefined) throw new Error('Conv2DBackpropFilter: empty batch');
  return scope.reshape(dw, [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels]);
}
