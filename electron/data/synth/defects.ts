import type { Field } from './field.ts';
import type { Rng } from './rng.ts';
import { bezier, newStroke, randomHarmonics, stampBlob, stampPath, type Point, type Stroke } from './shapes.ts';

export const DEFECT_KINDS = ['scratch', 'crack', 'spot', 'stain', 'disturbance'] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];

/**
 * What a defect needs to know about the surface it lands on. Amplitudes are in units of the
 * texture: `texture` is standardised (std 1); `fine` is the std of its pixel-scale detail plus
 * sensor noise, the yardstick for thin defects, which the eye sees by their length, not their depth.
 */
export interface DefectContext {
  size: number;
  scale: number;
  rng: Rng;
  texture: Field;
  fine: number;
  /** Std of the texture's local mean over about `radius` pixels: what a blob that size must stand out against. */
  broad: (radius: number) => number;
  /** Grain direction of the texture, if it has one. */
  grain: number | undefined;
  /** The same surface rendered with perturbed parameters (orientation, frequency...). */
  disturbed: () => Field;
  /** Std of a field's pixel-scale detail (the texture part of `fine`). */
  detailOf: (f: Field) => number;
}

const TAU = Math.PI * 2;

/** Thin defects stay at least this wide (px) however small the image, so they cover whole pixels. */
const MIN_HALF_WIDTH = 0.6;

/** Centre for a shape of the given reach, kept inside the image. */
function centre(ctx: DefectContext, reach: number): Point {
  const m = Math.min(ctx.size / 2 - 1, Math.max(8 * ctx.scale, reach));
  return { x: ctx.rng.uniform(m, ctx.size - m), y: ctx.rng.uniform(m, ctx.size - m) };
}

/** Slow random modulation along a path, so a line fades and strengthens as real ones do. */
function modulation(rng: Rng, lo: number): (t: number) => number {
  const f1 = rng.uniform(1, 3), f2 = rng.uniform(3, 7), p1 = rng.uniform(0, TAU), p2 = rng.uniform(0, TAU);
  return (t) => {
    const wave = 0.5 + 0.3 * Math.sin(f1 * TAU * t + p1) + 0.2 * Math.sin(f2 * TAU * t + p2);
    const taper = Math.min(1, t / 0.08, (1 - t) / 0.08);
    return taper * (lo + (1 - lo) * wave);
  };
}

function lineAngle(ctx: DefectContext): number {
  if (ctx.grain === undefined) return ctx.rng.uniform(0, Math.PI);
  // Along the grain a scratch would be indistinguishable from the texture itself.
  return ctx.grain + ctx.rng.sign() * ctx.rng.uniform(0.45, Math.PI / 2);
}

function scratch(ctx: DefectContext): Stroke {
  const { rng, size, scale } = ctx;
  const length = rng.uniform(0.2, 0.6) * size;
  const angle = lineAngle(ctx);
  const c = centre(ctx, length / 2 + 4);
  const dx = (Math.cos(angle) * length) / 2, dy = (Math.sin(angle) * length) / 2;
  const bend = rng.uniform(-0.12, 0.12) * length;
  const pts = bezier(
    { x: c.x - dx, y: c.y - dy },
    { x: c.x - Math.sin(angle) * bend, y: c.y + Math.cos(angle) * bend },
    { x: c.x + dx, y: c.y + dy },
  );
  const stroke = newStroke(size);
  const hw = Math.max(MIN_HALF_WIDTH, rng.uniform(0.8, 1.8) * scale);
  stampPath(stroke, size, pts, () => hw, modulation(rng, 0.6));
  // Set by measurement: at this strength the 99.5th percentile of fine detail inside the weak
  // label is about 3x that outside, as on DAGM Class 8 (models/research/contrast.py).
  const amp = rng.sign() * rng.uniform(10, 17) * ctx.fine;
  for (let i = 0; i < stroke.alpha.length; i++) ctx.texture[i] += amp * stroke.alpha[i];
  return stroke;
}

/** A crack: a wandering dark trunk that forks into thinner branches. */
function crack(ctx: DefectContext): Stroke {
  const { rng, size, scale } = ctx;
  const stroke = newStroke(size);
  const trunk = rng.uniform(0.15, 0.4) * size;
  const start = centre(ctx, trunk / 2);
  const grow = (from: Point, heading: number, length: number, width: number, depth: number): void => {
    const pts: Point[] = [from];
    let h = heading, drift = rng.uniform(-0.02, 0.02);
    const step = 2 * scale;
    for (let s = 0; s < length; s += step) {
      drift += rng.normal() * 0.01;
      h += drift + rng.normal() * 0.09;
      const last = pts[pts.length - 1];
      const next = { x: last.x + Math.cos(h) * step, y: last.y + Math.sin(h) * step };
      if (next.x < 2 || next.y < 2 || next.x > size - 3 || next.y > size - 3) break;
      pts.push(next);
      if (depth < 2 && rng.chance(0.025)) {
        grow(next, h + rng.sign() * rng.uniform(0.4, 1.1), (length - s) * rng.uniform(0.3, 0.6), width * 0.7, depth + 1);
      }
    }
    if (pts.length > 1) stampPath(stroke, size, pts, (t) => Math.max(MIN_HALF_WIDTH, width * (1 - 0.6 * t)), modulation(rng, 0.6));
  };
  const heading = rng.uniform(0, Math.PI * 2);
  const width = rng.uniform(0.7, 1.5) * scale;
  grow(start, heading, trunk / 2, width, 0);
  grow(start, heading + Math.PI, trunk / 2, width, 0);
  const amp = -rng.uniform(11, 17) * ctx.fine;
  for (let i = 0; i < stroke.alpha.length; i++) ctx.texture[i] += amp * stroke.alpha[i];
  return stroke;
}

/** Contrast of a blob in texture stds: a multiple of the local-mean variation at its scale, within sane bounds. */
function blobContrast(ctx: DefectContext, radius: number, lo: number, hi: number): number {
  // Against a busy pattern the eye needs a real shift, however flat the pattern's local mean is.
  const floor = ctx.rng.uniform(0.8, 1.2);
  return Math.min(2, Math.max(floor, ctx.rng.uniform(lo, hi) * ctx.broad(radius)));
}

function areaRadius(size: number, area: number): number {
  return Math.sqrt((area * size * size) / Math.PI);
}

/** A spot or pit: a compact blob, darker or lighter, its texture partly smoothed away. */
function spot(ctx: DefectContext): Stroke {
  const { rng, size } = ctx;
  const radius = areaRadius(size, rng.logUniform(0.005, 0.035));
  const aspect = rng.uniform(1, 1.6);
  const c = centre(ctx, radius * Math.sqrt(aspect) * 1.2);
  const stroke = newStroke(size);
  stampBlob(stroke, size, {
    cx: c.x, cy: c.y, radius, aspect, angle: rng.uniform(0, Math.PI),
    edge: rng.uniform(0.25, 0.6) * radius, harmonics: randomHarmonics(rng, 0.12),
  });
  const amp = rng.sign() * blobContrast(ctx, radius, 1.5, 3), damp = rng.uniform(0.3, 0.7);
  for (let i = 0; i < stroke.alpha.length; i++) {
    const a = stroke.alpha[i];
    if (a > 0) ctx.texture[i] = ctx.texture[i] * (1 - damp * a) + amp * a;
  }
  return stroke;
}

/** A stain: large, faint, with a very soft irregular edge; mostly darker, sometimes bleached. */
function stain(ctx: DefectContext): Stroke {
  const { rng, size } = ctx;
  const radius = areaRadius(size, rng.logUniform(0.02, 0.1));
  const aspect = rng.uniform(1, 2);
  const c = centre(ctx, radius * Math.sqrt(aspect));
  const stroke = newStroke(size);
  stampBlob(stroke, size, {
    cx: c.x, cy: c.y, radius, aspect, angle: rng.uniform(0, Math.PI),
    edge: rng.uniform(0.35, 0.7) * radius, harmonics: randomHarmonics(rng, 0.25),
  });
  const amp = (rng.chance(0.75) ? -1 : 1) * blobContrast(ctx, radius, 1.2, 2.4), dull = rng.uniform(0.3, 0.6);
  for (let i = 0; i < stroke.alpha.length; i++) {
    const a = stroke.alpha[i];
    if (a > 0) ctx.texture[i] = ctx.texture[i] * (1 - dull * a) + amp * a;
  }
  return stroke;
}

/** A region where the texture itself changes: turned, finer or coarser, as if re-worked. */
function disturbance(ctx: DefectContext): Stroke {
  const { rng, size, scale } = ctx;
  const radius = areaRadius(size, rng.logUniform(0.015, 0.09));
  const aspect = rng.uniform(1, 2.2);
  const c = centre(ctx, radius * Math.sqrt(aspect));
  const stroke = newStroke(size);
  stampBlob(stroke, size, {
    cx: c.x, cy: c.y, radius, aspect, angle: rng.uniform(0, Math.PI),
    edge: rng.uniform(3, 10) * scale, harmonics: randomHarmonics(rng, 0.2),
  });
  const other = ctx.disturbed();
  // A finer texture carries more pixel-scale energy: toned down to its surroundings' level, the
  // region differs in structure, not in local contrast.
  const gain = Math.min(1, ctx.detailOf(ctx.texture) / Math.max(1e-6, ctx.detailOf(other)));
  for (let i = 0; i < stroke.alpha.length; i++) {
    const a = stroke.alpha[i];
    if (a > 0) ctx.texture[i] = ctx.texture[i] * (1 - a) + gain * other[i] * a;
  }
  return stroke;
}

const RENDER: Record<DefectKind, (ctx: DefectContext) => Stroke> = { scratch, crack, spot, stain, disturbance };

/**
 * Draws the defect into ctx.texture. Returns its exact mask (1 = defect: the pixels it covers at
 * least half) and its footprint (every pixel it touches noticeably), which the weak label encloses.
 */
export function applyDefect(kind: DefectKind, ctx: DefectContext): { mask: Uint8Array; footprint: Uint8Array } {
  const stroke = RENDER[kind](ctx);
  const mask = new Uint8Array(ctx.size * ctx.size), footprint = new Uint8Array(ctx.size * ctx.size);
  for (let i = 0; i < mask.length; i++) {
    mask[i] = stroke.cover[i] >= 0.5 ? 1 : 0;
    footprint[i] = stroke.cover[i] >= 0.2 ? 1 : 0;
  }
  return { mask, footprint };
}
