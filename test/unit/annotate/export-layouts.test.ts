import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_FORMATS, exportAnnotations, type ExportFormat } from '../../../electron/annotate/formats/index.ts';
import { maskIoU } from '../../../electron/annotate/mask.ts';
import type { ExportItem } from '../../../electron/annotate/types.ts';
import { readAnnotations } from '../../../electron/data/annotation-reader.ts';
import { writeExport } from '../../../electron/data/export-writer.ts';
import { encodePng } from '../../../electron/data/image-io.ts';
import { scanImageFolder } from '../../../electron/data/image-folder.ts';
import { blobMask, differingPixels, rng } from './synthetic.ts';

/*
 * Every format on a folder laid out as DAGM 2007 is, where images of one name live in several
 * folders (Class1/Test/0000.PNG, Class2/Test/0000.PNG): nothing may overwrite anything, and
 * the annotations read back must name each image by its path again.
 */

const tmp = mkdtempSync(join(tmpdir(), 'kizu-layouts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const dagm = join(tmp, 'dagm');

/** Sizes differ per image, so an annotation matched to the wrong image shows in its size too. */
const IMAGES: { id: string; width: number; height: number }[] = [
  { id: 'Class1/Test/0000.PNG', width: 192, height: 144 },
  { id: 'Class1/Test/0001.PNG', width: 120, height: 120 },
  { id: 'Class1/Train/0000.PNG', width: 144, height: 192 },
  { id: 'Class2/Test/0000.PNG', width: 168, height: 156 },
  { id: 'Class2/Train/0000.PNG', width: 216, height: 108 },
];

let items: ExportItem[];

beforeAll(async () => {
  const random = rng(24);
  const written = await Promise.all(IMAGES.map(async ({ id, width, height }) => {
    const data = new Uint8Array(width * height).map(() => Math.floor(random() * 256));
    const png = await encodePng({ width, height, channels: 1, data });
    mkdirSync(join(dagm, id, '..'), { recursive: true });
    writeFileSync(join(dagm, id), png);
    return png;
  }));
  // DAGM's weak labels, which a scan of the folder skips.
  mkdirSync(join(dagm, 'Class1/Test/Label'), { recursive: true });
  writeFileSync(join(dagm, 'Class1/Test/Label/Labels.txt'), '1\n0\t1\t0000.PNG\t1\t0000_label.PNG\n');
  writeFileSync(join(dagm, 'Class1/Test/Label/0000_label.PNG'), written[0]);
  const { images } = await scanImageFolder(dagm);
  items = images.map((image, k) => {
    const { width, height } = IMAGES.find((i) => i.id === image.id)!;
    return { fileName: image.id, width, height, mask: blobMask(width, height, 60 + k), score: 0.9, image: written[IMAGES.findIndex((i) => i.id === image.id)] };
  });
});

const POLYGON_FORMATS: readonly ExportFormat[] = ['coco', 'yolo', 'labelme'];

/** Where each format puts an image's own annotation file, if it writes one per image. */
const PER_IMAGE_FILE: Partial<Record<ExportFormat, (stem: string) => string>> = {
  voc: (stem) => `Annotations/${stem}.xml`,
  yolo: (stem) => `labels/train/${stem}.txt`,
  labelme: (stem) => `${stem}.json`,
  png: (stem) => `masks/${stem}.png`,
  'png-instance': (stem) => `instances/${stem}.png`,
};

/** Where each format copies the images when they are given. */
const IMAGE_FOLDER: Partial<Record<ExportFormat, string>> = {
  coco: 'images', 'coco-rle': 'images', voc: 'JPEGImages', yolo: 'images/train', labelme: '.',
};

describe('export of a DAGM-layout folder whose images share file names', () => {
  it('the folder is what the test needs: names that clash across folders, as the scan gives them', () => {
    expect(items.map((i) => i.fileName)).toEqual(IMAGES.map((i) => i.id));
    expect(new Set(items.map((i) => i.fileName.split('/').at(-1))).size).toBeLessThan(items.length);
  });

  for (const format of EXPORT_FORMATS) {
    for (const withImages of [false, true]) {
      it(`${format}${withImages ? ', images included,' : ''} mirrors the subfolders and reads back onto each image`, async () => {
        const out = join(tmp, `${format}${withImages ? '-images' : ''}`);
        const list = withImages ? items : items.map(({ image: _image, ...rest }) => rest);
        await writeExport(out, exportAnnotations(format, list));
        const perImage = PER_IMAGE_FILE[format];
        for (const item of items) {
          const stem = item.fileName.replace(/\.PNG$/, '');
          if (perImage) expect(existsSync(join(out, perImage(stem))), `${format}: ${perImage(stem)}`).toBe(true);
          const imageFolder = IMAGE_FOLDER[format];
          if (withImages && imageFolder) expect(existsSync(join(out, imageFolder, item.fileName)), `${format}: image of ${item.fileName}`).toBe(true);
        }
        // Formats whose files do not name their image find it in the image folder.
        const imageDir = withImages && format === 'yolo' ? undefined : dagm;
        const back = await readAnnotations(out, format, imageDir === undefined ? {} : { imageDir });
        expect(back.items.map((i) => i.fileName).sort()).toEqual(items.map((i) => i.fileName).sort());
        for (const item of items) {
          const got = back.items.find((b) => b.fileName === item.fileName)!;
          expect(existsSync(join(dagm, got.fileName)), `${format}: ${got.fileName} is an image of the folder`).toBe(true);
          expect([got.width, got.height], `${format} ${item.fileName}`).toEqual([item.width, item.height]);
          if (POLYGON_FORMATS.includes(format)) expect(maskIoU(got.mask, item.mask), `${format} ${item.fileName}`).toBeGreaterThanOrEqual(0.99);
          else expect(differingPixels(got.mask, item.mask), `${format} ${item.fileName}`).toBe(0);
        }
      });
    }
  }

  it('YOLO and LabelMe files say where their image is, as Ultralytics and LabelMe look for it', async () => {
    const files = exportAnnotations('labelme', items);
    const doc = JSON.parse(files['Class2/Test/0000.json'] as string) as { imagePath: string };
    // LabelMe reads imagePath against the JSON's folder, where the image is copied.
    expect(doc.imagePath).toBe('0000.PNG');
    expect(files['Class2/Test/0000.PNG']).toBe(items.find((i) => i.fileName === 'Class2/Test/0000.PNG')!.image);
    // Ultralytics swaps images/ for labels/ and the extension for .txt.
    const yolo = exportAnnotations('yolo', items);
    for (const path of Object.keys(yolo).filter((p) => p.startsWith('images/'))) {
      expect(yolo[path.replace(/^images\//, 'labels/').replace(/\.PNG$/, '.txt')], path).toBeDefined();
    }
  });

  it('a re-import from the image folder needs no copy of the images (YOLO keys without the subset)', async () => {
    const back = await readAnnotations(join(tmp, 'yolo'), 'yolo', { imageDir: dagm });
    expect(back.items.map((i) => i.fileName)).toEqual(items.map((i) => i.fileName));
    expect(readdirSync(join(tmp, 'yolo'))).toEqual(['data.yaml', 'labels']);
  });
});
