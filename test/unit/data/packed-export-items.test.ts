import { describe, expect, it } from 'vitest';
import { EXPORT_FORMATS, exportAnnotations } from '../../../electron/annotate/formats/index.ts';
import type { ExportItem } from '../../../electron/annotate/types.ts';
import { packedBytes, packExportItem, unpackExportItem, unpackExportItems } from '../../../electron/data/packed-export-items.ts';
import { blobMap } from '../annotate/synthetic.ts';

function item(seed: number, width: number, height: number, withMap: boolean): ExportItem {
  const map = blobMap(width, height, seed, 4);
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = map.data[i] >= 0.6 ? (i % 7 === 0 ? 2 : 1) : 0;
  return { fileName: `part-${seed}.png`, width, height, mask: { width, height, data }, score: 0.7, channels: 1, ...(withMap ? { map } : {}) };
}

// Byte comparison: toEqual walks a 512 x 512 array element by element, for seconds.
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('export items held deflated until the export writes', () => {
  const items = [item(31, 512, 512, true), item(32, 300, 200, false), item(33, 512, 384, true)];

  it('give back the same mask, and the map wherever the mask is set', () => {
    for (const original of items) {
      const back = unpackExportItem(packExportItem(original));
      expect([back.mask.width, back.mask.height]).toEqual([original.width, original.height]);
      expect(sameBytes(back.mask.data, original.mask.data)).toBe(true);
      expect({ ...back, mask: undefined, map: undefined }).toEqual({ ...original, mask: undefined, map: undefined });
      if (!original.map) {
        expect(back.map).toBeUndefined();
        continue;
      }
      const expected = original.map.data.map((v, i) => (original.mask.data[i] ? v : 0));
      expect([back.map!.width, back.map!.height]).toEqual([original.width, original.height]);
      expect(sameBytes(back.map!.data, expected)).toBe(true);
    }
  });

  it('write every format byte for byte as the whole items do', () => {
    const packed = items.map(packExportItem);
    for (const format of EXPORT_FORMATS) {
      const options = { categories: ['scratch', 'dent'] };
      expect(exportAnnotations(format, unpackExportItems(packed), options)).toEqual(exportAnnotations(format, items, options));
    }
  });

  it('hold a small part of what the raw masks and maps take', () => {
    const raw = items.reduce((sum, it) => sum + it.mask.data.byteLength + (it.map?.data.byteLength ?? 0), 0);
    const held = items.reduce((sum, it) => sum + packedBytes(packExportItem(it)), 0);
    expect(held).toBeLessThan(raw / 20);
  });
});
