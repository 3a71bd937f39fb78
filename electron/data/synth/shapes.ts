import { smoothstep, type Field } from './field.ts';
import type { Rng } from './rng.ts';

export interface Point { x: number; y: number }

/** What a drawn shape left: its visual weight (alpha, in [0, 1]) and its footprint (cover). */
export interface Stroke {
  alpha: Field;
  cover: Field;
}

/** Pixel bounds a drawing touched, inclusive; empty when x1 < x0. */
export interface Box { x0: number; y0: number; x1: number; y1: number }

function emptyBox(): Box {
  return { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
}

function grow(box: Box, x0: number, y0: number, x1: number, y1: number): void {
  box.x0 = Math.min(box.x0, x0); box.y0 = Math.min(box.y0, y0);
  box.x1 = Math.max(box.x1, x1); box.y1 = Math.max(box.y1, y1);
}

export function newStroke(size: number): Stroke {
  return { alpha: new Float32Array(size * size), cover: new Float32Array(size * size) };
}

/**
 * Draws an antialiased path into `stroke`, combining by maximum. `halfWidth(t)` and
 * `strength(t)` vary along it (t from 0 to 1); cover records the geometry, alpha the strength.
 */
export function stampPath(
  stroke: Stroke, size: number, pts: readonly Point[],
  halfWidth: (t: number) => number, strength: (t: number) => number,
): Box {
  const box = emptyBox();
  const lengths = [0];
  for (let i = 1; i < pts.length; i++) {
    lengths.push(lengths[i - 1] + Math.hypot(pts[i].x - pts[i - 1].x, pts[i].y - pts[i - 1].y));
  }
  const total = lengths[lengths.length - 1];
  if (total <= 0) return box;
  let seg = 0;
  for (let s = 0; s <= total; s += 0.5) {
    while (seg < pts.length - 2 && lengths[seg + 1] < s) seg++;
    const segLen = lengths[seg + 1] - lengths[seg];
    const f = segLen > 0 ? (s - lengths[seg]) / segLen : 0;
    const cx = pts[seg].x + (pts[seg + 1].x - pts[seg].x) * f;
    const cy = pts[seg].y + (pts[seg + 1].y - pts[seg].y) * f;
    const t = s / total, hw = halfWidth(t), st = strength(t), reach = Math.ceil(hw + 1);
    const x0 = Math.max(0, Math.floor(cx) - reach), x1 = Math.min(size - 1, Math.floor(cx) + reach);
    const y0 = Math.max(0, Math.floor(cy) - reach), y1 = Math.min(size - 1, Math.floor(cy) + reach);
    grow(box, x0, y0, x1, y1);
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const ex = x + 0.5 - cx, ey = y + 0.5 - cy;
        const cov = Math.min(1, Math.max(0, hw + 0.5 - Math.sqrt(ex * ex + ey * ey)));
        if (cov <= 0) continue;
        const k = y * size + x;
        if (cov > stroke.cover[k]) stroke.cover[k] = cov;
        if (cov * st > stroke.alpha[k]) stroke.alpha[k] = cov * st;
      }
    }
  }
  return box;
}

/** Points along a quadratic Bezier, about one per two pixels. */
export function bezier(p0: Point, p1: Point, p2: Point): Point[] {
  const approx = Math.hypot(p1.x - p0.x, p1.y - p0.y) + Math.hypot(p2.x - p1.x, p2.y - p1.y);
  const n = Math.max(2, Math.ceil(approx / 2));
  const out: Point[] = [];
  for (let i = 0; i <= n; i++) {
    const t = i / n, a = (1 - t) * (1 - t), b = 2 * (1 - t) * t, c = t * t;
    out.push({ x: a * p0.x + b * p1.x + c * p2.x, y: a * p0.y + b * p1.y + c * p2.y });
  }
  return out;
}

export interface BlobShape {
  cx: number;
  cy: number;
  /** Mean radius in pixels. */
  radius: number;
  /** Length over width, >= 1. */
  aspect: number;
  angle: number;
  /** Width of the soft edge in pixels. */
  edge: number;
  /** Boundary wobble: the radius is modulated by these harmonics. */
  harmonics: Array<{ k: number; amp: number; phase: number }>;
}

export function randomHarmonics(rng: Rng, roughness: number): BlobShape['harmonics'] {
  return [2, 3, 4, 5, 7].map((k) => ({ k, amp: rng.uniform(0, roughness) / Math.sqrt(k), phase: rng.uniform(0, Math.PI * 2) }));
}

const ANGLE_STEPS = 2048;

/** Rasterises an irregular soft-edged blob; alpha is 0.5 on the nominal boundary. */
export function stampBlob(stroke: Stroke, size: number, b: BlobShape): Box {
  const sq = Math.sqrt(b.aspect);
  const maxWobble = 1 + b.harmonics.reduce((s, h) => s + Math.abs(h.amp), 0);
  const reach = Math.ceil(b.radius * sq * maxWobble + b.edge);
  const x0 = Math.max(0, Math.floor(b.cx - reach)), x1 = Math.min(size - 1, Math.ceil(b.cx + reach));
  const y0 = Math.max(0, Math.floor(b.cy - reach)), y1 = Math.min(size - 1, Math.ceil(b.cy + reach));
  const c = Math.cos(b.angle), s = Math.sin(b.angle), half = b.edge / 2;
  // Boundary radius tabulated by angle: evaluating the harmonics per pixel dominated big blobs.
  const radii = Float32Array.from({ length: ANGLE_STEPS + 1 }, (_, i) => {
    const theta = -Math.PI + (2 * Math.PI * i) / ANGLE_STEPS;
    return b.radius * b.harmonics.reduce((r, h) => r + h.amp * Math.cos(h.k * theta + h.phase), 1);
  });
  const box = emptyBox();
  grow(box, x0, y0, x1, y1);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - b.cx, dy = y + 0.5 - b.cy;
      const u = (dx * c + dy * s) / sq, v = (-dx * s + dy * c) * sq;
      const d = Math.sqrt(u * u + v * v);
      const r = radii[Math.round(((Math.atan2(v, u) + Math.PI) / (2 * Math.PI)) * ANGLE_STEPS)];
      const a = half > 0 ? smoothstep(r + half, r - half, d) : d <= r ? 1 : 0;
      if (a <= 0) continue;
      const k = y * size + x;
      if (a > stroke.alpha[k]) stroke.alpha[k] = a;
      if (a > stroke.cover[k]) stroke.cover[k] = a;
    }
  }
  return box;
}
