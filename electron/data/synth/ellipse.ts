/** A rotated ellipse: centre, semi-axes (a along `angle`, b across) in pixels. */
export interface Ellipse {
  cx: number;
  cy: number;
  a: number;
  b: number;
  angle: number;
}

/**
 * The DAGM-style weak label: an ellipse aligned with the defect's principal axis that encloses
 * every defect pixel, plus a margin, and never thinner than `minSemiAxis` (DAGM draws even hairline
 * scratches as fat ellipses).
 */
export function enclosingEllipse(mask: Uint8Array, size: number, margin: number, minSemiAxis: number): Ellipse | null {
  let n = 0, sx = 0, sy = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) if (mask[y * size + x]) { n++; sx += x; sy += y; }
  }
  if (n === 0) return null;
  const mx = sx / n, my = sy / n;
  let cxx = 0, cyy = 0, cxy = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!mask[y * size + x]) continue;
      const dx = x - mx, dy = y - my;
      cxx += dx * dx; cyy += dy * dy; cxy += dx * dy;
    }
  }
  const angle = 0.5 * Math.atan2(2 * cxy, cxx - cyy);
  const c = Math.cos(angle), s = Math.sin(angle);
  let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!mask[y * size + x]) continue;
      const u = (x - mx) * c + (y - my) * s, v = -(x - mx) * s + (y - my) * c;
      if (u < u0) u0 = u;
      if (u > u1) u1 = u;
      if (v < v0) v0 = v;
      if (v > v1) v1 = v;
    }
  }
  const uc = (u0 + u1) / 2, vc = (v0 + v1) / 2;
  const halfU = Math.max(0.5, (u1 - u0) / 2 + 0.5), halfV = Math.max(0.5, (v1 - v0) / 2 + 0.5);
  // Scale the extents' ellipse until it holds every pixel (at most sqrt(2): the box's corners).
  let scale = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!mask[y * size + x]) continue;
      const u = (x - mx) * c + (y - my) * s - uc, v = -(x - mx) * s + (y - my) * c - vc;
      const r = (u / halfU) ** 2 + (v / halfV) ** 2;
      if (r > scale) scale = r;
    }
  }
  scale = Math.sqrt(scale) + 1e-6;
  return {
    cx: mx + uc * c - vc * s,
    cy: my + uc * s + vc * c,
    a: Math.max(minSemiAxis, halfU * scale + margin),
    b: Math.max(minSemiAxis, halfV * scale + margin),
    angle,
  };
}

/** Fills the ellipse (pixel centres inside) with `value`; clipped to the image. */
export function fillEllipse(out: Uint8Array, size: number, e: Ellipse, value = 255): void {
  const c = Math.cos(e.angle), s = Math.sin(e.angle);
  const reach = Math.ceil(Math.max(e.a, e.b)) + 1;
  const x0 = Math.max(0, Math.floor(e.cx - reach)), x1 = Math.min(size - 1, Math.ceil(e.cx + reach));
  const y0 = Math.max(0, Math.floor(e.cy - reach)), y1 = Math.min(size - 1, Math.ceil(e.cy + reach));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x - e.cx, dy = y - e.cy;
      const u = dx * c + dy * s, v = -dx * s + dy * c;
      if ((u / e.a) ** 2 + (v / e.b) ** 2 <= 1) out[y * size + x] = value;
    }
  }
}
