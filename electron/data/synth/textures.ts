import {
  blur, boxBlurCols, boxBlurRows, fbm, rotated, smoothstep, standardize, valueNoise, whiteNoise, type Field,
} from './field.ts';
import { Rng } from './rng.ts';

/**
 * A texture family: per-image random parameters, a perturbation of them (what a "local texture
 * disturbance" defect renders inside its region), and a renderer giving a zero-mean, unit-std
 * field. Lengths are for 512 px images and scale with the size.
 */
export interface TextureFamily<P = unknown> {
  name: string;
  draw(rng: Rng, scale: number): P;
  perturb(params: P, rng: Rng): P;
  render(size: number, params: P, seed: number): Field;
  /** Direction of the texture's grain in radians, when it has one (scratches cross it). */
  grain?(params: P): number;
}

function family<P>(f: TextureFamily<P>): TextureFamily<P> {
  return f;
}

const TAU = Math.PI * 2;
const SINE_STEPS = 4096;
const PROFILE_STEPS = 1024;
const SINE = Float32Array.from({ length: SINE_STEPS }, (_, i) => Math.sin((TAU * i) / SINE_STEPS));

/** sin(2 pi t) by table look-up: the inner loops of woven and ripple call it for every pixel. */
function sinCycles(t: number): number {
  return SINE[((t - Math.floor(t)) * SINE_STEPS) | 0];
}

/** Cloudy fractal noise, like cast or sand-blasted metal. */
const mottled = family({
  name: 'mottled',
  draw: (rng) => ({ cells: rng.logUniform(6, 20), gain: rng.uniform(0.6, 0.8), octaves: 7 }),
  perturb: (p, rng) => ({ ...p, cells: p.cells * rng.uniform(2.5, 3.5), gain: Math.min(0.9, p.gain + rng.uniform(0, 0.15)) }),
  render: (size, p, seed) => standardize(fbm(size, p.cells, p.octaves, p.gain, new Rng(seed))),
});

interface WovenParams {
  period: number; angle: number; threadVar: number; sharp: number; waveAmp: number; waveLen: number;
  fuzz: number;
}

/** Plain-weave fabric: threads over and under, each thread its own shade, slightly wavy. */
const woven = family<WovenParams>({
  name: 'woven',
  draw: (rng, scale) => ({
    period: rng.uniform(7, 14) * scale, angle: rng.uniform(-0.35, 0.35) + rng.pick([0, Math.PI / 4]),
    threadVar: rng.uniform(0.1, 0.35), sharp: rng.uniform(0.4, 1.2), waveAmp: rng.uniform(0, 1.6) * scale,
    waveLen: rng.uniform(60, 220) * scale, fuzz: rng.uniform(0.1, 0.3),
  }),
  perturb: (p, rng) => (rng.chance(0.5)
    ? { ...p, angle: p.angle + rng.sign() * rng.uniform(0.35, 0.8) }
    : { ...p, period: p.period * (rng.chance(0.5) ? rng.uniform(0.45, 0.6) : rng.uniform(1.7, 2.2)) }),
  render: (size, p, seed) => {
    const rng = new Rng(seed);
    const warpShade = Float32Array.from({ length: 256 }, () => rng.uniform(-1, 1) * p.threadVar);
    const weftShade = Float32Array.from({ length: 256 }, () => rng.uniform(-1, 1) * p.threadVar);
    const phase = rng.next();
    const fuzz = standardize(blur(whiteNoise(size * size, rng), size, 1));
    // Thread cross-section and the rise of a thread over its crossing, tabulated per image.
    const body = Float32Array.from({ length: PROFILE_STEPS }, (_, i) => Math.pow(Math.sin((Math.PI * i) / PROFILE_STEPS), p.sharp));
    const bump = Float32Array.from({ length: PROFILE_STEPS }, (_, i) => 0.65 + 0.35 * Math.sin((Math.PI * i) / PROFILE_STEPS));
    const c = Math.cos(p.angle), s = Math.sin(p.angle), inv = 1 / p.period;
    const out = new Float32Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = -s * x + c * y;
        const u = c * x + s * y + p.waveAmp * sinCycles(v / p.waveLen + phase);
        const fu = u * inv, fv = v * inv;
        const i = Math.floor(fu), j = Math.floor(fv);
        const warpOnTop = ((i + j) & 1) === 0;
        const across = warpOnTop ? fu - i : fv - j;
        const along = warpOnTop ? fv - j : fu - i;
        const shade = warpOnTop ? warpShade[i & 255] : weftShade[j & 255];
        const k = y * size + x;
        out[k] = body[(across * PROFILE_STEPS) | 0] * bump[(along * PROFILE_STEPS) | 0] * (1 + shade) + p.fuzz * fuzz[k];
      }
    }
    return standardize(out);
  },
  grain: (p) => p.angle,
});

interface BrushedParams { angle: number; streak: number; width: number; low: number; lowCells: number }

/** Brushed or striated metal: long parallel streaks over a faint large-scale unevenness. */
const brushed = family<BrushedParams>({
  name: 'brushed',
  draw: (rng, scale) => ({
    angle: rng.uniform(0, Math.PI), streak: rng.logUniform(40, 200) * scale, width: rng.uniform(0.5, 1.5) * scale,
    low: rng.uniform(0.15, 0.5), lowCells: rng.logUniform(2, 6),
  }),
  perturb: (p, rng) => (rng.chance(0.6)
    ? { ...p, angle: p.angle + rng.sign() * rng.uniform(0.45, 1.2) }
    : { ...p, streak: p.streak * rng.uniform(0.12, 0.25) }),
  render: (size, p, seed) => {
    const rng = new Rng(seed);
    return standardize(rotated(size, p.angle, (side) => {
      let f = whiteNoise(side * side, rng);
      f = boxBlurRows(f, side, side, p.streak / 2);
      f = boxBlurRows(f, side, side, p.streak / 2);
      f = boxBlurCols(f, side, side, p.width);
      standardize(f);
      const low = standardize(valueNoise(side, p.lowCells, rng));
      for (let i = 0; i < f.length; i++) f[i] += p.low * low[i];
      return f;
    }));
  },
  grain: (p) => p.angle,
});

interface GranularParams { grain: number; threshold: number; edge: number; matrix: number; cells: number }

/** Granular speckle, like sandpaper, sintered or powder-coated surfaces. */
const granular = family<GranularParams>({
  name: 'granular',
  draw: (rng, scale) => ({
    grain: rng.uniform(1, 2.6) * scale, threshold: rng.uniform(-0.2, 0.9), edge: rng.uniform(0.15, 0.5),
    matrix: rng.uniform(0.2, 0.5), cells: rng.logUniform(4, 12),
  }),
  perturb: (p, rng) => (rng.chance(0.5)
    ? { ...p, grain: p.grain * rng.uniform(2.4, 3) }
    : { ...p, grain: p.grain * 1.5, threshold: p.threshold + rng.uniform(0.8, 1.2) }),
  render: (size, p, seed) => {
    const rng = new Rng(seed);
    const n = standardize(blur(whiteNoise(size * size, rng), size, p.grain));
    const m = standardize(fbm(size, p.cells, 4, 0.5, rng));
    const out = new Float32Array(size * size);
    for (let i = 0; i < out.length; i++) {
      out[i] = smoothstep(p.threshold - p.edge, p.threshold + p.edge, n[i]) + 0.3 * n[i] + p.matrix * m[i];
    }
    return standardize(out);
  },
});

interface WoodParams {
  angle: number; spacing: number; warp: number; warpCells: number; late: number; dark: number; fibre: number;
  fibreLen: number;
}

/** Wood grain: growth rings (soft earlywood, dark latewood) bent by the stem, with fibres along them. */
const wood = family<WoodParams>({
  name: 'wood',
  draw: (rng, scale) => ({
    angle: rng.uniform(0, Math.PI), spacing: rng.logUniform(10, 32) * scale, warp: rng.uniform(4, 22) * scale,
    warpCells: rng.logUniform(1.5, 4), late: rng.uniform(0.5, 0.8), dark: rng.uniform(0.6, 1.2),
    fibre: rng.uniform(0.15, 0.4), fibreLen: rng.uniform(30, 80) * scale,
  }),
  perturb: (p, rng) => (rng.chance(0.5)
    ? { ...p, angle: p.angle + rng.sign() * rng.uniform(0.3, 0.7) }
    : { ...p, spacing: p.spacing * (rng.chance(0.5) ? rng.uniform(0.45, 0.6) : rng.uniform(1.6, 2)) }),
  render: (size, p, seed) => {
    const rng = new Rng(seed);
    const warp = standardize(fbm(size, p.warpCells, 3, 0.5, rng));
    const offset = rng.uniform(0, 1);
    const fibres = standardize(rotated(size, p.angle, (side) => {
      const f = boxBlurRows(whiteNoise(side * side, rng), side, side, p.fibreLen / 2);
      return boxBlurRows(f, side, side, p.fibreLen / 2);
    }));
    const c = Math.cos(p.angle), s = Math.sin(p.angle);
    const out = new Float32Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const k = y * size + x;
        const t = (-s * x + c * y + p.warp * warp[k]) / p.spacing + offset;
        const ring = t - Math.floor(t);
        out[k] = 0.3 * ring - p.dark * smoothstep(p.late, 1, ring) + p.fibre * fibres[k];
      }
    }
    return standardize(out);
  },
  grain: (p) => p.angle,
});

interface CellularParams { cell: number; jitter: number; line: number; shade: number; dome: number; fine: number }

/** Cellular pattern (pebbled leather, scales, foam): cells of varying shade with dark borders. */
const cellular = family<CellularParams>({
  name: 'cellular',
  draw: (rng, scale) => ({
    cell: rng.logUniform(14, 40) * scale, jitter: rng.uniform(0.6, 1), line: rng.uniform(1, 3) * scale,
    shade: rng.uniform(0.2, 0.6), dome: rng.uniform(0.1, 0.5), fine: rng.uniform(0.05, 0.2),
  }),
  perturb: (p, rng) => ({ ...p, cell: p.cell * (rng.chance(0.5) ? rng.uniform(0.4, 0.55) : rng.uniform(1.7, 2.2)) }),
  render: (size, p, seed) => {
    const rng = new Rng(seed);
    const g = Math.ceil(size / p.cell) + 2;
    const px = new Float32Array(g * g), py = new Float32Array(g * g), shade = new Float32Array(g * g);
    for (let j = 0; j < g; j++) {
      for (let i = 0; i < g; i++) {
        const k = j * g + i;
        px[k] = (i - 1 + 0.5 + (rng.next() - 0.5) * p.jitter) * p.cell;
        py[k] = (j - 1 + 0.5 + (rng.next() - 0.5) * p.jitter) * p.cell;
        shade[k] = rng.uniform(-1, 1);
      }
    }
    const fine = standardize(blur(whiteNoise(size * size, rng), size, 1));
    const out = new Float32Array(size * size);
    for (let y = 0; y < size; y++) {
      const cj = Math.floor(y / p.cell) + 1;
      for (let x = 0; x < size; x++) {
        const ci = Math.floor(x / p.cell) + 1;
        let d1 = Infinity, d2 = Infinity, nearest = 0;
        for (let dj = -1; dj <= 1; dj++) {
          const row = Math.min(g - 1, Math.max(0, cj + dj)) * g;
          for (let di = -1; di <= 1; di++) {
            const k = row + Math.min(g - 1, Math.max(0, ci + di));
            const dx = x - px[k], dy = y - py[k];
            const d = dx * dx + dy * dy;
            if (d < d1) { d2 = d1; d1 = d; nearest = k; } else if (d < d2) d2 = d;
          }
        }
        const f1 = Math.sqrt(d1), f2 = Math.sqrt(d2);
        const border = 1 - smoothstep(0, p.line, (f2 - f1) / 2);
        const k = y * size + x;
        out[k] = p.shade * shade[nearest] - border - p.dome * (f1 / p.cell) + p.fine * fine[k];
      }
    }
    return standardize(out);
  },
});

interface RippleParams { waves: Array<{ angle: number; length: number; weight: number }>; warp: number; warpCells: number; noise: number }

/** Interference ripples, like a machined or rolled finish seen under raking light. */
const ripple = family<RippleParams>({
  name: 'ripple',
  draw: (rng, scale) => {
    const base = rng.uniform(0, Math.PI);
    return {
      waves: Array.from({ length: rng.int(2, 4) }, () => ({
        angle: base + rng.uniform(-0.6, 0.6), length: rng.uniform(9, 28) * scale, weight: rng.uniform(0.4, 1),
      })),
      warp: rng.uniform(3, 14) * scale, warpCells: rng.logUniform(2, 5), noise: rng.uniform(0.1, 0.35),
    };
  },
  perturb: (p, rng) => {
    const turn = rng.sign() * rng.uniform(0.4, 0.9), stretch = rng.chance(0.5) ? rng.uniform(0.5, 0.65) : 1;
    return { ...p, waves: p.waves.map((w) => ({ ...w, angle: w.angle + (stretch === 1 ? turn : 0), length: w.length * stretch })) };
  },
  render: (size, p, seed) => {
    const rng = new Rng(seed);
    const warp = standardize(fbm(size, p.warpCells, 3, 0.5, rng));
    const fine = standardize(blur(whiteNoise(size * size, rng), size, 1));
    const out = new Float32Array(size * size);
    for (const w of p.waves) {
      const kx = Math.cos(w.angle) / w.length, ky = Math.sin(w.angle) / w.length;
      const kw = p.warp / w.length, phase = rng.next();
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const k = y * size + x;
          out[k] += w.weight * sinCycles(kx * x + ky * y + kw * warp[k] + phase);
        }
      }
    }
    for (let i = 0; i < out.length; i++) out[i] += p.noise * fine[i];
    return standardize(out);
  },
  grain: (p) => p.waves[0].angle + Math.PI / 2,
});

/** Class N of a generated dataset uses family (N - 1) modulo this list. */
export const TEXTURE_FAMILIES: readonly TextureFamily<any>[] = [mottled, woven, brushed, granular, wood, cellular, ripple];

export function textureFamily(name: string): TextureFamily<any> {
  const f = TEXTURE_FAMILIES.find((t) => t.name === name);
  if (!f) throw new Error(`unknown texture family '${name}' (known: ${TEXTURE_FAMILIES.map((t) => t.name).join(', ')})`);
  return f;
}
