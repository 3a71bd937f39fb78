import { standardize, valueNoise, type Field } from './field.ts';
import { Rng } from './rng.ts';

/**
 * Sensor noise draws from a fixed table of normal deviates, one 32-bit draw giving two: a
 * Box-Muller per pixel was a fifth of the whole generator's time.
 */
const NOISE_TABLE_BITS = 16;
const NOISE_TABLE = (() => {
  const rng = new Rng(0x5eed);
  return Float32Array.from({ length: 1 << NOISE_TABLE_BITS }, () => rng.normal());
})();

/** How the camera saw the surface: exposure, uneven light, and sensor noise. */
export interface Exposure {
  /** Mean grey level in [0, 1]. */
  level: number;
  /** Grey-level std of the texture. */
  contrast: number;
  /** Std of the additive sensor noise, in grey levels of [0, 1]. */
  noise: number;
  /** Std of per-row offsets (line-scan banding). */
  rowNoise: number;
  /** Linear light gradient: relative change across the image, and its direction. */
  gradient: number;
  gradientAngle: number;
  /** Darkening at the corners relative to the centre. */
  vignette: number;
  /** Broad, faint unevenness of reflectance (relative amplitude). */
  mottle: number;
  mottleCells: number;
}

export function drawExposure(rng: Rng): Exposure {
  const level = rng.uniform(0.3, 0.65);
  // Eight texture stds either way stay inside the sensor's range: a line defect stands up to
  // about five beyond the texture, and clipping would flatten it.
  const contrast = Math.min(rng.uniform(0.05, 0.13), (Math.min(level, 1 - level) - 0.04) / 8);
  return {
    level, contrast, noise: rng.uniform(0.003, 0.018),
    rowNoise: rng.chance(0.4) ? rng.uniform(0.001, 0.004) : 0, gradient: rng.uniform(-0.3, 0.3),
    gradientAngle: rng.uniform(0, Math.PI * 2), vignette: rng.uniform(0, 0.2),
    mottle: rng.chance(0.7) ? rng.uniform(0.015, 0.05) : 0, mottleCells: rng.uniform(1.5, 3),
  };
}

/** Turns a standardised texture into 8-bit grey pixels under the given exposure. */
export function expose(texture: Field, size: number, e: Exposure, rng: Rng): Uint8Array {
  const mottle = e.mottle > 0 ? standardize(valueNoise(size, e.mottleCells, rng)) : undefined;
  const gx = Math.cos(e.gradientAngle) / size, gy = Math.sin(e.gradientAngle) / size, half = size / 2;
  const out = new Uint8Array(size * size);
  const mask = (1 << NOISE_TABLE_BITS) - 1;
  let bits = 0;
  for (let y = 0; y < size; y++) {
    const row = e.rowNoise > 0 ? e.rowNoise * rng.normal() : 0;
    for (let x = 0; x < size; x++) {
      const k = y * size + x;
      const dx = x - half, dy = y - half;
      let light = (1 + e.gradient * (dx * gx + dy * gy)) * (1 - (e.vignette * (dx * dx + dy * dy)) / (2 * half * half));
      if (mottle) light *= 1 + e.mottle * mottle[k];
      if ((k & 1) === 0) bits = (rng.next() * 4294967296) >>> 0;
      const deviate = NOISE_TABLE[(k & 1) === 0 ? bits & mask : bits >>> NOISE_TABLE_BITS];
      const v = (e.level + e.contrast * texture[k]) * light + row + e.noise * deviate;
      out[k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return out;
}
