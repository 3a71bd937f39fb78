import { traceComponent } from '../contours.ts';
import { keyholeRing } from '../keyhole.ts';
import type { Ring } from '../types.ts';
import type { Instance, PreparedItem } from './common.ts';

/**
 * The one ring LabelMe and YOLO write for a region: through the centres of its boundary
 * pixels (as the OpenCV contours those tools make and read), holes spliced in. A region one
 * pixel thin traces to fewer than 3 points; its last point is repeated to make the polygon
 * readers demand, and as they include the boundary they still paint its pixels.
 */
export function centreKeyholeRing(p: PreparedItem, inst: Instance, tolerance: number): Ring {
  const ring = keyholeRing(traceComponent(p.labelling, inst.component, { convention: 'centre', tolerance }));
  while (ring.length < 3) ring.push(ring[ring.length - 1]);
  return ring;
}
