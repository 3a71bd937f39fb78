import type { Mask } from '../../../electron/annotate/types.ts';

export interface BrushPoint {
  x: number;
  y: number;
}

/** Sets every pixel whose centre lies within `radius` of (cx, cy) to `value`. */
export function stampDisc(mask: Mask, cx: number, cy: number, radius: number, value: 0 | 1): void {
  const { width, height, data } = mask;
  const r2 = radius * radius;
  const y0 = Math.max(0, Math.floor(cy - radius));
  const y1 = Math.min(height - 1, Math.ceil(cy + radius));
  const x0 = Math.max(0, Math.floor(cx - radius));
  const x1 = Math.min(width - 1, Math.ceil(cx + radius));
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      if (dx * dx + dy * dy <= r2) data[y * width + x] = value;
    }
  }
}

/**
 * Paints a stroke segment from `from` to `to` (image coordinates) with a round brush,
 * stamping often enough that fast pointer moves leave no gaps.
 */
export function paintSegment(mask: Mask, from: BrushPoint, to: BrushPoint, radius: number, value: 0 | 1): void {
  const r = Math.max(0.5, radius);
  const dist = Math.hypot(to.x - from.x, to.y - from.y);
  const steps = Math.max(1, Math.ceil(dist / Math.max(0.5, r / 2)));
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    stampDisc(mask, from.x + (to.x - from.x) * t, from.y + (to.y - from.y) * t, r, value);
  }
}
