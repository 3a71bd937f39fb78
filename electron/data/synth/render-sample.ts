import { applyDefect, DEFECT_KINDS, type DefectKind } from './defects.ts';
import { enclosingEllipse, fillEllipse, type Ellipse } from './ellipse.ts';
import { blur, meanStd } from './field.ts';
import { drawExposure, expose } from './imaging.ts';
import { addIrregularities } from './irregularities.ts';
import { hashSeed, Rng } from './rng.ts';
import { textureFamily } from './textures.ts';

export interface Sample {
  size: number;
  family: string;
  kind: DefectKind | null;
  /** 8-bit grey pixels, row-major. */
  image: Uint8Array;
  /** Exact defect pixels: 255 defect, 0 background. */
  mask: Uint8Array;
  /** DAGM-style weak label: the filled ellipse around the defect (255), or all 0. */
  weakLabel: Uint8Array;
  ellipse: Ellipse | null;
}

/** The central side x side window of a square field: statistics need no more than this. */
function centre(f: Float32Array, size: number, side: number): Float32Array {
  if (side >= size) return f;
  const o = Math.floor((size - side) / 2), out = new Float32Array(side * side);
  for (let y = 0; y < side; y++) out.set(f.subarray((o + y) * size + o, (o + y) * size + o + side), y * side);
  return out;
}

/** Std of the pixel-scale detail: what a thin line has to stand out against. */
function fineDetail(texture: Float32Array, size: number, scale: number): number {
  const side = Math.min(size, 256), f = centre(texture, size, side);
  const smooth = blur(f, side, Math.max(1, Math.round(5 * scale)));
  const diff = new Float32Array(f.length);
  for (let i = 0; i < diff.length; i++) diff[i] = f[i] - smooth[i];
  return meanStd(diff).std;
}

/** Std of the local mean over about `radius` px, measured on 4 x 4 block means (it is smooth anyway). */
function broadVariation(texture: Float32Array, size: number, radius: number): number {
  const n = Math.floor(size / 4), blocks = new Float32Array(n * n);
  for (let y = 0; y < n * 4; y++) {
    for (let x = 0; x < n * 4; x++) blocks[(y >> 2) * n + (x >> 2)] += texture[y * size + x] / 16;
  }
  return meanStd(blur(blocks, n, Math.max(1, radius / 8))).std;
}

/**
 * Renders one grey surface image of a texture family, with one defect (of `defect` kind, or a
 * random kind when `true`) or none. Pure and deterministic: the same arguments give the same bytes.
 */
export function renderSample(family: string, seed: number, size = 512, defect: boolean | DefectKind = true): Sample {
  const fam = textureFamily(family);
  const scale = size / 512;
  const rng = new Rng(seed);
  const params = fam.draw(rng.fork('params'), scale);
  const textureSeed = hashSeed(seed, 'texture');
  const texture = fam.render(size, params, textureSeed);
  const exposure = drawExposure(rng.fork('exposure'));
  const noiseInTexture = exposure.noise / exposure.contrast;
  const fine = Math.hypot(fineDetail(texture, size, scale), noiseInTexture);
  addIrregularities(texture, size, scale, fine, rng.fork('irregularities'));

  const kind: DefectKind | null = defect === true ? rng.fork('kind').pick(DEFECT_KINDS) : defect === false ? null : defect;
  const drawn = kind ? applyDefect(kind, {
    size, scale, texture, fine, rng: rng.fork('defect'), grain: fam.grain?.(params),
    broad: (radius) => broadVariation(texture, size, radius),
    disturbed: () => fam.render(size, fam.perturb(params, rng.fork('perturb')), textureSeed),
    detailOf: (f) => fineDetail(f, size, scale),
  }) : null;
  const image = expose(texture, size, exposure, rng.fork('noise'));
  const mask = new Uint8Array(size * size), weakLabel = new Uint8Array(size * size);
  let ellipse: Ellipse | null = null;
  if (drawn) {
    if (!drawn.mask.includes(1)) throw new Error(`renderSample: ${kind} on ${family} (seed ${seed}) left no defect pixels`);
    for (let i = 0; i < mask.length; i++) mask[i] = drawn.mask[i] * 255;
    ellipse = enclosingEllipse(drawn.footprint, size, 4 * scale, 10 * scale);
    if (ellipse) fillEllipse(weakLabel, size, ellipse);
  }
  return { size, family, kind, image, mask, weakLabel, ellipse };
}
