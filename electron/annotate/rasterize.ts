import { assertMask } from './mask.ts';
import type { Mask, Ring } from './types.ts';

/**
 * Whose polygon filling to reproduce, so an imported polygon becomes the mask its own tool
 * would make of it. All fill one polygon by the even-odd rule.
 * - 'pycocotools' (COCO): vertices snap to a fifth of a pixel, each column is sampled at its
 *   centre, and a pixel centre lying exactly on an edge counts as below it. Pixels within
 *   about 0.1 px of a slanted edge may still differ, as pycocotools also rounds the edges
 *   themselves to fifths of a pixel.
 * - 'opencv' (Ultralytics YOLO): vertices cast to integers (Ultralytics' int32 cast before
 *   cv2.fillPoly), rows sampled at integer coordinates, then every edge drawn as a line.
 * - 'pil' (LabelMe's shape_to_mask): vertices cast to integers, as Pillow 9 does; each row at
 *   integer y fills from its left crossing rounded to nearest (halves up) to its right one
 *   rounded to nearest (halves down), plus horizontal edges and the vertices themselves.
 *   Measured against Pillow 9.4.
 */
export type RasterRule = 'pycocotools' | 'opencv' | 'pil';

/**
 * Paints `value` where the rings cover, into `target`; pixels already set elsewhere are kept,
 * so calling it once per polygon gives the union (as pycocotools merges an annotation's
 * polygons and LabelMe its shapes). Rings given together are filled as one polygon.
 */
export function fillRings(target: Mask, rings: Ring[], rule: RasterRule, value = 1): void {
  assertMask(target, 'rasterize');
  for (const ring of rings) {
    for (const p of ring) {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) {
        throw new Error(`rasterize: polygon vertex (${p.x}, ${p.y}) is not a finite number`);
      }
    }
  }
  const { width: w, height: h, data } = target;
  if (rule === 'pycocotools') {
    const snap = (v: number): number => Math.floor(5 * v + 0.5) / 5;
    const columns = rings.map((ring) => ring.map((p) => ({ along: snap(p.x), across: snap(p.y) })));
    scanEvenOdd(columns, 0.5, w, h, (x, y0, y1) => {
      for (let y = y0; y < y1; y++) data[y * w + x] = value;
    });
    return;
  }
  const ints = rings.map((ring) => ring.map((p) => ({ x: Math.trunc(p.x), y: Math.trunc(p.y) })));
  const rows = ints.map((ring) => ring.map((p) => ({ along: p.y, across: p.x })));
  if (rule === 'opencv') {
    scanEvenOdd(rows, 0, h, w, (y, x0, x1) => data.fill(value, y * w + x0, y * w + x1));
    for (const ring of ints) {
      for (let i = 0; i < ring.length; i++) {
        const a = ring[i];
        const b = ring[(i + 1) % ring.length];
        drawLine(target, a.x, a.y, b.x, b.y, value);
      }
    }
    return;
  }
  scanEvenOdd(rows, 0, h, w, (y, x0, x1) => data.fill(value, y * w + x0, y * w + x1), true);
  for (const ring of ints) {
    for (let i = 0; i < ring.length; i++) {
      const a = ring[i];
      const b = ring[(i + 1) % ring.length];
      if (a.y === b.y && a.y >= 0 && a.y < h) {
        const from = Math.max(0, Math.min(a.x, b.x));
        const to = Math.min(w - 1, Math.max(a.x, b.x));
        if (to >= from) data.fill(value, a.y * w + from, a.y * w + to + 1);
      }
      if (a.x >= 0 && a.y >= 0 && a.x < w && a.y < h) data[a.y * w + a.x] = value;
    }
  }
}

interface ScanPoint {
  along: number;
  across: number;
}

/**
 * Even-odd scan: line k (0 <= k < lines) is sampled at along = k + offset and pixel j on it
 * at across = j + offset. An edge meets a line when its sample lies in [min, max) of the
 * edge's along-extent; pixel j is filled iff an odd number of crossings lie at or before
 * its sample, so neighbouring regions sharing an edge never both claim a pixel. With
 * roundOutward (Pillow's rule) a span instead runs from its left crossing rounded half up to
 * its right crossing rounded half down, both included.
 */
function scanEvenOdd(
  rings: ScanPoint[][],
  offset: number,
  lines: number,
  length: number,
  fillSpan: (line: number, from: number, to: number) => void,
  roundOutward = false,
): void {
  const a0: number[] = [];
  const c0: number[] = [];
  const a1: number[] = [];
  const c1: number[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  for (const ring of rings) {
    for (let i = 0; i < ring.length; i++) {
      const p = ring[i];
      const q = ring[(i + 1) % ring.length];
      if (p.along === q.along) continue;
      const [s, e] = p.along < q.along ? [p, q] : [q, p];
      a0.push(s.along);
      c0.push(s.across);
      a1.push(e.along);
      c1.push(e.across);
      if (s.along < lo) lo = s.along;
      if (e.along > hi) hi = e.along;
    }
  }
  if (a0.length === 0) return;
  const first = Math.max(0, Math.ceil(lo - offset));
  const last = Math.min(lines - 1, Math.ceil(hi - offset) - 1);
  const xs: number[] = [];
  for (let k = first; k <= last; k++) {
    const t = k + offset;
    xs.length = 0;
    for (let e = 0; e < a0.length; e++) {
      if (t >= a0[e] && t < a1[e]) xs.push(c0[e] + ((t - a0[e]) * (c1[e] - c0[e])) / (a1[e] - a0[e]));
    }
    xs.sort((u, v) => u - v);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const from = Math.max(0, roundOutward ? Math.floor(xs[i] + 0.5) : Math.ceil(xs[i] - offset));
      const to = Math.min(length, roundOutward ? Math.ceil(xs[i + 1] - 0.5) + 1 : Math.ceil(xs[i + 1] - offset));
      if (to > from) fillSpan(k, from, to);
    }
  }
}

/** Bresenham's line, clipped to the mask. */
function drawLine(target: Mask, x0: number, y0: number, x1: number, y1: number, value: number): void {
  const { width: w, height: h, data } = target;
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  let x = x0;
  let y = y0;
  for (;;) {
    if (x >= 0 && y >= 0 && x < w && y < h) data[y * w + x] = value;
    if (x === x1 && y === y1) break;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y += sy;
    }
  }
}
