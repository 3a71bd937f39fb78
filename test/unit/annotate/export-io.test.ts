import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_FORMATS, exportAnnotations } from '../../../electron/annotate/formats/index.ts';
import { maskIoU } from '../../../electron/annotate/mask.ts';
import type { ExportItem } from '../../../electron/annotate/types.ts';
import { readAnnotations } from '../../../electron/data/annotation-reader.ts';
import { writeFileAtomic } from '../../../electron/data/atomic-write.ts';
import { writeExport } from '../../../electron/data/export-writer.ts';
import { blobMask, differingPixels } from './synthetic.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kizu-export-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

describe('writeFileAtomic', () => {
  it('replaces a file whole and leaves no temp file', async () => {
    const dir = join(root, 'atomic');
    await mkdir(dir);
    const target = join(dir, 'a.json');
    await writeFile(target, 'old');
    await writeFileAtomic(target, '{"new": true}');
    expect(await readFile(target, 'utf8')).toBe('{"new": true}');
    await writeFileAtomic(target, new Uint8Array([1, 2, 3]));
    expect(new Uint8Array(await readFile(target))).toEqual(new Uint8Array([1, 2, 3]));
    expect(await readdir(dir)).toEqual(['a.json']);
  });

  it('on failure keeps what was there and removes its temp file', async () => {
    const dir = join(root, 'atomic-fail');
    await mkdir(join(dir, 'taken'), { recursive: true });
    await writeFile(join(dir, 'taken', 'keep.txt'), 'keep');
    await expect(writeFileAtomic(join(dir, 'taken'), 'x')).rejects.toThrow();
    expect(await readFile(join(dir, 'taken', 'keep.txt'), 'utf8')).toBe('keep');
    expect(await readdir(dir)).toEqual(['taken']);
  });
});

describe('writeExport', () => {
  it('refuses paths outside the output folder before writing anything', async () => {
    const out = join(root, 'bad-paths');
    await expect(writeExport(out, { 'ok.txt': 'x', '../escape.txt': 'y' })).rejects.toThrow(/not a plain relative path/);
    await expect(writeExport(out, { '/abs.txt': 'y' })).rejects.toThrow(/not a plain relative path/);
    await expect(readdir(out)).rejects.toThrow();
  });

  it('a failed export leaves the files already there whole', async () => {
    const out = join(root, 'partial');
    await writeExport(out, { 'a.txt': 'old a', 'z.txt': 'old z' });
    await writeFile(join(out, 'b'), 'a file where a folder is wanted');
    await expect(writeExport(out, { 'a.txt': 'new a', 'b/c.txt': 'c', 'z.txt': 'new z' })).rejects.toThrow();
    expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe('new a');
    expect(await readFile(join(out, 'z.txt'), 'utf8')).toBe('old z');
    expect((await allFiles(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('export to disk and read back', () => {
  const items: ExportItem[] = [1, 2].map((seed) => {
    const mask = blobMask(200, 150, seed + 40);
    const grey = new Uint8Array(200 * 150).map((_, i) => (i * 7) % 256);
    return { fileName: `shot-${seed}.png`, width: 200, height: 150, mask, image: encode({ width: 200, height: 150, data: grey, channels: 1 }) };
  });

  for (const format of EXPORT_FORMATS) {
    it(`${format}`, async () => {
      const out = join(root, `rt-${format}`);
      await writeExport(out, exportAnnotations(format, items));
      const back = await readAnnotations(out, format);
      expect(back.items.map((i) => i.fileName.replace(/\.png$/, ''))).toEqual(['shot-1', 'shot-2']);
      for (const [k, got] of back.items.entries()) {
        if (format === 'coco' || format === 'yolo' || format === 'labelme') {
          expect(maskIoU(got.mask, items[k].mask), format).toBeGreaterThanOrEqual(0.99);
        } else {
          expect(differingPixels(got.mask, items[k].mask), format).toBe(0);
        }
      }
    });
  }

  it('reads a COCO file given directly and says when nothing is there', async () => {
    const out = join(root, 'rt-coco');
    const back = await readAnnotations(join(out, 'annotations', 'instances_default.json'), 'coco');
    expect(back.items).toHaveLength(2);
    await expect(readAnnotations(join(root, 'atomic'), 'voc')).rejects.toThrow(/no voc annotation files/);
    await expect(readAnnotations(join(root, 'missing'), 'coco')).rejects.toThrow(/no such file or folder/);
  });
});
