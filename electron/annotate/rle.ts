import { assertMask, assertSize } from './mask.ts';
import type { Box, Mask } from './types.ts';

/*
 * COCO run-length encoding, as pycocotools reads and writes it. Pixels are visited in
 * column-major (Fortran) order; counts alternate runs of 0s and 1s, starting with 0s (a
 * mask whose first pixel is set starts with a count of 0). The compressed string stores
 * each count, minus the count two places before it from the fourth on, in 5-bit groups,
 * least significant first; bit 0x20 of a group says another group follows, bit 0x10 of
 * the last one is the sign; each group is written as the character 48 + its value.
 */

/** size is [height, width], as in COCO. */
export interface CocoRle {
  size: [number, number];
  counts: number[] | string;
}

/** Uncompressed counts of the mask's foreground (nonzero pixels). */
export function rleCounts(mask: Mask): number[] {
  assertMask(mask, 'RLE encode');
  const { width: w, height: h, data } = mask;
  const counts: number[] = [];
  let run = 0;
  let current = 0;
  for (let x = 0; x < w; x++) {
    for (let i = x; i < w * h; i += w) {
      const v = data[i] !== 0 ? 1 : 0;
      if (v !== current) {
        counts.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
  }
  counts.push(run);
  return counts;
}

/** pycocotools' compressed string form of uncompressed counts. */
export function countsToString(counts: readonly number[]): string {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      // Floor division keeps this exact past 32 bits, where `>>` would wrap.
      let c = x - Math.floor(x / 32) * 32;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/** Uncompressed counts from pycocotools' compressed string. */
export function stringToCounts(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let scale = 1;
    let more = true;
    while (more) {
      if (p >= s.length) throw new Error(`RLE string: ends inside a count at character ${p}`);
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`RLE string: character ${JSON.stringify(s[p])} at ${p} is outside '0'..'o'`);
      x += (c & 0x1f) * scale;
      scale *= 32;
      more = (c & 0x20) !== 0;
      p++;
      if (!more && c & 0x10) x -= scale;
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    if (x < 0) throw new Error(`RLE string: count ${counts.length} is negative (${x})`);
    counts.push(x);
  }
  return counts;
}

/** The binary mask (0/1) of an RLE, compressed or not, after checking it covers the image exactly. */
export function decodeRle(rle: CocoRle): Mask {
  const counts = rleCountsOf(rle);
  const [h, w] = rle.size;
  const data = new Uint8Array(w * h);
  let pos = 0;
  let value = 0;
  for (const run of counts) {
    if (value === 1) {
      for (let k = pos; k < pos + run; k++) {
        const x = Math.floor(k / h);
        data[(k - x * h) * w + x] = 1;
      }
    }
    pos += run;
    value = 1 - value;
  }
  return { width: w, height: h, data };
}

/** Validated uncompressed counts of an RLE object. */
function rleCountsOf(rle: CocoRle): number[] {
  if (!Array.isArray(rle.size) || rle.size.length !== 2) throw new Error('RLE: size must be [height, width]');
  const [h, w] = rle.size;
  assertSize(w, h, 'RLE');
  const counts = typeof rle.counts === 'string' ? stringToCounts(rle.counts) : rle.counts;
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (!Number.isInteger(c) || c < 0) throw new Error(`RLE: count ${i} is not a non-negative integer (${c})`);
    total += c;
  }
  if (total !== w * h) throw new Error(`RLE: counts add up to ${total}, but size ${h}x${w} has ${w * h} pixels`);
  return counts;
}

export function rleArea(counts: readonly number[]): number {
  let a = 0;
  for (let i = 1; i < counts.length; i += 2) a += counts[i];
  return a;
}

/** Tight box of the foreground (as pycocotools' toBbox); all zeros when empty. */
export function rleBbox(counts: readonly number[], height: number): Box {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  let pos = 0;
  for (let i = 0; i < counts.length; i++) {
    if (i % 2 === 1 && counts[i] > 0) {
      const first = pos;
      const last = pos + counts[i] - 1;
      const fx = Math.floor(first / height);
      const lx = Math.floor(last / height);
      x0 = Math.min(x0, fx);
      x1 = Math.max(x1, lx);
      if (lx > fx) {
        y0 = 0;
        y1 = height - 1;
      } else {
        y0 = Math.min(y0, first - fx * height);
        y1 = Math.max(y1, last - lx * height);
      }
    }
    pos += counts[i];
  }
  return x1 < 0 ? { x: 0, y: 0, width: 0, height: 0 } : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}
