import { blur, meanStd } from '../../data/synth/field.ts';
import { Rng } from '../../data/synth/rng.ts';
import { newStroke, randomHarmonics, stampBlob, stampPath, type Point, type Stroke } from '../../data/synth/shapes.ts';

export const PASTE_SHAPES = ['line', 'blob'] as const;
export const PASTE_FILLS = ['shift', 'foreign', 'blur', 'rescale'] as const;

export interface PastedDefect {
  /** The image with the defects drawn in, HWC in [0, 1]. */
  pixels: Float32Array;
  /** 1 where a defect covers the pixel at least half, row-major size x size. */
  mask: Uint8Array;
  /** What was drawn, one entry per defect: shape and fill. */
  kinds: string[];
}

/** A wandering polyline, 1-4 px wide and 3-35 % of the side long: scratches, cracks, fibres. */
function line(rng: Rng, size: number): Stroke {
  const stroke = newStroke(size);
  let x = rng.uniform(0, size), y = rng.uniform(0, size), angle = rng.uniform(0, Math.PI * 2);
  const length = rng.uniform(0.03, 0.35) * size;
  const segments = rng.int(2, 5);
  const pts: Point[] = [{ x, y }];
  for (let i = 0; i < segments; i++) {
    angle += rng.normal() * 0.35;
    x += (Math.cos(angle) * length) / segments;
    y += (Math.sin(angle) * length) / segments;
    pts.push({ x, y });
  }
  const halfWidth = rng.uniform(0.5, 2);
  stampPath(stroke, size, pts, () => halfWidth, () => 1);
  return stroke;
}

/** An irregular blob of 1-12 % of the side in radius: spots, pits, stains, dents. */
function blob(rng: Rng, size: number): Stroke {
  const stroke = newStroke(size);
  const radius = rng.uniform(0.01, 0.12) * size;
  stampBlob(stroke, size, {
    cx: rng.uniform(0, size), cy: rng.uniform(0, size), radius, aspect: rng.uniform(1, 3), angle: rng.uniform(0, Math.PI),
    edge: rng.uniform(0, 0.3) * radius, harmonics: randomHarmonics(rng, 0.3),
  });
  return stroke;
}

/** The same surface shifted and (if square) turned: texture that does not belong at that place. */
function foreign(texture: Float32Array, size: number, rng: Rng): Float32Array {
  const turns = rng.int(1, 3), dx = rng.int(0, size - 1), dy = rng.int(0, size - 1);
  const out = new Float32Array(texture.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sx = (x + dx) % size, sy = (y + dy) % size;
      for (let t = 0; t < turns; t++) [sx, sy] = [sy, size - 1 - sx];
      out[y * size + x] = texture[sy * size + sx];
    }
  }
  return out;
}

/**
 * The surface resampled about (cx, cy) at `scale` times its frequency (2: twice as fine, 0.5:
 * twice as coarse), wrapping at the borders, bilinear. Re-worked, polished or stretched material
 * keeps its grey levels and changes its grain; no other fill teaches that.
 */
export function rescaledSurface(texture: Float32Array, size: number, scale: number, cx: number, cy: number): Float32Array {
  const out = new Float32Array(texture.length);
  const wrap = (v: number) => ((v % size) + size) % size;
  for (let y = 0; y < size; y++) {
    const sy = wrap(cy + (y - cy) * scale), y0 = Math.floor(sy), ty = sy - y0, y1 = (y0 + 1) % size;
    for (let x = 0; x < size; x++) {
      const sx = wrap(cx + (x - cx) * scale), x0 = Math.floor(sx), tx = sx - x0, x1 = (x0 + 1) % size;
      const top = texture[y0 * size + x0] * (1 - tx) + texture[y0 * size + x1] * tx;
      const bottom = texture[y1 * size + x0] * (1 - tx) + texture[y1 * size + x1] * tx;
      out[y * size + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}

/**
 * Draws one to three synthetic defects onto an OK image: lines or blobs, filled with an
 * intensity shift of 1-4 image stds (plus noise), a displaced copy of the surface, a blur of
 * it, or the surface at 1.5-3 times finer or coarser grain. Contrasts are in units of the
 * image's own spread, so the same recipe fits any material; none is tuned to one dataset. The
 * network learns "something local that does not belong here" from exact masks that no human
 * drew. Deterministic for (pixels, seed).
 */
export function pasteDefect(pixels: Float32Array, size: number, channels: number, seed: number): PastedDefect {
  const rng = new Rng(seed);
  const grey = new Float32Array(size * size);
  for (let i = 0; i < grey.length; i++) {
    let v = 0;
    for (let c = 0; c < channels; c++) v += pixels[i * channels + c];
    grey[i] = v / channels;
  }
  const { mean, std } = meanStd(grey);
  const spread = Math.max(std, 1e-3);
  const texture = grey.map((v) => (v - mean) / spread);
  const out = Float32Array.from(texture);
  const mask = new Uint8Array(size * size);
  const kinds: string[] = [];
  const count = rng.int(1, 3);
  for (let d = 0; d < count; d++) {
    const shape = rng.pick(PASTE_SHAPES);
    const stroke = shape === 'line' ? line(rng, size) : blob(rng, size);
    if (!stroke.cover.some((v) => v >= 0.5)) continue;
    const fill = rng.pick(PASTE_FILLS);
    let source: Float32Array;
    if (fill === 'shift') {
      const shift = rng.sign() * rng.uniform(1, 4), noise = rng.uniform(0, 1);
      source = out.map((v) => v + shift + noise * rng.normal());
    } else if (fill === 'foreign') {
      const gain = rng.uniform(0.5, 2), offset = rng.uniform(-1, 1);
      source = foreign(texture, size, rng).map((v) => v * gain + offset);
    } else if (fill === 'blur') {
      const offset = rng.uniform(-1.5, 1.5);
      source = blur(out, size, rng.int(2, 6)).map((v) => v + offset);
    } else {
      const factor = rng.uniform(1.5, 3), scale = rng.sign() < 0 ? factor : 1 / factor;
      const resampled = rescaledSurface(texture, size, scale, rng.uniform(0, size), rng.uniform(0, size));
      // Interpolating a coarser copy smooths it; matching the spread keeps the grain the only cue.
      const { mean: m, std: s } = meanStd(resampled);
      const gain = rng.uniform(0.7, 1.4) / Math.max(s, 1e-3), offset = rng.uniform(-0.5, 0.5);
      source = resampled.map((v) => (v - m) * gain + offset);
    }
    for (let i = 0; i < out.length; i++) {
      const a = stroke.alpha[i];
      if (a > 0) out[i] = out[i] * (1 - a) + source[i] * a;
      if (stroke.cover[i] >= 0.5) mask[i] = 1;
    }
    kinds.push(`${shape}/${fill}`);
  }
  if (kinds.length === 0) return pasteDefect(pixels, size, channels, seed + 1);
  const result = Float32Array.from(pixels);
  for (let i = 0; i < grey.length; i++) {
    const delta = (out[i] - texture[i]) * spread;
    if (delta === 0) continue;
    for (let c = 0; c < channels; c++) {
      const v = result[i * channels + c] + delta;
      result[i * channels + c] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return { pixels: result, mask, kinds };
}

/**
 * A height x width mask on a grid of cells (e.g. layer4's, one cell per 32 px): 1 where any
 * defect pixel falls in the cell, row-major rows x cols.
 */
export function maskOnGrid(mask: Uint8Array, height: number, width: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let y = 0; y < height; y++) {
    const cy = Math.min(rows - 1, Math.floor((y * rows) / height));
    for (let x = 0; x < width; x++) {
      if (mask[y * width + x]) out[cy * cols + Math.min(cols - 1, Math.floor((x * cols) / width))] = 1;
    }
  }
  return out;
}
