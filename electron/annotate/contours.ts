import { labelComponents, type Component, type Labelling } from './components.ts';
import { ringArea, simplifyRing } from './simplify.ts';
import { DEFAULT_TOLERANCE, type Mask, type PixelConvention, type Point, type RegionPolygon, type Ring } from './types.ts';

/*
 * Boundaries are traced along pixel edges ("cracks") with the region on the right, so outer
 * rings run clockwise on screen and holes anticlockwise. Where two region pixels touch only
 * at a corner the trace turns left, which keeps them in one ring: regions are 8-connected,
 * holes 4-connected, as the components are.
 */

export interface ContourOptions {
  convention?: PixelConvention;
  /** Douglas-Peucker tolerance in pixels (default DEFAULT_TOLERANCE); 0 keeps every corner. */
  tolerance?: number;
}

export interface TracedRegion {
  component: Component;
  polygon: RegionPolygon;
}

const E = 0;
const S = 1;
const W = 2;
/** Steps for E, S, W and N (3), in image coordinates. */
const DX = [1, 0, -1, 0];
const DY = [0, 1, 0, -1];

/** Every component of the mask with its outer ring and holes. */
export function traceMask(mask: Mask, options: ContourOptions = {}): TracedRegion[] {
  const labelling = labelComponents(mask);
  return labelling.components.map((component) => ({
    component,
    polygon: traceComponent(labelling, component, options),
  }));
}

/** One component's rings, in the given pixel convention, simplified. */
export function traceComponent(labelling: Labelling, component: Component, options: ContourOptions = {}): RegionPolygon {
  const convention = options.convention ?? 'corner';
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE[convention];
  const loops = traceLoops(labelling, component);
  let outer: Ring | undefined;
  const holes: Ring[] = [];
  for (const loop of loops) {
    const ring = convention === 'corner' ? loop.corners : pixelCentreRing(loop.pixels);
    const simplified = simplifyRing(ring, tolerance);
    if (loop.isOuter) outer = simplified;
    else holes.push(simplified);
  }
  if (!outer) throw new Error(`contours: component ${component.label} has no outer boundary`);
  return { outer, holes };
}

interface Loop {
  isOuter: boolean;
  /** Pixel-corner vertices where the boundary turns. */
  corners: Ring;
  /** The region pixel right of each boundary edge, in order. */
  pixels: Point[];
}

function traceLoops(labelling: Labelling, component: Component): Loop[] {
  const { bbox, label } = component;
  // A one-pixel frame of background around the crop keeps every edge inside it.
  const cw = bbox.width + 2;
  const ch = bbox.height + 2;
  const ox = bbox.x - 1;
  const oy = bbox.y - 1;
  const inside = new Uint8Array(cw * ch);
  for (let y = 0; y < bbox.height; y++) {
    const src = (bbox.y + y) * labelling.width + bbox.x;
    const dst = (y + 1) * cw + 1;
    for (let x = 0; x < bbox.width; x++) inside[dst + x] = labelling.labels[src + x] === label ? 1 : 0;
  }
  const at = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < cw && y < ch && inside[y * cw + x] === 1;
  const vw = cw + 1;
  const visited = new Uint8Array(vw * (ch + 1));
  // The region pixel right of the edge leaving vertex (x, y) in direction d, if that edge is a boundary.
  const edgePixel = (x: number, y: number, d: number): [number, number] | null => {
    switch (d) {
      case E:
        return at(x, y) && !at(x, y - 1) ? [x, y] : null;
      case S:
        return at(x - 1, y) && !at(x, y) ? [x - 1, y] : null;
      case W:
        return at(x - 1, y - 1) && !at(x - 1, y) ? [x - 1, y - 1] : null;
      default:
        return at(x, y - 1) && !at(x - 1, y - 1) ? [x, y - 1] : null;
    }
  };
  const loops: Loop[] = [];
  // Every ring has a top edge (heading E): the top of a region's first row, or the region
  // pixels just below a hole's last row.
  for (let sy = 0; sy < ch; sy++) {
    for (let sx = 0; sx < cw; sx++) {
      if (visited[sy * vw + sx] & (1 << E) || !edgePixel(sx, sy, E)) continue;
      const corners: Ring = [];
      const pixels: Point[] = [];
      let x = sx;
      let y = sy;
      let d = E;
      let prev = -1;
      for (;;) {
        const p = edgePixel(x, y, d) as [number, number];
        visited[y * vw + x] |= 1 << d;
        if (d !== prev) corners.push({ x: x + ox, y: y + oy });
        pixels.push({ x: p[0] + ox, y: p[1] + oy });
        const nx = x + DX[d];
        const ny = y + DY[d];
        x = nx;
        y = ny;
        prev = d;
        // Each (vertex, incoming direction) has one way on, so the walk is a cycle that ends
        // when it would retrace its first edge.
        d = nextDirection(edgePixel, x, y, d);
        if (visited[y * vw + x] & (1 << d)) break;
      }
      if (corners.length > 1 && prev === E) corners.shift();
      loops.push({ isOuter: ringArea(corners) > 0, corners, pixels });
    }
  }
  return loops;
}

function nextDirection(
  edgePixel: (x: number, y: number, d: number) => [number, number] | null,
  x: number,
  y: number,
  d: number,
): number {
  const left = (d + 3) % 4;
  if (edgePixel(x, y, left)) return left;
  if (edgePixel(x, y, d)) return d;
  return (d + 1) % 4;
}

/**
 * The ring through the centres of the boundary pixels, as OpenCV's findContours gives it:
 * repeated pixels dropped, and only the pixels where the step direction changes kept.
 */
function pixelCentreRing(pixels: Point[]): Ring {
  const seq: Point[] = [];
  for (const p of pixels) {
    const last = seq[seq.length - 1];
    if (!last || last.x !== p.x || last.y !== p.y) seq.push(p);
  }
  while (seq.length > 1 && seq[0].x === seq[seq.length - 1].x && seq[0].y === seq[seq.length - 1].y) seq.pop();
  if (seq.length < 3) return seq;
  const out: Ring = [];
  const n = seq.length;
  for (let i = 0; i < n; i++) {
    const a = seq[(i + n - 1) % n];
    const b = seq[i];
    const c = seq[(i + 1) % n];
    if (b.x - a.x !== c.x - b.x || b.y - a.y !== c.y - b.y) out.push(b);
  }
  return out;
}
