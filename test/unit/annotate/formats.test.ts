import { decode } from 'fast-png';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { EXPORT_FORMATS, exportAnnotations, importAnnotations, type ExportFormat } from '../../../electron/annotate/formats/index.ts';
import { maskIoU } from '../../../electron/annotate/mask.ts';
import { stringToCounts } from '../../../electron/annotate/rle.ts';
import type { ExportItem, ImportResult, Mask } from '../../../electron/annotate/types.ts';
import { blobMap, differingPixels, maskFromRows } from './synthetic.ts';

const POLYGON_FORMATS: ExportFormat[] = ['coco', 'yolo', 'labelme'];

function item(seed: number, width: number, height: number): ExportItem {
  const map = blobMap(width, height, seed, 8);
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = map.data[i] >= 0.45 ? 1 : 0;
  return { fileName: `part-${seed}.png`, width, height, mask: { width, height, data }, map, score: 0.87 };
}

const items = [item(21, 512, 512), item(22, 512, 384), item(23, 300, 200)];

function imagesOf(list: ExportItem[]): Record<string, { width: number; height: number; fileName: string }> {
  return Object.fromEntries(list.map((it) => [it.fileName.replace(/\.png$/, ''), { width: it.width, height: it.height, fileName: it.fileName }]));
}

function roundTrip(format: ExportFormat, list: ExportItem[], categories?: string[]): ImportResult {
  const files = exportAnnotations(format, list, categories ? { categories } : {});
  return importAnnotations(format, files, { images: imagesOf(list) });
}

function sameImage(a: string, b: string): boolean {
  return a.replace(/\.png$/, '') === b.replace(/\.png$/, '');
}

describe('round trips: mask -> export -> import -> mask', () => {
  it('the test masks are realistic: several regions, some with holes', () => {
    for (const it of items) {
      const files = exportAnnotations('coco', [it], { tolerance: 0 });
      const coco = JSON.parse(files['annotations/instances_default.json'] as string);
      expect(coco.annotations.length).toBeGreaterThanOrEqual(3);
    }
  });

  for (const format of EXPORT_FORMATS) {
    const polygon = POLYGON_FORMATS.includes(format);
    it(`${format}: ${polygon ? 'IoU >= 0.99' : 'exact'}`, () => {
      const back = roundTrip(format, items);
      expect(back.categories).toEqual(['defect']);
      expect(back.items).toHaveLength(items.length);
      for (const original of items) {
        const got = back.items.find((b) => sameImage(b.fileName, original.fileName));
        expect(got, original.fileName).toBeDefined();
        if (!got) continue;
        expect([got.width, got.height]).toEqual([original.width, original.height]);
        if (polygon) expect(maskIoU(got.mask, original.mask), `${format} ${original.fileName}`).toBeGreaterThanOrEqual(0.99);
        else expect(differingPixels(got.mask, original.mask), `${format} ${original.fileName}`).toBe(0);
      }
    });
  }

  it('keeps categories apart where the format can (coco, coco-rle, voc, yolo, labelme)', () => {
    const m = items[0].mask;
    const two: Mask = { ...m, data: m.data.map((v, i) => (v ? 1 + (i % m.width < 256 ? 0 : 1) : 0)) };
    const list = [{ ...items[0], mask: two }];
    for (const format of ['coco', 'coco-rle', 'voc', 'yolo', 'labelme'] as const) {
      const back = roundTrip(format, list, ['scratch', 'dent']);
      // LabelMe has no category list: its names come back in the order first met.
      expect([...back.categories].sort()).toEqual(['dent', 'scratch']);
      const got = back.items[0].mask;
      for (const [v, name] of [[1, 'scratch'], [2, 'dent']] as const) {
        const w = back.categories.indexOf(name) + 1;
        const a = { ...got, data: got.data.map((x) => (x === w ? 1 : 0)) };
        const b = { ...two, data: two.data.map((x) => (x === v ? 1 : 0)) };
        expect(maskIoU(a, b), `${format} ${name}`).toBeGreaterThanOrEqual(format === 'coco-rle' || format === 'voc' ? 1 : 0.98);
      }
    }
  });
});

describe('what each format writes', () => {
  const small: ExportItem = {
    fileName: 'img/a.png',
    width: 6,
    height: 5,
    mask: maskFromRows(['......', '.111..', '.1.1..', '.111..', '.....1']),
    score: 0.75,
    image: new Uint8Array([1, 2, 3, 250]),
  };

  it('COCO: images, categories and annotations with area, bbox, iscrowd 0 and score', () => {
    const files = exportAnnotations('coco', [small]);
    expect(files['images/img/a.png']).toEqual(small.image);
    const coco = JSON.parse(files['annotations/instances_default.json'] as string);
    expect(coco.images).toEqual([{ id: 1, file_name: 'img/a.png', width: 6, height: 5 }]);
    expect(coco.categories).toEqual([{ id: 1, name: 'defect', supercategory: '' }]);
    expect(coco.annotations[0]).toMatchObject({ id: 1, image_id: 1, category_id: 1, area: 8, bbox: [1, 1, 3, 3], iscrowd: 0, score: 0.75 });
    expect(coco.annotations[1]).toMatchObject({ id: 2, area: 1, bbox: [5, 4, 1, 1] });
    const rle = JSON.parse(exportAnnotations('coco-rle', [small])['annotations/instances_default.json'] as string);
    // Column-major runs: 6 zeros, 3 ones (column 1), 2 zeros, 1, 1 (the hole), 1, 2, 3 (column 3), 11.
    expect(rle.annotations[0].segmentation).toEqual({ size: [5, 6], counts: '632NO0129' });
    expect(stringToCounts('632NO0129')).toEqual([6, 3, 2, 1, 1, 1, 2, 3, 11]);
  });

  it('COCO: an instance score is the map maximum over it when a map is given', () => {
    const map = { width: 6, height: 5, data: new Float32Array(30).map((_, i) => i / 100) };
    const coco = JSON.parse(exportAnnotations('coco', [{ ...small, map }])['annotations/instances_default.json'] as string);
    expect(coco.annotations.map((a: { score: number }) => a.score)).toEqual([0.21, 0.29]);
  });

  it('VOC: 1-based boxes, VOC-palette PNGs, image lists and a label map', () => {
    const files = exportAnnotations('voc', [small]);
    const xml = files['Annotations/img/a.xml'] as string;
    expect(xml).toContain('<filename>img/a.png</filename>');
    expect(xml).toMatch(/<bndbox>\s*<xmin>2<\/xmin>\s*<ymin>2<\/ymin>\s*<xmax>4<\/xmax>\s*<ymax>4<\/ymax>/);
    expect(xml).toMatch(/<truncated>1<\/truncated>[\s\S]*<xmin>6<\/xmin>/);
    const cls = decode(files['SegmentationClass/img/a.png'] as Uint8Array);
    expect(cls.palette?.[1]).toEqual([128, 0, 0]);
    expect(cls.data[1 * 6 + 1]).toBe(1);
    const obj = decode(files['SegmentationObject/img/a.png'] as Uint8Array);
    expect(obj.data[4 * 6 + 5]).toBe(2);
    expect(files['ImageSets/Segmentation/default.txt']).toBe('img/a\n');
    expect(files['labelmap.txt']).toBe('# label:color_rgb:parts:actions\nbackground:0,0,0::\ndefect:128,0,0::\n');
    expect(files['JPEGImages/img/a.png']).toEqual(small.image);
  });

  it('VOC import reads void (255) as background', () => {
    const files = exportAnnotations('voc', [small]);
    const png = decode(files['SegmentationClass/img/a.png'] as Uint8Array);
    const withVoid = new Uint8Array(png.data);
    withVoid[0] = 255;
    withVoid[1 * 6 + 1] = 255;
    const { encodeIndexedPng, vocColourMap } = require_png();
    files['SegmentationClass/img/a.png'] = encodeIndexedPng(6, 5, withVoid, vocColourMap());
    const back = importAnnotations('voc', files);
    expect(back.items[0].mask.data[0]).toBe(0);
    expect(back.items[0].mask.data[1 * 6 + 1]).toBe(0);
    expect(back.items[0].mask.data[1 * 6 + 2]).toBe(1);
  });

  it('YOLO: normalised segments that Ultralytics truncates back onto pixel centres, and data.yaml', () => {
    const files = exportAnnotations('yolo', [small]);
    expect(parseYaml(files['data.yaml'] as string)).toEqual({ train: 'images/train', val: 'images/train', names: { 0: 'defect' } });
    expect(files['images/train/img/a.png']).toEqual(small.image);
    const lines = (files['labels/train/img/a.txt'] as string).trim().split('\n');
    expect(lines).toHaveLength(2);
    const v = lines[0].split(' ').map(Number);
    expect(v[0]).toBe(0);
    expect((v.length - 1) % 2).toBe(0);
    const xs = v.slice(1).filter((_, i) => i % 2 === 0).map((x) => Math.trunc(x * 6));
    const ys = v.slice(1).filter((_, i) => i % 2 === 1).map((y) => Math.trunc(y * 5));
    // The outer ring through the corner pixels' centres, the hole's ring through its 4 neighbours.
    expect(new Set(xs)).toEqual(new Set([1, 2, 3]));
    expect(new Set(ys)).toEqual(new Set([1, 2, 3]));
    expect(lines[1].split(' ').length).toBe(7);
  });

  it('LabelMe: one JSON per image with polygon shapes; imageData only when asked', () => {
    const files = exportAnnotations('labelme', [small]);
    const doc = JSON.parse(files['img/a.json'] as string);
    expect(Object.keys(doc)).toEqual(['version', 'flags', 'shapes', 'imagePath', 'imageData', 'imageHeight', 'imageWidth']);
    expect(doc).toMatchObject({ imagePath: 'a.png', imageData: null, imageHeight: 5, imageWidth: 6 });
    expect(doc.shapes[0]).toMatchObject({ label: 'defect', shape_type: 'polygon', group_id: null, flags: {}, score: 0.75 });
    expect(doc.shapes[0].points).toContainEqual([1, 1]);
    const embedded = JSON.parse(exportAnnotations('labelme', [small], { imageData: true })['img/a.json'] as string);
    expect(Uint8Array.from(atob(embedded.imageData), (c) => c.charCodeAt(0))).toEqual(small.image);
  });

  it('PNG: 0/255 masks and instance-index masks', () => {
    const bin = decode(exportAnnotations('png', [small])['masks/img/a.png'] as Uint8Array);
    expect([bin.channels, bin.depth]).toEqual([1, 8]);
    expect(Array.from(bin.data.slice(6, 12))).toEqual([0, 255, 255, 255, 0, 0]);
    const inst = decode(exportAnnotations('png-instance', [small])['instances/img/a.png'] as Uint8Array);
    expect(inst.data[4 * 6 + 5]).toBe(2);
    expect(inst.data[1 * 6 + 1]).toBe(1);
  });
});

describe('import validation', () => {
  it('names the file and the problem', () => {
    expect(() => importAnnotations('coco', { 'x.json': '{"images": []}' })).toThrow(/x\.json: categories/);
    expect(() =>
      importAnnotations('coco', {
        'x.json': JSON.stringify({
          images: [{ id: 1, file_name: 'a.png', width: 4, height: 4 }],
          categories: [{ id: 1, name: 'defect' }],
          annotations: [{ id: 7, image_id: 1, category_id: 1, segmentation: [[0, 0, 1, 1]] }],
        }),
      }),
    ).toThrow(/annotation 7: polygon 0 has 4 coordinates/);
    expect(() => importAnnotations('yolo', { 'data.yaml': 'names: [defect]', 'labels/a.txt': '3 0.1 0.1 0.2 0.2 0.3 0.1' }, { images: { a: { width: 4, height: 4 } } })).toThrow(
      /labels\/a\.txt:1: class "3"/,
    );
    expect(() => importAnnotations('labelme', { 'a.json': JSON.stringify({ shapes: [{ label: 'd', points: [[0, 0], [2, 2]], shape_type: 'circle' }], imagePath: 'a.png', imageHeight: 4, imageWidth: 4 }) })).toThrow(
      /a\.json: shape 0 \("d"\) has shape_type "circle"/,
    );
    expect(() => importAnnotations('png', { 'masks/a.png': new Uint8Array([1, 2, 3]) })).toThrow(/masks\/a\.png: not a readable PNG/);
  });

  it('refuses exports it could not write faithfully', () => {
    const m = maskFromRows(['1.', '.2']);
    expect(() => exportAnnotations('coco', [{ fileName: 'a.png', width: 2, height: 2, mask: m }])).toThrow(/mask value 2 has no category/);
    const one = (fileName: string): ExportItem => ({ fileName, width: 2, height: 2, mask: maskFromRows(['1.', '..']) });
    expect(() => exportAnnotations('yolo', [one('a/x.png'), one('a/x.jpg')])).toThrow(/"a\/x\.png" and "a\/x\.jpg" would write files of the same name "a\/x"/);
    // Two names that differ only in case are one file on macOS and Windows.
    expect(() => exportAnnotations('png', [one('A/x.png'), one('a/X.png')])).toThrow(/same name "a\/X"/);
  });

  it('refuses an image path that would write outside the output folder, in every format', () => {
    const one = (fileName: string): ExportItem => ({ fileName, width: 2, height: 2, mask: maskFromRows(['1.', '..']) });
    for (const format of EXPORT_FORMATS) {
      expect(() => exportAnnotations(format, [one('../x.png')]), format).toThrow('export: image path "../x.png" climbs out of the image folder with ".."');
      expect(() => exportAnnotations(format, [one('a/../../x.png')]), format).toThrow(/climbs out of the image folder/);
      expect(() => exportAnnotations(format, [one('a\\..\\..\\x.png')]), format).toThrow(/climbs out of the image folder/);
      expect(() => exportAnnotations(format, [one('/etc/x.png')]), format).toThrow('export: image path "/etc/x.png" is absolute');
      expect(() => exportAnnotations(format, [one('C:/x.png')]), format).toThrow(/is absolute/);
      expect(() => exportAnnotations(format, [one('./')]), format).toThrow(/names no file/);
    }
  });

  it('writes a path with "." parts or Windows separators as its plain relative path', () => {
    const files = exportAnnotations('coco', [{ fileName: './a\\b.png', width: 2, height: 2, mask: maskFromRows(['1.', '..']), image: new Uint8Array([7]) }]);
    expect(JSON.parse(files['annotations/instances_default.json'] as string).images[0].file_name).toBe('a/b.png');
    expect(files['images/a/b.png']).toEqual(new Uint8Array([7]));
  });
});

// Imported lazily so the VOC void test reads like the rest.
function require_png(): typeof import('../../../electron/annotate/png-codec.ts') {
  return pngCodec;
}
import * as pngCodec from '../../../electron/annotate/png-codec.ts';
