import type { RegionPolygon, Ring } from './types.ts';

/**
 * One ring for a region with holes: each hole is spliced into the ring through a zero-width
 * bridge (there and back along the same segment) between its closest pair of vertices.
 * COCO polygons, LabelMe shapes and YOLO lines have no holes; filled by the even-odd rule
 * the bridge cancels out and the hole stays empty (Ultralytics joins segments the same way).
 */
export function keyholeRing(polygon: RegionPolygon): Ring {
  let ring = polygon.outer.slice();
  for (const hole of polygon.holes) {
    if (hole.length === 0) continue;
    let bi = 0;
    let bj = 0;
    let best = Infinity;
    for (let i = 0; i < ring.length; i++) {
      for (let j = 0; j < hole.length; j++) {
        const dx = ring[i].x - hole[j].x;
        const dy = ring[i].y - hole[j].y;
        const d = dx * dx + dy * dy;
        if (d < best) {
          best = d;
          bi = i;
          bj = j;
        }
      }
    }
    const spliced: Ring = ring.slice(0, bi + 1);
    for (let k = 0; k <= hole.length; k++) spliced.push(hole[(bj + k) % hole.length]);
    spliced.push(ring[bi]);
    for (let i = bi + 1; i < ring.length; i++) spliced.push(ring[i]);
    ring = spliced;
  }
  return ring;
}
