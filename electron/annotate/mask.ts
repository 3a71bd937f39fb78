import type { Mask, ScoreMap } from './types.ts';

/** As many pixels as the largest image Kizu reads: a size beyond it is a damaged or hostile file, not a mask to allocate. */
export const MAX_MASK_PIXELS = 100_000_000;

export function createMask(width: number, height: number, what = 'mask'): Mask {
  assertSize(width, height, what);
  return { width, height, data: new Uint8Array(width * height) };
}

export function assertSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${what}: size must be positive integers, got ${width}x${height}`);
  }
  if (width * height > MAX_MASK_PIXELS) {
    throw new Error(`${what}: size ${width}x${height} is over the limit of ${MAX_MASK_PIXELS.toLocaleString('en-US')} pixels`);
  }
}

export function assertMask(mask: Mask, what: string): void {
  assertSize(mask.width, mask.height, what);
  if (mask.data.length !== mask.width * mask.height) {
    throw new Error(
      `${what}: ${mask.width}x${mask.height} needs ${mask.width * mask.height} values, has ${mask.data.length}`,
    );
  }
}

export function assertScoreMap(map: ScoreMap, what: string): void {
  assertSize(map.width, map.height, what);
  if (map.data.length !== map.width * map.height) {
    throw new Error(
      `${what}: ${map.width}x${map.height} needs ${map.width * map.height} values, has ${map.data.length}`,
    );
  }
}

export function assertSameSize(a: { width: number; height: number }, b: { width: number; height: number }, what: string): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`${what}: sizes differ, ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
}

/** Intersection over union of the foregrounds (nonzero pixels); 1 when both are empty. */
export function maskIoU(a: Mask, b: Mask): number {
  assertSameSize(a, b, 'maskIoU');
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.data.length; i++) {
    const fa = a.data[i] !== 0;
    const fb = b.data[i] !== 0;
    if (fa && fb) inter++;
    if (fa || fb) union++;
  }
  return union === 0 ? 1 : inter / union;
}

export function countForeground(mask: Mask): number {
  let n = 0;
  for (let i = 0; i < mask.data.length; i++) if (mask.data[i] !== 0) n++;
  return n;
}

/** [x0, y0, x1, y1] of the nonzero pixels, inclusive; undefined when there are none. */
export function foregroundBox(mask: Mask): [number, number, number, number] | undefined {
  const { width: w, height: h, data } = mask;
  let x0 = w;
  let x1 = -1;
  let y0 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let first = 0;
    while (first < w && data[row + first] === 0) first++;
    if (first === w) continue;
    let last = w - 1;
    while (data[row + last] === 0) last--;
    if (y0 < 0) y0 = y;
    y1 = y;
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
  }
  return y0 < 0 ? undefined : [x0, y0, x1, y1];
}
