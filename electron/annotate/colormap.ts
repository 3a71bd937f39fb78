import { rgb } from 'd3-color';
import { interpolateCividis, interpolateTurbo, interpolateViridis } from 'd3-scale-chromatic';

/** Perceptual colormaps; cividis is the colour-vision-deficiency-safe choice. */
export const COLORMAPS = ['turbo', 'viridis', 'cividis'] as const;
export type ColormapName = (typeof COLORMAPS)[number];

const INTERPOLATORS: Record<ColormapName, (t: number) => string> = {
  turbo: interpolateTurbo,
  viridis: interpolateViridis,
  cividis: interpolateCividis,
};

const luts = new Map<ColormapName, Uint8Array>();

/** A 256-entry RGB lookup table, built once per colormap. */
export function colormapLut(name: ColormapName): Uint8Array {
  let lut = luts.get(name);
  if (!lut) {
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const c = rgb(INTERPOLATORS[name](i / 255));
      lut[i * 3] = c.r;
      lut[i * 3 + 1] = c.g;
      lut[i * 3 + 2] = c.b;
    }
    luts.set(name, lut);
  }
  return lut;
}

/** Maps values in [0, 1] (clamped) to RGB bytes. */
export function applyColormap(values: Float32Array, name: ColormapName = 'turbo'): Uint8Array {
  const lut = colormapLut(name);
  const out = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const k = (v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0) * 3;
    out[i * 3] = lut[k];
    out[i * 3 + 1] = lut[k + 1];
    out[i * 3 + 2] = lut[k + 2];
  }
  return out;
}

/** Alpha-blends an RGB heatmap over an RGB image of the same size. */
export function blendOverlay(base: Uint8Array, heat: Uint8Array, opacity: number): Uint8Array {
  if (base.length !== heat.length) throw new Error(`overlay size mismatch: ${base.length} vs ${heat.length} bytes`);
  const out = new Uint8Array(base.length);
  for (let i = 0; i < base.length; i++) out[i] = Math.round(base[i] * (1 - opacity) + heat[i] * opacity);
  return out;
}
