import type { MapRefinement } from '../manifest.ts';
import { GraphBuilder } from './graph-builder.ts';
import { createSession, loadOnnxRuntime, tracked, type OrtSession } from './runtime.ts';
import { SessionCache } from './session-cache.ts';

/** The 8 neighbours at each dilation, [dy, dx], in the order refine-on-image.ts's weights use. */
export function neighbourOffsets(dilations: readonly number[]): Array<[number, number]> {
  return dilations.flatMap((d): Array<[number, number]> => [[-d, -d], [-d, 0], [-d, d], [0, -d], [0, d], [d, -d], [d, 0], [d, d]]);
}

/**
 * The pixel-adaptive refinement (refine-on-image.ts) as one onnxruntime graph, affinities
 * included: grey [1, 1, H, W] and maps [M, 1, H, W] in, the refined maps out. Each pass is a
 * pad, 8 slices per dilation and their weighted sum, element-wise work that onnxruntime's
 * vectorised kernels do about three times faster than JavaScript's loops.
 */
export function refineGraph(height: number, width: number, maps: number, params: MapRefinement): Uint8Array {
  const g = new GraphBuilder();
  const pad = Math.max(...params.dilations);
  const pads = g.int64([0, 0, pad, pad, 0, 0, pad, pad]);
  const axes = g.int64([2, 3]);
  const shifted = (padded: string, [dy, dx]: [number, number]) =>
    g.op('Slice', [padded, g.int64([pad + dy, pad + dx]), g.int64([pad + dy + height, pad + dx + width]), axes]);
  const offsets = neighbourOffsets(params.dilations);

  const grey = g.input('grey', [1, 1, height, width]);
  const paddedGrey = g.op('Pad', [grey, pads], { mode: 'edge' });
  const near = g.op('Concat', offsets.map((o) => shifted(paddedGrey, o)), { axis: 0 });
  const mean = g.op('ReduceMean', [near], { axes: [0], keepdims: 1 });
  const meanSquare = g.op('ReduceMean', [g.op('Mul', [near, near])], { axes: [0], keepdims: 1 });
  const spread = g.op('Sqrt', [g.op('Relu', [g.op('Sub', [meanSquare, g.op('Mul', [mean, mean])])])]);
  const unit = g.op('Add', [g.op('Mul', [spread, g.scalar(params.spread)]), g.scalar(1e-8)]);
  const distance = g.op('Div', [g.op('Abs', [g.op('Sub', [grey, near])]), unit]);
  // The softmax over the neighbours (axis 0), written out: onnxruntime's Softmax transposes
  // for an outer axis, which cost more than the whole refinement.
  const nearest = g.op('ReduceMin', [distance], { axes: [0], keepdims: 1 });
  const e = g.op('Exp', [g.op('Sub', [nearest, distance])]);
  const weights = g.op('Div', [e, g.op('ReduceSum', [e, g.int64([0])], { keepdims: 1 })]);
  const weightOf = offsets.map((_, o) => g.op('Slice', [weights, g.int64([o]), g.int64([o + 1]), g.int64([0])]));

  let x = g.input('maps', [maps, 1, height, width]);
  for (let t = 0; t < params.iterations; t++) {
    const padded = g.op('Pad', [x, pads], { mode: 'edge' });
    x = g.op('Sum', offsets.map((o, k) => g.op('Mul', [shifted(padded, o), weightOf[k]])));
  }
  g.output('refined', x);
  return g.encode('kizu-refine');
}

/**
 * Sessions by size, map count and parameters: a model at a fixed input size needs one. Each
 * holds onnxruntime's working memory for its size, about 400 MB at 512 x 512 (its arena; without
 * it a run took five times as long), so few are kept.
 */
const sessions = new SessionCache(2);

/** `maps` (each height x width) refined on `grey` by onnxruntime; throws where it cannot load. */
export async function refineOnOnnxRuntime(grey: Float32Array, height: number, width: number, maps: readonly Float32Array[], params: MapRefinement): Promise<Float32Array[]> {
  const ort = await loadOnnxRuntime();
  const key = `${height}x${width}x${maps.length}:${JSON.stringify(params)}`;
  const session: OrtSession = await sessions.get(key, () => createSession(refineGraph(height, width, maps.length, params), 1));
  const n = height * width;
  const stacked = new Float32Array(n * maps.length);
  maps.forEach((m, j) => stacked.set(m, j * n));
  const feeds = { grey: new ort.Tensor('float32', grey, [1, 1, height, width]), maps: new ort.Tensor('float32', stacked, [maps.length, 1, height, width]) };
  const out = await tracked(session.run(feeds, ['refined']));
  try {
    const data = out.refined.data as Float32Array;
    return maps.map((_, j) => data.slice(j * n, (j + 1) * n));
  } finally {
    out.refined.dispose();
    feeds.grey.dispose();
    feeds.maps.dispose();
  }
}
