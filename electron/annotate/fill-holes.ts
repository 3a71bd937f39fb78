import { assertMask, foregroundBox } from './mask.ts';
import { connectRuns, findRuns } from './runs.ts';
import type { Mask } from './types.ts';

/**
 * Sets every background pixel that the image border cannot reach to foreground. Background
 * connects with 4-connectivity, the dual of the 8-connected foreground: a diagonal gap
 * between two foreground pixels does not let the outside leak into a hole.
 */
export function fillHoles(mask: Mask): Mask {
  assertMask(mask, 'fillHoles');
  const { width: w, height: h, data } = mask;
  const out = new Uint8Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = data[i] !== 0 ? 1 : 0;
  const box = foregroundBox(mask);
  if (!box) return { width: w, height: h, data: out };
  const [x0, y0, x1, y1] = box;
  if (x1 - x0 < 2 || y1 - y0 < 2) return { width: w, height: h, data: out };
  // Background outside the foreground's box reaches the border in a straight line, so only
  // the box can hold holes: background runs of the box not connected to its edge.
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const runs = findRuns(data, w, x0, y0, bw, bh, false);
  const root = connectRuns(runs, false);
  const outside = new Uint8Array(runs.count);
  for (let i = 0; i < runs.count; i++) {
    const y = runs.row[i];
    if (y === 0 || y === bh - 1 || runs.start[i] === 0 || runs.end[i] === bw) outside[root[i]] = 1;
  }
  for (let i = 0; i < runs.count; i++) {
    if (outside[root[i]]) continue;
    const row = (runs.row[i] + y0) * w + x0;
    out.fill(1, row + runs.start[i], row + runs.end[i]);
  }
  return { width: w, height: h, data: out };
}
