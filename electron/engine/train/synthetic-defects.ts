import { applyDefect, DEFECT_KINDS, type DefectKind } from '../../data/synth/defects.ts';
import { meanStd } from '../../data/synth/field.ts';
import { broadVariation, fineDetail } from '../../data/synth/render-sample.ts';
import { Rng } from '../../data/synth/rng.ts';

export interface PastedDefect {
  /** The image with the defect drawn in, HWC in [0, 1]. */
  pixels: Float32Array;
  /** 1 where the defect covers the pixel at least half, row-major size x size. */
  mask: Uint8Array;
  kind: DefectKind;
}

/** A square field turned by 90 degrees: the same surface, its structure in another direction. */
function turned(f: Float32Array, size: number): Float32Array {
  const out = new Float32Array(f.length);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[y * size + x] = f[x * size + (size - 1 - y)];
  return out;
}

/**
 * Draws one synthetic defect (the generator's scratches, cracks, spots, stains and texture
 * disturbances) onto a real OK image, sized and contrasted against that image's own texture,
 * so the network learns "something local that does not belong here" with an exact mask and
 * no human label. The contrast is scaled by a random gain of 1 to `maxGain`, so the pretext
 * spans defects from barely visible to obvious. Deterministic for (pixels, seed).
 */
export function pasteDefect(pixels: Float32Array, size: number, channels: number, seed: number, maxGain = 2.5): PastedDefect {
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
  const before = Float32Array.from(texture);
  const scale = size / 512;
  const gain = rng.uniform(1, maxGain);
  const kind = rng.pick(DEFECT_KINDS);
  const fine = fineDetail(texture, size, scale);
  const { mask } = applyDefect(kind, {
    size, scale, texture, rng: rng.fork('defect'), grain: undefined,
    fine: gain * fine,
    broad: (radius) => gain * broadVariation(before, size, radius),
    disturbed: () => turned(before, size),
    detailOf: (f) => fineDetail(f, size, scale),
  });
  const out = Float32Array.from(pixels);
  for (let i = 0; i < grey.length; i++) {
    const delta = (texture[i] - before[i]) * spread;
    if (delta === 0) continue;
    for (let c = 0; c < channels; c++) {
      const v = out[i * channels + c] + delta;
      out[i * channels + c] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return { pixels: out, mask, kind };
}

/**
 * The mask on a grid of cells (e.g. layer4's, one cell per 32 px): 1 where any defect pixel
 * falls in the cell, row-major cells x cells.
 */
export function maskOnGrid(mask: Uint8Array, size: number, cells: number): Float32Array {
  const out = new Float32Array(cells * cells);
  for (let y = 0; y < size; y++) {
    const cy = Math.min(cells - 1, Math.floor((y * cells) / size));
    for (let x = 0; x < size; x++) {
      if (mask[y * size + x]) out[cy * cells + Math.min(cells - 1, Math.floor((x * cells) / size))] = 1;
    }
  }
  return out;
}
