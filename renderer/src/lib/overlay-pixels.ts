import { colormapLut, type ColormapName } from '../../../electron/annotate/colormap.ts';
import type { Mask, ScoreMap } from '../../../electron/annotate/types.ts';

/** RGBA bytes of a map through a colormap, fully opaque (the viewer applies the opacity). */
export function heatmapRgba(map: ScoreMap, colormap: ColormapName): Uint8ClampedArray<ArrayBuffer> {
  const lut = colormapLut(colormap);
  const d = map.data;
  const out = new Uint8ClampedArray(d.length * 4);
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    const k = (v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0) * 3;
    const o = i * 4;
    out[o] = lut[k];
    out[o + 1] = lut[k + 1];
    out[o + 2] = lut[k + 2];
    out[o + 3] = 255;
  }
  return out;
}

/** RGBA bytes of a mask's light fill: `rgb` at `alpha` on foreground pixels, transparent elsewhere. */
export function maskFillRgba(mask: Mask, rgb: readonly [number, number, number], alpha: number): Uint8ClampedArray<ArrayBuffer> {
  const d = mask.data;
  const out = new Uint8ClampedArray(d.length * 4);
  const a = Math.round(alpha * 255);
  for (let i = 0; i < d.length; i++) {
    if (d[i] === 0) continue;
    const o = i * 4;
    out[o] = rgb[0];
    out[o + 1] = rgb[1];
    out[o + 2] = rgb[2];
    out[o + 3] = a;
  }
  return out;
}

/** CSS colour of a colormap's value at t in [0, 1], for the colour bar. */
export function colormapCss(colormap: ColormapName, t: number): string {
  const lut = colormapLut(colormap);
  const k = Math.round(Math.min(1, Math.max(0, t)) * 255) * 3;
  return `rgb(${lut[k]}, ${lut[k + 1]}, ${lut[k + 2]})`;
}

/**
 * The mask colour: magenta is far from every supported colormap's hot end (turbo's dark red,
 * viridis' and cividis' yellow) and from its cold end, so the outline never blends into the heat.
 */
export const MASK_RGB: readonly [number, number, number] = [255, 43, 214];
