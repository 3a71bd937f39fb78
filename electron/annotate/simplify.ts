import type { Point, Ring } from './types.ts';

/**
 * Douglas-Peucker on a closed ring: split at vertex 0 and the vertex farthest from it, then
 * simplify both chains so no dropped vertex is farther than `tolerance` pixels from the
 * kept segment that replaces it. A ring that would collapse below a triangle is returned
 * unchanged: losing a small region is worse than keeping its few vertices.
 */
export function simplifyRing(ring: Ring, tolerance: number): Ring {
  if (!(tolerance >= 0)) throw new Error(`simplify: tolerance must be >= 0 pixels, got ${tolerance}`);
  const n = ring.length;
  if (tolerance === 0 || n <= 3) return ring;
  let far = 0;
  let farD = -1;
  for (let i = 1; i < n; i++) {
    const d = sqDist(ring[0], ring[i]);
    if (d > farD) {
      farD = d;
      far = i;
    }
  }
  const keep = new Uint8Array(n + 1);
  keep[0] = 1;
  keep[far] = 1;
  keep[n] = 1;
  const at = (i: number): Point => ring[i === n ? 0 : i];
  const tol2 = tolerance * tolerance;
  const stack: number[] = [0, far, far, n];
  while (stack.length > 0) {
    const b = stack.pop() as number;
    const a = stack.pop() as number;
    let worst = -1;
    let worstD = tol2;
    for (let i = a + 1; i < b; i++) {
      const d = sqSegmentDist(at(i), at(a), at(b));
      if (d > worstD) {
        worstD = d;
        worst = i;
      }
    }
    if (worst >= 0) {
      keep[worst] = 1;
      stack.push(a, worst, worst, b);
    }
  }
  const out: Ring = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push(ring[i]);
  return out.length >= 3 ? out : ring;
}

function sqDist(a: Point, b: Point): number {
  const dx = a.x - b.x;
  const dy = a.y - b.y;
  return dx * dx + dy * dy;
}

function sqSegmentDist(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  if (len2 === 0) return sqDist(p, a);
  let t = ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return sqDist(p, { x: a.x + t * dx, y: a.y + t * dy });
}

/** Signed area by the shoelace formula, positive for clockwise on screen (y down). */
export function ringArea(ring: Ring): number {
  let s = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    s += ring[j].x * ring[i].y - ring[i].x * ring[j].y;
  }
  return s / 2;
}
