import type { Rng } from './rng.ts';

// Square float images (row-major, size x size) and the few operations textures are built from.

export type Field = Float32Array;

export function whiteNoise(n: number, rng: Rng): Field {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.next() * 2 - 1;
  return out;
}

function catmullRom(p0: number, p1: number, p2: number, p3: number, t: number): number {
  return p1 + 0.5 * t * (p2 - p0 + t * (2 * p0 - 5 * p1 + 4 * p2 - p3 + t * (3 * (p1 - p2) + p3 - p0)));
}

/**
 * Smooth random field with about `cells` features across the image: a random lattice
 * interpolated with Catmull-Rom splines, rows first then columns (separable, so cheap).
 */
export function valueNoise(size: number, cells: number, rng: Rng): Field {
  const g = Math.max(1, Math.round(cells));
  const lw = g + 3;
  const lattice = whiteNoise(lw * lw, rng);
  const step = g / size;
  const rows = new Float32Array(lw * size);
  for (let r = 0; r < lw; r++) {
    for (let x = 0; x < size; x++) {
      const gx = x * step, ix = Math.floor(gx), t = gx - ix, o = r * lw + ix;
      rows[r * size + x] = catmullRom(lattice[o], lattice[o + 1], lattice[o + 2], lattice[o + 3], t);
    }
  }
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const gy = y * step, iy = Math.floor(gy), t = gy - iy;
    const r0 = iy * size, r1 = r0 + size, r2 = r1 + size, r3 = r2 + size;
    for (let x = 0; x < size; x++) {
      out[y * size + x] = catmullRom(rows[r0 + x], rows[r1 + x], rows[r2 + x], rows[r3 + x], t);
    }
  }
  return out;
}

/** Fractal (fBm) noise: octaves of value noise, each twice as fine and `gain` times as strong. */
export function fbm(size: number, baseCells: number, octaves: number, gain: number, rng: Rng): Field {
  const out = new Float32Array(size * size);
  let amp = 1, cells = baseCells;
  for (let o = 0; o < octaves && cells <= size; o++) {
    const layer = valueNoise(size, cells, rng);
    for (let i = 0; i < out.length; i++) out[i] += amp * layer[i];
    amp *= gain;
    cells *= 2;
  }
  return out;
}

/** Running-sum box blur along rows (clamped edges); O(1) per pixel whatever the radius. */
export function boxBlurRows(src: Field, width: number, height: number, radius: number): Field {
  const r = Math.max(0, Math.round(radius));
  if (r === 0) return src.slice();
  const out = new Float32Array(src.length);
  const norm = 1 / (2 * r + 1);
  for (let y = 0; y < height; y++) {
    const o = y * width;
    let acc = 0;
    for (let k = -r; k <= r; k++) acc += src[o + Math.min(width - 1, Math.max(0, k))];
    for (let x = 0; x < width; x++) {
      out[o + x] = acc * norm;
      acc += src[o + Math.min(width - 1, x + r + 1)] - src[o + Math.max(0, x - r)];
    }
  }
  return out;
}

/** Running-sum box blur down columns, a whole row at a time so memory is read in order. */
export function boxBlurCols(src: Field, width: number, height: number, radius: number): Field {
  const r = Math.max(0, Math.round(radius));
  if (r === 0) return src.slice();
  const out = new Float32Array(src.length);
  const acc = new Float64Array(width);
  const norm = 1 / (2 * r + 1);
  const row = (y: number) => Math.min(height - 1, Math.max(0, y)) * width;
  for (let k = -r; k <= r; k++) {
    const o = row(k);
    for (let x = 0; x < width; x++) acc[x] += src[o + x];
  }
  for (let y = 0; y < height; y++) {
    const o = y * width, add = row(y + r + 1), sub = row(y - r);
    for (let x = 0; x < width; x++) {
      out[o + x] = acc[x] * norm;
      acc[x] += src[add + x] - src[sub + x];
    }
  }
  return out;
}

/** Two box passes each way: close enough to a Gaussian of sigma ~ radius * 0.8. */
export function blur(src: Field, size: number, radius: number): Field {
  let f = boxBlurRows(src, size, size, radius);
  f = boxBlurRows(f, size, size, radius);
  f = boxBlurCols(f, size, size, radius);
  return boxBlurCols(f, size, size, radius);
}

export function meanStd(f: ArrayLike<number>): { mean: number; std: number } {
  let s = 0, s2 = 0;
  for (let i = 0; i < f.length; i++) { s += f[i]; s2 += f[i] * f[i]; }
  const mean = s / f.length;
  return { mean, std: Math.sqrt(Math.max(0, s2 / f.length - mean * mean)) };
}

/** Rescales in place to zero mean and unit standard deviation. */
export function standardize(f: Field): Field {
  const { mean, std } = meanStd(f);
  const inv = std > 1e-12 ? 1 / std : 0;
  for (let i = 0; i < f.length; i++) f[i] = (f[i] - mean) * inv;
  return f;
}

/** Bilinear sample with clamped edges. */
export function sample(src: Field, width: number, height: number, x: number, y: number): number {
  const cx = Math.min(width - 1.001, Math.max(0, x)), cy = Math.min(height - 1.001, Math.max(0, y));
  const ix = Math.floor(cx), iy = Math.floor(cy), fx = cx - ix, fy = cy - iy;
  const o = iy * width + ix;
  const top = src[o] + (src[o + 1] - src[o]) * fx;
  const bottom = src[o + width] + (src[o + width + 1] - src[o + width]) * fx;
  return top + (bottom - top) * fy;
}

/**
 * Renders a field built along the x axis (e.g. streaks) at an angle: `build(side)` makes a
 * side x side canvas large enough to cover the rotated image.
 */
export function rotated(size: number, angle: number, build: (side: number) => Field): Field {
  const side = Math.ceil(size * Math.SQRT2) + 4;
  const canvas = build(side);
  const c = Math.cos(angle), s = Math.sin(angle), half = size / 2, mid = side / 2;
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const dy = y - half;
    for (let x = 0; x < size; x++) {
      const dx = x - half;
      out[y * size + x] = sample(canvas, side, side, mid + c * dx + s * dy, mid - s * dx + c * dy);
    }
  }
  return out;
}

export function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}
