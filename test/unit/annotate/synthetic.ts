import type { Mask, ScoreMap } from '../../../electron/annotate/types.ts';

/** Deterministic PRNG (mulberry32), so every test mask is the same on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A CAM-like map: a few smooth positive bumps (defects) and smaller negative ones inside them
 * (which become holes), plus low noise, min-max normalised to [0, 1].
 */
export function blobMap(width: number, height: number, seed: number, bumps = 5): ScoreMap {
  const r = rng(seed);
  const field = new Float64Array(width * height);
  const add = (cx: number, cy: number, sx: number, sy: number, amp: number): void => {
    const x0 = Math.max(0, Math.floor(cx - 4 * sx));
    const x1 = Math.min(width - 1, Math.ceil(cx + 4 * sx));
    const y0 = Math.max(0, Math.floor(cy - 4 * sy));
    const y1 = Math.min(height - 1, Math.ceil(cy + 4 * sy));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const u = (x - cx) / sx;
        const v = (y - cy) / sy;
        field[y * width + x] += amp * Math.exp(-0.5 * (u * u + v * v));
      }
    }
  };
  const scale = Math.min(width, height);
  for (let k = 0; k < bumps; k++) {
    const cx = r() * width;
    const cy = r() * height;
    const sx = scale * (0.03 + 0.06 * r());
    const sy = scale * (0.03 + 0.06 * r());
    add(cx, cy, sx, sy, 0.6 + 0.4 * r());
    if (k % 2 === 0) add(cx + (r() - 0.5) * sx, cy + (r() - 0.5) * sy, sx * 0.25, sy * 0.25, -0.7);
  }
  for (let i = 0; i < field.length; i++) field[i] += 0.03 * r();
  let min = Infinity;
  let max = -Infinity;
  for (const v of field) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (field[i] - min) / (max - min + 1e-12);
  return { width, height, data };
}

/** A binary mask of blobs with holes and several components. */
export function blobMask(width: number, height: number, seed: number, level = 0.45): Mask {
  const map = blobMap(width, height, seed);
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = map.data[i] >= level ? 1 : 0;
  return { width, height, data };
}

/** A mask from rows of text: '.' background, digits are mask values. */
export function maskFromRows(rows: string[]): Mask {
  const height = rows.length;
  const width = rows[0].length;
  const data = new Uint8Array(width * height);
  rows.forEach((row, y) => {
    for (let x = 0; x < width; x++) data[y * width + x] = row[x] === '.' ? 0 : Number(row[x]);
  });
  return { width, height, data };
}

/** Pixels whose values differ: cheaper to report than a deep equality of 262,144 values. */
export function differingPixels(a: Mask, b: Mask): number {
  if (a.width !== b.width || a.height !== b.height) return Math.max(a.data.length, b.data.length);
  let n = 0;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) n++;
  return n;
}
