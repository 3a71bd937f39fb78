import { Rng } from '../../data/synth/rng.ts';

export interface AugmentOptions {
  flips: boolean;
  /** Rotations by multiples of 90 degrees; a non-square input turns by 180 degrees only. */
  rot90: boolean;
  /** Additive brightness jitter, +-value, on [0, 1] pixels. */
  brightness: number;
  /** Multiplicative contrast jitter around the image mean, 1 +- value. */
  contrast: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = { flips: true, rot90: true, brightness: 0.1, contrast: 0.2 };

/** The geometric part of an augmentation: flips, then turns (half turns only on a non-square image). */
interface Geometry {
  flipX: boolean;
  flipY: boolean;
  turns: number;
}

/** Draws the geometry first from the seed's stream, so a mask can replay it without the photometric draws. */
function drawGeometry(rng: Rng, height: number, width: number, opts: AugmentOptions): Geometry {
  const flipX = opts.flips && rng.next() < 0.5;
  const flipY = opts.flips && rng.next() < 0.5;
  const drawn = opts.rot90 ? rng.int(0, 3) : 0;
  // A quarter turn would swap a non-square image's sides; half turns keep them.
  return { flipX, flipY, turns: height === width ? drawn : drawn & 2 };
}

/** Row-major index of the source pixel that lands at (y, x). */
function sourceIndex(g: Geometry, y: number, x: number, height: number, width: number): number {
  let sx = g.flipX ? width - 1 - x : x;
  let sy = g.flipY ? height - 1 - y : y;
  if (g.turns === 2) [sx, sy] = [width - 1 - sx, height - 1 - sy];
  else for (let t = 0; t < g.turns; t++) [sx, sy] = [sy, width - 1 - sx];
  return sy * width + sx;
}

/**
 * A random flip/rotation/photometric jitter of an HWC image in [0, 1], drawn from `seed`
 * alone, so a resumed run augments exactly as the uninterrupted one would.
 */
export function augment(data: Float32Array, height: number, width: number, channels: number, seed: number, opts: AugmentOptions): Float32Array {
  const rng = new Rng(seed);
  const geometry = drawGeometry(rng, height, width, opts);
  const brightness = rng.uniform(-opts.brightness, opts.brightness);
  const contrast = 1 + rng.uniform(-opts.contrast, opts.contrast);
  let mean = 0;
  for (let i = 0; i < data.length; i++) mean += data[i];
  mean /= data.length;
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const source = sourceIndex(geometry, y, x, height, width);
      for (let c = 0; c < channels; c++) {
        const v = (data[source * channels + c] - mean) * contrast + mean + brightness;
        out[(y * width + x) * channels + c] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
  }
  return out;
}

/** A height x width mask moved exactly as augment(…, seed, opts) moves the image's pixels. */
export function augmentMask(mask: Uint8Array, height: number, width: number, seed: number, opts: AugmentOptions): Uint8Array {
  const geometry = drawGeometry(new Rng(seed), height, width, opts);
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = mask[sourceIndex(geometry, y, x, height, width)];
  return out;
}
