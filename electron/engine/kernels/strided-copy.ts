import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelScope } from './wasm-kernel-scope.ts';

/** Pixel (i, j) of a small NHWC grid sits at row offsetHeight + i * strideHeight (same for columns) of a large one. */
export interface PixelLattice {
  strideHeight: number;
  strideWidth: number;
  /** May be negative: small-grid pixels that fall off the large grid are skipped. */
  offsetHeight: number;
  offsetWidth: number;
}

interface GridPair {
  batch: number;
  channels: number;
  smallH: number;
  smallW: number;
  largeH: number;
  largeW: number;
}

type CopyRun = (smallIndex: number, largeIndex: number, count: number) => void;

/** Visits the small-grid pixels that land on the large grid, in runs contiguous in both. */
function walkLattice(g: GridPair, at: PixelLattice, copy: CopyRun): void {
  const { batch, channels, smallH, smallW, largeH, largeW } = g;
  const { strideHeight, strideWidth, offsetHeight, offsetWidth } = at;
  const jFirst = Math.max(0, Math.ceil(-offsetWidth / strideWidth));
  const jEnd = Math.min(smallW, Math.floor((largeW - 1 - offsetWidth) / strideWidth) + 1);
  if (jEnd <= jFirst) return;
  for (let n = 0; n < batch; n++) {
    for (let i = 0; i < smallH; i++) {
      const row = offsetHeight + i * strideHeight;
      if (row < 0 || row >= largeH) continue;
      const smallRow = (n * smallH + i) * smallW * channels;
      const largeRow = (n * largeH + row) * largeW * channels;
      if (strideWidth === 1) {
        copy(smallRow + jFirst * channels, largeRow + (offsetWidth + jFirst) * channels, (jEnd - jFirst) * channels);
      } else {
        for (let j = jFirst; j < jEnd; j++) {
          copy(smallRow + j * channels, largeRow + (offsetWidth + j * strideWidth) * channels, channels);
        }
      }
    }
  }
}

/**
 * Places `small` [N, h, w, C] on a zero grid [N, height, width, C] along the lattice:
 * zero insertion between pixels and padding (or cropping) around them in one pass.
 */
export function scatterPixels(scope: WasmKernelScope, small: TensorInfo, height: number, width: number, at: PixelLattice): TensorInfo {
  const [batch, smallH, smallW, channels] = small.shape;
  const out = scope.zeros([batch, height, width, channels]);
  const src = scope.heap(small);
  const dst = scope.heap(out);
  walkLattice({ batch, channels, smallH, smallW, largeH: height, largeW: width }, at,
    (s, l, count) => dst.set(src.subarray(s, s + count), l));
  return out;
}

/**
 * Picks the pixels of `large` [N, H, W, C] that lie on the lattice into an [N, h, w, C]
 * grid; lattice points off the large grid read as zero, as padding would.
 */
export function gatherPixels(scope: WasmKernelScope, large: TensorInfo, height: number, width: number, at: PixelLattice): TensorInfo {
  const [batch, largeH, largeW, channels] = large.shape;
  const out = scope.zeros([batch, height, width, channels]);
  const src = scope.heap(large);
  const dst = scope.heap(out);
  walkLattice({ batch, channels, smallH: height, smallW: width, largeH, largeW }, at,
    (s, l, count) => dst.set(src.subarray(l, l + count), s));
  return out;
}
