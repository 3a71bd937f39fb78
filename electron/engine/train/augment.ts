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

/**
 * A random flip/rotation/photometric jitter of an HWC image in [0, 1], drawn from `seed`
 * alone, so a resumed run augments exactly as the uninterrupted one would.
 */
export function augment(data: Float32Array, height: number, width: number, channels: number, seed: number, opts: AugmentOptions): Float32Array {
  const rng = new Rng(seed);
  const flipX = opts.flips && rng.next() < 0.5;
  const flipY = opts.flips && rng.next() < 0.5;
  const drawn = opts.rot90 ? rng.int(0, 3) : 0;
  // A quarter turn would swap a non-square image's sides; half turns keep them.
  const turns = height === width ? drawn : drawn & 2;
  const size = width;
  const brightness = rng.uniform(-opts.brightness, opts.brightness);
  const contrast = 1 + rng.uniform(-opts.contrast, opts.contrast);
  let mean = 0;
  for (let i = 0; i < data.length; i++) mean += data[i];
  mean /= data.length;
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sx = flipX ? width - 1 - x : x;
      let sy = flipY ? height - 1 - y : y;
      if (turns === 2) [sx, sy] = [width - 1 - sx, height - 1 - sy];
      else for (let t = 0; t < turns; t++) [sx, sy] = [sy, size - 1 - sx];
      for (let c = 0; c < channels; c++) {
        const v = (data[(sy * width + sx) * channels + c] - mean) * contrast + mean + brightness;
        out[(y * width + x) * channels + c] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
  }
  return out;
}
