import sharp from 'sharp';
import { exportAnnotations, type ExportFormat } from '../../../../electron/annotate/formats/index.ts';
import type { Mask } from '../../../../electron/annotate/types.ts';
import { bmp24, bmp8, png16, tiff16 } from '../../data/image-fixtures.ts';

export interface ImageSeed {
  name: string;
  bytes: Uint8Array;
}

/** Small valid files of every kind Kizu reads: the fuzz mutates these. */
export async function imageSeeds(): Promise<ImageSeed[]> {
  const W = 24, H = 16;
  const grey = Buffer.from(Uint8Array.from({ length: W * H }, (_, i) => (i * 37) % 256));
  const rgb = Buffer.from(Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 53) % 256));
  const raw = (data: Buffer, channels: 1 | 3) => sharp(data, { raw: { width: W, height: H, channels } });
  const palette = Array.from({ length: 256 }, (_, i): [number, number, number] => [i, i, i]);
  const seeds: [string, Buffer | Uint8Array][] = [
    ['grey.png', await raw(grey, 1).toColourspace('b-w').png().toBuffer()],
    ['rgb.png', await raw(rgb, 3).png().toBuffer()],
    ['palette.png', await raw(rgb, 3).png({ palette: true, colours: 16 }).toBuffer()],
    ['grey16.png', await png16(W, H, Uint16Array.from({ length: W * H }, (_, i) => i * 170))],
    ['grey.jpg', await raw(grey, 1).jpeg({ quality: 80 }).toBuffer()],
    ['rgb-progressive.jpg', await raw(rgb, 3).jpeg({ quality: 80, progressive: true }).toBuffer()],
    ['rotated.jpg', await raw(rgb, 3).jpeg().withMetadata({ orientation: 6 }).toBuffer()],
    ['cmyk.jpg', await raw(rgb, 3).toColourspace('cmyk').jpeg().toBuffer()],
    ['lzw.tif', await raw(rgb, 3).tiff({ compression: 'lzw' }).toBuffer()],
    ['grey16.tif', tiff16(W, H, 1, Uint16Array.from({ length: W * H }, (_, i) => i * 97))],
    ['rgb16.tif', tiff16(W, H, 3, Uint16Array.from({ length: W * H * 3 }, (_, i) => i * 31))],
    ['palette.bmp', bmp8(W, H, grey, palette)],
    ['rgb.bmp', bmp24(W, H, rgb)],
  ];
  return seeds.map(([name, bytes]) => ({ name, bytes: new Uint8Array(bytes) }));
}

export interface AnnotationSeed {
  format: ExportFormat;
  /** Relative path -> content, as importAnnotations takes them. */
  files: Record<string, Uint8Array>;
  /** The files a mutation may hit: the annotation file first (it is picked most often). */
  targets: string[];
  /** YOLO only: the images' sizes by stem. */
  images?: Record<string, { width: number; height: number; fileName?: string }>;
}

function seedMask(width: number, height: number, k: number): Mask {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inBox = x >= 4 + k && x < 18 + k && y >= 3 && y < 14;
      const inDisc = (x - 34) ** 2 + (y - 20 - k) ** 2 < 49;
      const hole = x >= 9 + k && x < 12 + k && y >= 7 && y < 10;
      if ((inBox && !hole) || inDisc) data[y * width + x] = inDisc ? 2 : 1;
    }
  }
  return { width, height, data };
}

const encoder = new TextEncoder();
const asBytes = (files: Record<string, Uint8Array | string>) =>
  Object.fromEntries(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? encoder.encode(v) : v]));

/** Annotation sets as Kizu exports them (two images, two categories, holes), per importer. */
export function annotationSeeds(): AnnotationSeed[] {
  const items = [0, 3].map((k) => ({ fileName: `part-${k}.png`, width: 48, height: 32, mask: seedMask(48, 32, k), score: 0.9 }));
  const options = { categories: ['scratch', 'dent'] };
  const seeds: AnnotationSeed[] = [];
  for (const format of ['coco', 'coco-rle'] as const) {
    const files = asBytes(exportAnnotations(format, items, options));
    seeds.push({ format, files, targets: ['annotations/instances_default.json'] });
  }
  const labelme = asBytes(exportAnnotations('labelme', items, options));
  seeds.push({ format: 'labelme', files: labelme, targets: Object.keys(labelme) });
  const yolo = asBytes(exportAnnotations('yolo', items, options));
  const labels = Object.keys(yolo).filter((k) => k.startsWith('labels/'));
  seeds.push({ format: 'yolo', files: yolo, targets: [...labels, 'data.yaml'], images: { 'part-0': { width: 48, height: 32 }, 'part-3': { width: 48, height: 32 } } });
  const voc = asBytes(exportAnnotations('voc', items, options));
  const xml = Object.keys(voc).filter((k) => k.startsWith('Annotations/'));
  const pngs = Object.keys(voc).filter((k) => k.startsWith('Segmentation'));
  seeds.push({ format: 'voc', files: voc, targets: [...xml, ...pngs, 'labelmap.txt'] });
  // The same set without class PNGs, so objects are read through the XML.
  const objectsOnly = Object.fromEntries(Object.entries(voc).filter(([k]) => !k.startsWith('SegmentationClass/')));
  seeds.push({ format: 'voc', files: objectsOnly, targets: [...xml, ...pngs.filter((k) => k.startsWith('SegmentationObject/'))] });
  return seeds;
}
