import { maskFromMap, type MaskOptions } from '../annotate/cleanup.ts';
import type { ScoreMap } from '../annotate/types.ts';
import { Rng } from '../data/synth/rng.ts';
import { median, timeIt } from './timing.ts';

const SIZE = 512;
const WARMUP = 5;
const RUNS = 31;

/**
 * The option sets the live preview and the export run most: threshold alone (value 0.5, Otsu,
 * top 5 %), then with clean-up (fraction 0.5 of the max, disc radii, hole filling, min area 64).
 */
const CASES: Record<string, MaskOptions> = {
  value: { threshold: { kind: 'value', value: 0.5 } },
  otsu: { threshold: { kind: 'otsu' } },
  top5: { threshold: { kind: 'top-percent', percent: 5 } },
  fraction_open2_close2: {
    threshold: { kind: 'fraction-of-max', fraction: 0.5 },
    cleanup: { openRadius: 2, closeRadius: 2 },
  },
  fraction_open2_close2_fill_minarea: {
    threshold: { kind: 'fraction-of-max', fraction: 0.5 },
    cleanup: { openRadius: 2, closeRadius: 2, fillHoles: true, minArea: 64 },
  },
  otsu_open5_close5_fill_minarea: {
    threshold: { kind: 'otsu' },
    cleanup: { openRadius: 5, closeRadius: 5, fillHoles: true, minArea: 64 },
  },
};

/**
 * Median ms to turn a 512x512 map into a mask, per option set: wall clock, and this process's
 * CPU time, which a busy shared machine inflates less.
 */
export async function benchThreshold(): Promise<Record<string, number>> {
  const map = camLikeMap(SIZE, SIZE, 2026);
  const out: Record<string, number> = {};
  for (const [name, options] of Object.entries(CASES)) {
    const cpu: number[] = [];
    const run = async (): Promise<unknown> => {
      const before = process.cpuUsage();
      const mask = maskFromMap(map, options);
      const used = process.cpuUsage(before);
      cpu.push((used.user + used.system) / 1000);
      return mask;
    };
    await timeIt(run, WARMUP);
    cpu.length = 0;
    out[`threshold512_${name}_ms`] = median(await timeIt(run, RUNS));
    out[`threshold512_${name}_cpu_ms`] = median(cpu);
  }
  return out;
}

/** A seeded map with a few smooth blobs and low noise, shaped like an upsampled LayerCAM map. */
function camLikeMap(width: number, height: number, seed: number): ScoreMap {
  const rng = new Rng(seed);
  const random = (): number => rng.next();
  const data = new Float32Array(width * height);
  const blobs = Array.from({ length: 6 }, () => ({
    x: random() * width,
    y: random() * height,
    s: 10 + random() * 40,
    a: 0.4 + 0.6 * random(),
  }));
  let max = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = 0.05 * random();
      for (const b of blobs) v += b.a * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.s * b.s));
      data[y * width + x] = v;
      if (v > max) max = v;
    }
  }
  for (let i = 0; i < data.length; i++) data[i] /= max;
  return { width, height, data };
}
