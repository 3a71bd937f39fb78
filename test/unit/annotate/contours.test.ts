import { describe, expect, it } from 'vitest';
import { labelComponents, removeSmallComponents } from '../../../electron/annotate/components.ts';
import { traceMask } from '../../../electron/annotate/contours.ts';
import { keyholeRing } from '../../../electron/annotate/keyhole.ts';
import { createMask, maskIoU } from '../../../electron/annotate/mask.ts';
import { fillRings, type RasterRule } from '../../../electron/annotate/rasterize.ts';
import { ringArea, simplifyRing } from '../../../electron/annotate/simplify.ts';
import type { Ring } from '../../../electron/annotate/types.ts';
import type { Mask, PixelConvention } from '../../../electron/annotate/types.ts';
import { blobMask, differingPixels, maskFromRows, rng } from './synthetic.ts';

function rasterizeRings(width: number, height: number, rings: Ring[], rule: RasterRule): Mask {
  const mask = createMask(width, height);
  fillRings(mask, rings, rule);
  return mask;
}

const RULE: Record<PixelConvention, RasterRule> = { corner: 'pycocotools', centre: 'opencv' };

function redraw(mask: Mask, convention: PixelConvention, tolerance: number, keyhole: boolean, rule = RULE[convention]): Mask {
  const out = createMask(mask.width, mask.height);
  for (const { polygon } of traceMask(mask, { convention, tolerance })) {
    fillRings(out, keyhole ? [keyholeRing(polygon)] : [polygon.outer, ...polygon.holes], rule);
  }
  return out;
}

describe('connected components', () => {
  it('joins diagonal neighbours (8-connectivity) and measures each component', () => {
    const mask = maskFromRows([
      '11....',
      '.1...2',
      '..1..2',
      '......',
      '1.....',
    ]);
    const map = { width: 6, height: 5, data: new Float32Array(30).map((_, i) => i / 30) };
    const { components, labels } = labelComponents(mask, map);
    expect(components.map((c) => [c.label, c.category, c.area])).toEqual([
      [1, 1, 4],
      [2, 2, 2],
      [3, 1, 1],
    ]);
    expect(components[0].bbox).toEqual({ x: 0, y: 0, width: 3, height: 3 });
    expect(components[0].centroid).toEqual({ x: 1, y: 0.75 });
    expect(components[1].maxScore).toBeCloseTo(17 / 30, 6);
    expect(components[1].meanScore).toBeCloseTo((11 + 17) / 2 / 30, 6);
    expect(labels[2 * 6 + 2]).toBe(1);
  });

  it('labels random multi-category masks exactly as a pixel flood fill does', () => {
    for (const seed of [1, 2, 3]) {
      const r = rng(seed);
      const w = 37;
      const h = 29;
      const data = new Uint8Array(w * h).map(() => (r() < 0.45 ? 1 + Math.floor(r() * 2) : 0));
      const { labels, components } = labelComponents({ width: w, height: h, data });
      const expected = new Int32Array(w * h);
      let next = 0;
      for (let start = 0; start < data.length; start++) {
        if (!data[start] || expected[start]) continue;
        expected[start] = ++next;
        const stack = [start];
        while (stack.length) {
          const i = stack.pop() as number;
          const x = i % w;
          const y = (i - x) / w;
          for (let dy = -1; dy <= 1; dy++) {
            for (let dx = -1; dx <= 1; dx++) {
              const xx = x + dx;
              const yy = y + dy;
              const j = yy * w + xx;
              if (xx >= 0 && yy >= 0 && xx < w && yy < h && data[j] === data[start] && !expected[j]) {
                expected[j] = next;
                stack.push(j);
              }
            }
          }
        }
      }
      expect(labels).toEqual(expected);
      expect(components).toHaveLength(next);
      for (const c of components) {
        let area = 0;
        let sx = 0;
        for (let i = 0; i < labels.length; i++) {
          if (labels[i] === c.label) {
            area++;
            sx += i % w;
          }
        }
        expect(c.area).toBe(area);
        expect(c.centroid.x).toBeCloseTo(sx / area, 9);
      }
    }
  });

  it('keeps touching regions of different categories apart', () => {
    const { components } = labelComponents(maskFromRows(['1122', '1122']));
    expect(components.map((c) => c.category)).toEqual([1, 2]);
    expect(removeSmallComponents(maskFromRows(['1.2', '...']), 2).data.every((v) => v === 0)).toBe(true);
  });
});

describe('contours', () => {
  it('traces a square with a hole as pixel-corner rings, outer clockwise, hole anticlockwise', () => {
    const mask = maskFromRows(['.....', '.111.', '.1.1.', '.111.', '.....']);
    const [region] = traceMask(mask, { tolerance: 0 });
    expect(region.polygon.outer).toEqual([
      { x: 1, y: 1 },
      { x: 4, y: 1 },
      { x: 4, y: 4 },
      { x: 1, y: 4 },
    ]);
    expect(region.polygon.holes).toHaveLength(1);
    expect(ringArea(region.polygon.outer)).toBe(9);
    expect(ringArea(region.polygon.holes[0])).toBe(-1);
  });

  it('traces through pixel centres in the centre convention', () => {
    const mask = maskFromRows(['....', '.11.', '.11.', '....']);
    const [region] = traceMask(mask, { convention: 'centre', tolerance: 0 });
    expect(region.polygon.outer).toEqual([
      { x: 1, y: 1 },
      { x: 2, y: 1 },
      { x: 2, y: 2 },
      { x: 1, y: 2 },
    ]);
  });

  it('keeps diagonally touching pixels in one ring and diagonal holes apart', () => {
    const mask = maskFromRows(['1....', '.1...', '..111', '..1.1', '..111']);
    const regions = traceMask(mask, { tolerance: 0 });
    expect(regions).toHaveLength(1);
    expect(regions[0].polygon.holes).toHaveLength(1);
    const holes = traceMask(maskFromRows(['1111', '1.11', '11.1', '1111']), { tolerance: 0 });
    expect(holes[0].polygon.holes).toHaveLength(2);
  });

  it('redraws blob masks pixel for pixel without simplification, in both conventions', () => {
    for (const seed of [1, 2, 3]) {
      const mask = blobMask(160, 120, seed);
      const regions = traceMask(mask, { tolerance: 0 });
      expect(regions.length).toBeGreaterThan(1);
      expect(regions.some((r) => r.polygon.holes.length > 0)).toBe(true);
      for (const convention of ['corner', 'centre'] as const) {
        for (const keyhole of [false, true]) {
          expect(differingPixels(redraw(mask, convention, 0, keyhole), mask)).toBe(0);
        }
      }
      for (const keyhole of [false, true]) {
        expect(differingPixels(redraw(mask, 'centre', 0, keyhole, 'pil'), mask)).toBe(0);
      }
    }
  });

  // The stated bounds: at the default tolerances (corner 0.5 px, centre 0.4 px) the tools'
  // rasterisers give the mask back; centre rings at 0.5 px within 0.98 IoU; 1 px within 0.94.
  it('stays within the stated IoU after Douglas-Peucker simplification', () => {
    for (const seed of [4, 5, 6, 7]) {
      const mask = blobMask(256, 256, seed);
      expect(maskIoU(redraw(mask, 'centre', 0.4, true), mask)).toBeGreaterThanOrEqual(0.998);
      expect(maskIoU(redraw(mask, 'centre', 0.4, true, 'pil'), mask)).toBeGreaterThanOrEqual(0.99);
      expect(maskIoU(redraw(mask, 'corner', 0.5, true), mask)).toBe(1);
      expect(maskIoU(redraw(mask, 'centre', 0.5, true), mask)).toBeGreaterThanOrEqual(0.98);
      expect(maskIoU(redraw(mask, 'corner', 1, true), mask)).toBeGreaterThanOrEqual(0.94);
      expect(maskIoU(redraw(mask, 'centre', 1, true), mask)).toBeGreaterThanOrEqual(0.94);
    }
  });

  it('simplification drops vertices and never collapses a ring below a triangle', () => {
    const mask = blobMask(256, 256, 8);
    const exact = traceMask(mask, { tolerance: 0 });
    const simple = traceMask(mask, { tolerance: 1 });
    const count = (rs: typeof exact): number => rs.reduce((n, r) => n + r.polygon.outer.length, 0);
    expect(count(simple)).toBeLessThan(count(exact) * 0.5);
    const thin = [
      { x: 0, y: 0 },
      { x: 5, y: 0 },
      { x: 10, y: 0.2 },
      { x: 5, y: 0.4 },
    ];
    expect(simplifyRing(thin, 1)).toEqual(thin);
  });
});

describe('rasterize', () => {
  it('fills pixel-corner polygons by pixel centres, even-odd', () => {
    const square = [
      { x: 1, y: 1 },
      { x: 4, y: 1 },
      { x: 4, y: 3 },
      { x: 1, y: 3 },
    ];
    const m = rasterizeRings(5, 4, [square], 'pycocotools');
    expect(Array.from(m.data)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    const hole = [
      { x: 2, y: 1 },
      { x: 3, y: 1 },
      { x: 3, y: 2 },
      { x: 2, y: 2 },
    ];
    expect(rasterizeRings(5, 4, [square, hole], 'pycocotools').data[1 * 5 + 2]).toBe(0);
  });

  it('fills centre polygons with their boundary, as Pillow and OpenCV do', () => {
    const line = [
      { x: 0, y: 1 },
      { x: 3, y: 1 },
      { x: 3, y: 1 },
    ];
    for (const rule of ['opencv', 'pil'] as const) {
      expect(Array.from(rasterizeRings(4, 3, [line], rule).data)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
    }
    expect(() => rasterizeRings(4, 3, [[{ x: Number.NaN, y: 0 }]], 'opencv')).toThrow(/finite/);
  });

  // Pillow 9.4's ImageDraw.polygon(fill=1, outline=1), as LabelMe calls it, printed for these.
  it('rounds spans and truncates vertices as Pillow does', () => {
    const draw = (pts: number[][]): string[] => {
      const m = rasterizeRings(11, 11, [pts.map(([x, y]) => ({ x, y }))], 'pil');
      return Array.from({ length: 11 }, (_, y) => Array.from(m.data.slice(y * 11, y * 11 + 11)).join(''));
    };
    expect(draw([[1.3, 1.2], [9.7, 2.6], [4.4, 8.8]])).toEqual([
      '00000000000', '01000000000', '01111111110', '00111111100', '00111111000', '00011110000',
      '00011110000', '00001100000', '00001000000', '00000000000', '00000000000',
    ]);
    expect(draw([[1, 1], [9, 3], [4, 9]])).toEqual([
      '00000000000', '01000000000', '01111100000', '00111111110', '00111111100', '00011111000',
      '00011110000', '00011110000', '00001100000', '00001000000', '00000000000',
    ]);
  });
});
