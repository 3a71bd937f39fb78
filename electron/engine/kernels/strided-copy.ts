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
 * Writes `small` [N, h, w, C] into `large` [N, H, W, C] along the lattice, e.g. one
 * phase of a strided result into every s-th pixel of the whole.
 */
export function placePixels(scope: WasmKernelScope, small: TensorInfo, large: TensorInfo, at: PixelLattice): void {
  const [batch, smallH, smallW, channels] = small.shape;
  const [, largeH, largeW] = large.shape;
  const src = scope.heap(small);
  const dst = scope.heap(large);
  walkLattice({ batch, channels, smallH, smallW, largeH, largeW }, at,
    (s, l, count) => dst.set(src.subarray(s, s + count), l));
}

/** Images [first, first + count) of a batch. */
export interface BatchRange {
  first: number;
  count: number;
}

/**
 * Picks the pixels of `large` [N, H, W, C] that lie on the lattice into an [n, h, w, C]
 * grid (n images of `images`, all by default); lattice points off the large grid read as
 * zero, as padding would.
 */
export function gatherPixels(
  scope: WasmKernelScope, large: TensorInfo, height: number, width: number, at: PixelLattice,
  images: BatchRange = { first: 0, count: large.shape[0] },
): TensorInfo {
  const [, largeH, largeW, channels] = large.shape;
  const out = scope.zeros([images.count, height, width, channels]);
  const src = scope.heap(large);
  const dst = scope.heap(out);
  const skip = images.first * largeH * largeW * channels;
  walkLattice({ batch: images.count, channels, smallH: height, smallW: width, largeH, largeW }, at,
    (s, l, count) => dst.set(src.subarray(skip + l, skip + l + count), s));
  return out;
}
