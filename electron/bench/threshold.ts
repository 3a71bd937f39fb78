import { maskFromMap, type MaskOptions } from '../annotate/cleanup.ts';
import type { ScoreMap } from '../annotate/types.ts';
import { median, timeIt } from './timing.ts';

const SIZE = 512;
const WARMUP = 5;
const RUNS = 31;

/** The option sets the live preview and the export run most: threshold alone, then with clean-up. */
const CASES: Record<string, MaskOptions> = {
  'value 0.5': { threshold: { kind: 'value', value: 0.5 } },
  otsu: { threshold: { kind: 'otsu' } },
  'top 5%': { threshold: { kind: 'top-percent', percent: 5 } },
  'fraction 0.5 + open 2 + close 2': {
    threshold: { kind: 'fraction-of-max', fraction: 0.5 },
    cleanup: { openRadius: 2, closeRadius: 2 },
  },
  'fraction 0.5 + open 2 + close 2 + fill + min area 64': {
    threshold: { kind: 'fraction-of-max', fraction: 0.5 },
    cleanup: { openRadius: 2, closeRadius: 2, fillHoles: true, minArea: 64 },
  },
  'otsu + open 5 + close 5 + fill + min area 64': {
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
    out[`threshold+clean 512x512 ${name} (ms)`] = median(await timeIt(run, RUNS));
    out[`threshold+clean 512x512 ${name} (cpu ms)`] = median(cpu);
  }
  return out;
}

/** A seeded map with a few smooth blobs and low noise, shaped like an upsampled LayerCAM map. */
function camLikeMap(width: number, height: number, seed: number): ScoreMap {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
