import { describe, expect, it } from 'vitest';
import type { ImageEntry } from '../../../electron/api.ts';
import { createMask, countForeground } from '../../../electron/annotate/mask.ts';
import { paintSegment, stampDisc } from '../../../renderer/src/lib/brush.ts';
import { formatDuration } from '../../../renderer/src/lib/format.ts';
import { countByState, countLabels, neighbour, nextUnreviewed, orderImages } from '../../../renderer/src/lib/gallery-order.ts';
import { outlineRings } from '../../../renderer/src/lib/outline-path.ts';
import { heatmapRgba, maskFillRgba } from '../../../renderer/src/lib/overlay-pixels.ts';
import { UndoStack } from '../../../renderer/src/lib/undo-stack.ts';
import { fitTransform, screenToImage, zoomAbout } from '../../../renderer/src/lib/view-transform.ts';
import { colormapLut } from '../../../electron/annotate/colormap.ts';

const entry = (name: string, state: ImageEntry['state'], score: number | null, modifiedAt: number, label: ImageEntry['label'] = null): ImageEntry => ({
  id: `d/${name}`, name, state, label, labelFrom: label === null ? null : 'user', score, modifiedAt,
});

describe('gallery order', () => {
  const entries = [
    entry('10.png', 'unreviewed', 0.2, 3),
    entry('2.png', 'accepted', 0.9, 1),
    entry('1.png', 'unreviewed', null, 2),
    entry('3.png', 'rejected', 0.5, 4),
  ];

  it('sorts names naturally, scores high first with unscored last, dates newest first', () => {
    expect(orderImages(entries, 'all', 'name').map((e) => e.name)).toEqual(['1.png', '2.png', '3.png', '10.png']);
    expect(orderImages(entries, 'all', 'score').map((e) => e.name)).toEqual(['2.png', '3.png', '10.png', '1.png']);
    expect(orderImages(entries, 'all', 'date').map((e) => e.name)).toEqual(['3.png', '10.png', '1.png', '2.png']);
  });

  it('sorts the most uncertain first: nearest 0.5, ties by name, unscored last', () => {
    const scored = [
      entry('a.png', 'unreviewed', 0.95, 1),
      entry('b.png', 'unreviewed', null, 1),
      entry('c.png', 'unreviewed', 0.4, 1),
      entry('d.png', 'unreviewed', 0.55, 1),
      entry('e.png', 'unreviewed', 0.02, 1),
      entry('f.png', 'unreviewed', 0.6, 1),
      entry('g.png', 'unreviewed', null, 1),
    ];
    const order = orderImages(scored, 'all', 'uncertainty');
    expect(order.map((e) => e.name)).toEqual(['d.png', 'c.png', 'f.png', 'a.png', 'e.png', 'b.png', 'g.png']);
    const distances = order.filter((e) => e.score !== null).map((e) => Math.abs(e.score! - 0.5));
    expect(distances).toEqual([...distances].sort((x, y) => x - y));
  });

  it('counts labels, unlabelled included', () => {
    const labelled = [entry('1.png', 'ok', 0.1, 1, 'ok'), entry('2.png', 'unreviewed', 0.7, 1, 'defect'), entry('3.png', 'accepted', 0.8, 1, 'defect'), entry('4.png', 'unreviewed', null, 1)];
    expect(countLabels(labelled)).toEqual({ ok: 1, defect: 2, unlabelled: 1 });
  });

  it('filters by state and counts every state', () => {
    expect(orderImages(entries, 'unreviewed', 'name').map((e) => e.name)).toEqual(['1.png', '10.png']);
    expect(countByState(entries)).toEqual({ unreviewed: 2, accepted: 1, rejected: 1, ok: 0, edited: 0 });
  });

  it('finds the next unreviewed image after the current one, wrapping, or none', () => {
    const order = orderImages(entries, 'all', 'name');
    expect(nextUnreviewed(order, 'd/1.png')).toBe('d/10.png');
    expect(nextUnreviewed(order, 'd/10.png')).toBe('d/1.png');
    expect(nextUnreviewed(order.filter((e) => e.state !== 'unreviewed'), 'd/2.png')).toBeNull();
  });

  it('steps to neighbours and stops at the ends', () => {
    const order = orderImages(entries, 'all', 'name');
    expect(neighbour(order, 'd/1.png', 1)).toBe('d/2.png');
    expect(neighbour(order, 'd/1.png', -1)).toBe('d/1.png');
    expect(neighbour(order, 'd/10.png', 1)).toBe('d/10.png');
    expect(neighbour(order, null, 1)).toBe('d/1.png');
  });
});

describe('view transform', () => {
  it('fits an image centred in the view', () => {
    const t = fitTransform(200, 100, 420, 420, 10);
    expect(t.scale).toBeCloseTo(2);
    expect(t.x).toBeCloseTo(10);
    expect(t.y).toBeCloseTo(110);
  });

  it('zooms about the cursor: the image point under it stays under it', () => {
    const t = { scale: 1.5, x: 30, y: -20 };
    const before = screenToImage(t, 123, 77);
    const z = zoomAbout(t, 2.5, 123, 77);
    const after = screenToImage(z, 123, 77);
    expect(z.scale).toBeCloseTo(3.75);
    expect(after.x).toBeCloseTo(before.x);
    expect(after.y).toBeCloseTo(before.y);
  });
});

describe('brush', () => {
  it('stamps a disc of about pi r^2 pixels, and the eraser removes it', () => {
    const m = createMask(64, 64);
    stampDisc(m, 32, 32, 10, 1);
    expect(countForeground(m)).toBeGreaterThan(Math.PI * 100 * 0.95);
    expect(countForeground(m)).toBeLessThan(Math.PI * 100 * 1.05);
    stampDisc(m, 32, 32, 11, 0);
    expect(countForeground(m)).toBe(0);
  });

  it('leaves no gap along a fast stroke and clips at the border', () => {
    const m = createMask(100, 20);
    paintSegment(m, { x: -5, y: 10 }, { x: 105, y: 10 }, 2, 1);
    for (let x = 0; x < 100; x++) expect(m.data[10 * 100 + x]).toBe(1);
    expect(m.data[0]).toBe(0);
  });
});

describe('undo stack', () => {
  it('undoes and redoes in order; a new change forgets the redo branch', () => {
    const s = new UndoStack<number>();
    s.record(1);
    s.record(2);
    expect(s.undo(3)).toBe(2);
    expect(s.undo(2)).toBe(1);
    expect(s.undo(1)).toBeUndefined();
    expect(s.redo(1)).toBe(2);
    s.record(2);
    expect(s.canRedo).toBe(false);
    expect(s.undo(9)).toBe(2);
  });

  it('keeps at most its limit of steps', () => {
    const s = new UndoStack<number>(3);
    for (let i = 0; i < 10; i++) s.record(i);
    expect([s.undo(10), s.undo(9), s.undo(8), s.undo(7)]).toEqual([9, 8, 7, undefined]);
  });
});

describe('overlay pixels', () => {
  it('colours a map through the LUT, opaque, and fills only mask pixels', () => {
    const rgba = heatmapRgba({ width: 2, height: 1, data: new Float32Array([0, 1]) }, 'viridis');
    const lut = colormapLut('viridis');
    expect(Array.from(rgba)).toEqual([lut[0], lut[1], lut[2], 255, lut[765], lut[766], lut[767], 255]);
    const fill = maskFillRgba({ width: 2, height: 1, data: new Uint8Array([0, 1]) }, [10, 20, 30], 0.5);
    expect(Array.from(fill)).toEqual([0, 0, 0, 0, 10, 20, 30, 128]);
  });

  it('outlines a square along its pixel corners, holes included', () => {
    const m = createMask(6, 6);
    for (let y = 1; y < 5; y++) for (let x = 1; x < 5; x++) m.data[y * 6 + x] = 1;
    m.data[2 * 6 + 2] = 0;
    const rings = outlineRings(m);
    expect(rings).toHaveLength(2);
    const xs = rings[0].map((p) => p.x);
    expect(Math.min(...xs)).toBe(1);
    expect(Math.max(...xs)).toBe(5);
  });
});

it('formats an ETA', () => {
  expect(formatDuration(65)).toBe('1:05');
  expect(formatDuration(3 * 3600 + 7)).toBe('3:00:07');
});
