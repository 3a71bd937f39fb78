import { traceMask } from '../../../electron/annotate/contours.ts';
import type { Mask, Ring } from '../../../electron/annotate/types.ts';

/**
 * The mask's boundary rings in image pixel-corner coordinates, unsimplified, so at high zoom
 * the outline follows every pixel edge (the same tracing the polygon exports use).
 */
export function outlineRings(mask: Mask): Ring[] {
  const rings: Ring[] = [];
  for (const region of traceMask(mask, { convention: 'corner', tolerance: 0 })) {
    rings.push(region.polygon.outer, ...region.polygon.holes);
  }
  return rings;
}

/** The rings as one canvas path (image coordinates). */
export function ringsToPath(rings: readonly Ring[]): Path2D {
  const path = new Path2D();
  for (const ring of rings) {
    if (ring.length < 2) continue;
    path.moveTo(ring[0].x, ring[0].y);
    for (let i = 1; i < ring.length; i++) path.lineTo(ring[i].x, ring[i].y);
    path.closePath();
  }
  return path;
}
