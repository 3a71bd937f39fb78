import { Conv2DBackpropInput } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Conv2DBackpropInputAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { convBackpropGeometry, type ConvBackpropGeometry } from './conv-backprop-geometry.ts';
import { gatherPixels, placePixels } from './strided-copy.ts';
import { kernelInput, WasmKernelScope } from './wasm-kernel-scope.ts';

type Shape4 = [number, number, number, number];

/**
 * Along one axis, the dx positions p, p + s, p + 2s, ... of a stride-s conv (one phase)
 * each gather dy through the same subset of filter taps, so each phase is a stride-1
 * conv with a sub-filter: no zeros are inserted into dy and no work is wasted on them.
 */
interface Phase {
  /** First dx position of the phase (p). */
  start: number;
  /** Number of dx positions in the phase. */
  count: number;
  /** Filter taps this phase uses: original indices last, last - s, ... (flipped order). */
  taps: number[];
  /** dy index read by the phase's first position through its first tap (may be negative). */
  dyStart: number;
}

function phasesAlong(inSize: number, filterSize: number, stride: number, padBefore: number): Phase[] {
  // dx = stride-1 conv of dy spread by the stride and padded by filter - 1 - pad, with the
  // flipped filter: flipped tap j meets dy where (position + j - lead) is a multiple of s.
  const lead = filterSize - 1 - padBefore;
  const phases: Phase[] = [];
  for (let start = 0; start < Math.min(stride, inSize); start++) {
    const first = (((lead - start) % stride) + stride) % stride;
    const taps: number[] = [];
    for (let j = first; j < filterSize; j += stride) taps.push(filterSize - 1 - j);
    phases.push({ start, count: Math.ceil((inSize - start) / stride), taps, dyStart: (start + first - lead) / stride });
  }
  return phases;
}

/** Copies the taps (rows x cols) of a [fh, fw, out, in] filter into a new filter. */
function subFilter(scope: WasmKernelScope, filterT: TensorInfo, rows: number[], cols: number[]): TensorInfo {
  const [fh, fw, outC, inC] = filterT.shape;
  if (fh === 1 && fw === 1) return filterT;
  const block = outC * inC;
  const out = scope.allocate([rows.length, cols.length, outC, inC]);
  const src = scope.heap(filterT);
  const dst = scope.heap(out);
  let at = 0;
  for (const r of rows) {
    for (const c of cols) {
      const from = (r * fw + c) * block;
      dst.set(src.subarray(from, from + block), at);
      at += block;
    }
  }
  return out;
}

/** One phase's dx: a valid window over dy rows dyStart .. dyStart + count + taps - 2 (zeros outside dy). */
function phaseGradient(scope: WasmKernelScope, dy: TensorInfo, filter: TensorInfo, py: Phase, px: Phase): TensorInfo {
  const [, dyH, dyW] = dy.shape;
  const padTop = -py.dyStart;
  const padLeft = -px.dyStart;
  const padBottom = py.dyStart + py.count + py.taps.length - 1 - dyH;
  const padRight = px.dyStart + px.count + px.taps.length - 1 - dyW;
  if (Math.min(padTop, padLeft, padBottom, padRight) >= 0) {
    return scope.run('Conv2D', { x: dy, filter },
      { strides: 1, dilations: 1, pad: [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]], dataFormat: 'NHWC' });
  }
  // Explicit pads wider than the filter leave dy pixels no dx pixel sees: crop them here.
  const window = gatherPixels(scope, dy, py.count + py.taps.length - 1, px.count + px.taps.length - 1,
    { strideHeight: 1, strideWidth: 1, offsetHeight: py.dyStart, offsetWidth: px.dyStart });
  return scope.run('Conv2D', { x: window, filter }, { strides: 1, dilations: 1, pad: 'valid', dataFormat: 'NHWC' });
}

function inputGradient(scope: WasmKernelScope, dy: TensorInfo, filter: TensorInfo, g: ConvBackpropGeometry): TensorInfo {
  const filterT = scope.transpose(filter, [0, 1, 3, 2]);
  const rowPhases = phasesAlong(g.inHeight, g.filterHeight, g.strideHeight, g.padTop);
  const colPhases = phasesAlong(g.inWidth, g.filterWidth, g.strideWidth, g.padLeft);
  const [onlyRow] = rowPhases;
  const [onlyCol] = colPhases;
  if (rowPhases.length === 1 && colPhases.length === 1) {
    return phaseGradient(scope, dy, subFilter(scope, filterT, onlyRow.taps, onlyCol.taps), onlyRow, onlyCol);
  }
  const dxShape = [g.batch, g.inHeight, g.inWidth, g.inChannels];
  const everyPhaseHasTaps = rowPhases.every((p) => p.taps.length > 0) && colPhases.every((p) => p.taps.length > 0);
  const dx = everyPhaseHasTaps ? scope.allocate(dxShape) : scope.zeros(dxShape);
  for (const py of rowPhases) {
    for (const px of colPhases) {
      if (py.taps.length === 0 || px.taps.length === 0) continue;
      const taps = subFilter(scope, filterT, py.taps, px.taps);
      const part = phaseGradient(scope, dy, taps, py, px);
      placePixels(scope, part, dx,
        { strideHeight: g.strideHeight, strideWidth: g.strideWidth, offsetHeight: py.start, offsetWidth: px.start });
      scope.release(part);
      if (taps !== filterT) scope.release(taps);
    }
  }
  return dx;
}

/**
 * Replaces the wasm backend's Conv2DBackpropInput, a direct loop several times slower
 * than the XNNPACK convolutions this is built from.
 */
export const conv2DBackpropInputWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const dy = kernelInput(inputs, 'dy', Conv2DBackpropInput);
  const filter = kernelInput(inputs, 'filter', Conv2DBackpropInput);
  const a = attrs as unknown as Conv2DBackpropInputAttrs;
  const g = convBackpropGeometry(Conv2DBackpropInput, a.inputShape, filter.shape as Shape4, dy.shape, a);
  return WasmKernelScope.use(backend as BackendWasm, (scope) => {
    const dyNhwc = g.channelsFirst ? scope.transpose(dy, [0, 2, 3, 1]) : dy;
    const dx = inputGradient(scope, dyNhwc, filter, g);
    return g.channelsFirst ? scope.transpose(dx, [0, 3, 1, 2]) : dx;
  });
};
