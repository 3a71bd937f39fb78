import { assertMask } from './mask.ts';
import type { Mask } from './types.ts';

/*
 * Binary morphology with a disc structuring element {(dx, dy): dx^2 + dy^2 <= r^2}, exact.
 * A disc is, row by row, a centred run of half-width floor(sqrt(r^2 - dy^2)); so dilation is
 * the OR over dy of each row dilated horizontally by that half-width. Rows are packed 32
 * pixels to a word, which makes each step a few word operations: the live preview reruns
 * this on every slider move. Erosion is the complement of the dilated complement. A radius
 * below 1 is the single pixel, which changes nothing.
 * Outside the image counts as foreground for erosion and as background for dilation (as
 * OpenCV's defaults), so a defect touching the border is not eaten by an opening.
 */

export function erode(mask: Mask, radius: number): Mask {
  assertMask(mask, 'erode');
  const { width: w, height: h } = mask;
  return unpack(invert(dilateBits(invert(pack(mask), w), w, h, radius), w), w, h);
}

export function dilate(mask: Mask, radius: number): Mask {
  assertMask(mask, 'dilate');
  return unpack(dilateBits(pack(mask), mask.width, mask.height, radius), mask.width, mask.height);
}

/** Removes foreground thinner than the disc. */
export function openMask(mask: Mask, radius: number): Mask {
  assertMask(mask, 'open');
  const { width: w, height: h } = mask;
  const eroded = invert(dilateBits(invert(pack(mask), w), w, h, radius), w);
  return unpack(dilateBits(eroded, w, h, radius), w, h);
}

/** Fills gaps and notches narrower than the disc. */
export function closeMask(mask: Mask, radius: number): Mask {
  assertMask(mask, 'close');
  const { width: w, height: h } = mask;
  const dilated = dilateBits(pack(mask), w, h, radius);
  return unpack(invert(dilateBits(invert(dilated, w), w, h, radius), w), w, h);
}

function wordsPerRow(width: number): number {
  return (width + 31) >>> 5;
}

/** Bits of the last word of a row that are inside the image. */
function lastWordMask(width: number): number {
  const used = width & 31;
  return used === 0 ? 0xffffffff : (1 << used) - 1;
}

/** Row-major bits, pixel x of a row at bit x & 31 of word x >> 5; padding bits stay 0. */
function pack(mask: Mask): Uint32Array {
  const { width: w, height: h, data } = mask;
  const W = wordsPerRow(w);
  const bits = new Uint32Array(W * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let i = 0; i < W; i++) {
      const x0 = i << 5;
      const n = Math.min(32, w - x0);
      let word = 0;
      for (let b = 0; b < n; b++) if (data[row + x0 + b] !== 0) word |= 1 << b;
      bits[y * W + i] = word;
    }
  }
  return bits;
}

/** The complement within the image (padding bits stay 0, so outside stays background). */
function invert(bits: Uint32Array, w: number): Uint32Array {
  const W = wordsPerRow(w);
  const last = lastWordMask(w);
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = ~bits[i];
  for (let i = W - 1; i < bits.length; i += W) out[i] &= last;
  return out;
}

function unpack(bits: Uint32Array, w: number, h: number): Mask {
  const W = wordsPerRow(w);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let i = 0; i < W; i++) {
      let word = bits[y * W + i];
      if (word === 0) continue;
      const x0 = row + (i << 5);
      const n = Math.min(32, w - (i << 5));
      for (let b = 0; b < n; b++) {
        out[x0 + b] = word & 1;
        word >>>= 1;
      }
    }
  }
  return { width: w, height: h, data: out };
}

function dilateBits(src: Uint32Array, w: number, h: number, radius: number): Uint32Array {
  if (!(radius >= 1)) return src;
  const W = wordsPerRow(w);
  const last = lastWordMask(w);
  const R = Math.floor(radius);
  const r2 = radius * radius;
  const halfWidth: number[] = [];
  for (let dy = 0; dy <= R; dy++) {
    let k = Math.floor(Math.sqrt(r2 - dy * dy));
    while ((k + 1) * (k + 1) + dy * dy <= r2) k++;
    while (k > 0 && k * k + dy * dy > r2) k--;
    halfWidth.push(k);
  }
  // runs[k]: every row dilated horizontally by k, for the half-widths the disc uses.
  const runs: Uint32Array[] = [src];
  let current = src;
  for (let k = 1; k <= halfWidth[0]; k++) {
    const next = new Uint32Array(current.length);
    for (let y = 0; y < h; y++) {
      const o = y * W;
      for (let i = 0; i < W; i++) {
        const c = current[o + i];
        const fromLeft = i > 0 ? current[o + i - 1] >>> 31 : 0;
        const fromRight = i < W - 1 ? current[o + i + 1] << 31 : 0;
        next[o + i] = c | (c << 1) | fromLeft | (c >>> 1) | fromRight;
      }
      next[o + W - 1] &= last;
    }
    runs.push(next);
    current = next;
  }
  const out = new Uint32Array(src.length);
  for (let dy = -R; dy <= R; dy++) {
    const run = runs[halfWidth[Math.abs(dy)]];
    const y0 = Math.max(0, -dy);
    const y1 = Math.min(h, h - dy);
    for (let y = y0; y < y1; y++) {
      const o = y * W;
      const s = (y + dy) * W;
      for (let i = 0; i < W; i++) out[o + i] |= run[s + i];
    }
  }
  return out;
}
