import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fillRings } from '../../../electron/annotate/rasterize.ts';
import { countsToString, decodeRle, rleArea, rleBbox, rleCounts, stringToCounts } from '../../../electron/annotate/rle.ts';
import { createMask } from '../../../electron/annotate/mask.ts';
import type { Mask, Ring } from '../../../electron/annotate/types.ts';
import { blobMask } from './synthetic.ts';

interface MaskCase {
  name: string;
  height: number;
  width: number;
  rows: string[];
  counts: string;
  area: number;
  bbox: number[];
}
interface PolygonCase {
  name: string;
  height: number;
  width: number;
  polygons: number[][];
  counts: string;
  area: number;
}

// Made by test/fixtures/make-rle-fixtures.py from pycocotools' own encoder.
const fixtures = JSON.parse(readFileSync(new URL('../../fixtures/rle-fixtures.json', import.meta.url), 'utf8')) as {
  masks: MaskCase[];
  polygons: PolygonCase[];
};

function maskOf(c: MaskCase): Mask {
  const data = new Uint8Array(c.width * c.height);
  c.rows.forEach((row, y) => {
    for (let x = 0; x < c.width; x++) data[y * c.width + x] = row[x] === '1' ? 1 : 0;
  });
  return { width: c.width, height: c.height, data };
}

describe('COCO RLE strings, derived by hand from the format', () => {
  // Each count is written in 5-bit groups, low first, +48; 0x20 = more groups, 0x10 of the
  // last group = negative; from the 4th count on, the count minus the one two before it.
  const cases: Array<[number[], string, string]> = [
    [[4], '4', 'one group: 48 + 4'],
    [[0, 4], '04', 'a mask starting with 1s starts with a count of 0'],
    [[100], 'T3', '100 = 3*32 + 4: 4|0x20 -> 36 -> "T", then 3 -> "3"'],
    [[16], '`0', '16 has bit 0x10 set, so a 0 group must follow to keep it positive'],
    [[5, 10, 3, 2], '5:3H', 'the 4th count is stored as 2 - 10 = -8: group 24 (sign bit set) -> "H"'],
  ];
  for (const [counts, s, why] of cases) {
    it(`${JSON.stringify(counts)} -> "${s}" (${why})`, () => {
      expect(countsToString(counts)).toBe(s);
      expect(stringToCounts(s)).toEqual(counts);
    });
  }
});

describe('COCO RLE against pycocotools', () => {
  for (const c of fixtures.masks) {
    it(`encodes "${c.name}" to pycocotools' string, and back`, () => {
      const mask = maskOf(c);
      const counts = rleCounts(mask);
      expect(countsToString(counts)).toBe(c.counts);
      expect(stringToCounts(c.counts)).toEqual(counts);
      expect(decodeRle({ size: [c.height, c.width], counts: c.counts }).data).toEqual(mask.data);
      expect(rleArea(counts)).toBe(c.area);
      const b = rleBbox(counts, c.height);
      expect([b.x, b.y, b.width, b.height]).toEqual(c.bbox);
    });
  }

  // pycocotools also rounds slanted edges to fifths of a pixel, which we do not: pixels whose
  // centre is within about 0.1 px of such an edge may differ, never more than a few.
  it('rasterises polygons as pycocotools does: exactly on axis-aligned and 45-degree edges, within 4 pixels otherwise', () => {
    let exact = 0;
    for (const p of fixtures.polygons) {
      const mine = createMask(p.width, p.height);
      for (const flat of p.polygons) {
        const ring: Ring = [];
        for (let i = 0; i < flat.length; i += 2) ring.push({ x: flat[i], y: flat[i + 1] });
        fillRings(mine, [ring], 'pycocotools');
      }
      const theirs = decodeRle({ size: [p.height, p.width], counts: p.counts });
      const integer = p.polygons.every((f) => f.every(Number.isInteger));
      const axisOrDiagonal = !p.name.startsWith('random') && integer && p.name !== 'triangle';
      if (axisOrDiagonal) expect(countsToString(rleCounts(mine)), p.name).toBe(p.counts);
      let differ = 0;
      for (let i = 0; i < mine.data.length; i++) if (mine.data[i] !== theirs.data[i]) differ++;
      expect(differ, p.name).toBeLessThanOrEqual(4);
      if (countsToString(rleCounts(mine)) === p.counts) exact++;
    }
    expect(exact).toBeGreaterThanOrEqual(8);
  });
});

describe('COCO RLE round trip and validation', () => {
  it('round-trips blob masks exactly, compressed and plain', () => {
    for (const seed of [1, 2]) {
      const mask = blobMask(97, 61, seed);
      const counts = rleCounts(mask);
      expect(decodeRle({ size: [61, 97], counts: countsToString(counts) }).data).toEqual(mask.data);
      expect(decodeRle({ size: [61, 97], counts }).data).toEqual(mask.data);
    }
  });

  it('counts beyond 32 bits encode exactly', () => {
    const counts = [2 ** 33 + 5, 7, 2 ** 32, 3];
    expect(stringToCounts(countsToString(counts))).toEqual(counts);
  });

  it('says what is wrong with a bad RLE', () => {
    expect(() => decodeRle({ size: [2, 2], counts: [1, 2] })).toThrow(/add up to 3.*4 pixels/);
    expect(() => decodeRle({ size: [2, 2], counts: 'z' })).toThrow(/outside/);
    expect(() => stringToCounts('T')).toThrow(/ends inside a count/);
    expect(() => decodeRle({ size: [2, 2], counts: [1, -1, 4] })).toThrow(/count 1/);
  });
});
