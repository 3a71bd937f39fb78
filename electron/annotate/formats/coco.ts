import { z } from 'zod';
import { componentMask } from '../components.ts';
import { traceComponent } from '../contours.ts';
import { keyholeRing } from '../keyhole.ts';
import { countForeground, createMask } from '../mask.ts';
import { fillRings } from '../rasterize.ts';
import { countsToString, decodeRle, rleArea, rleBbox, rleCounts, type CocoRle } from '../rle.ts';
import type { Box, ExportFiles, ExportItem, ExportOptions, ImportResult, Ring } from '../types.ts';
import { categoriesOf, CategoryTable, describeIssues, parseJson, prepareItems, round6, sortItems, toleranceOf } from './common.ts';

/*
 * COCO instance segmentation, laid out as CVAT and Datumaro export it:
 * annotations/instances_default.json (+ images/<file_name> when the images are given).
 * file_name is the image's path relative to the image folder ("Class1/Test/0000.PNG").
 * One annotation per connected region, iscrowd 0 (1 would make COCOeval ignore it).
 * Polygons use pixel-corner coordinates, which pycocotools rasterises back to the region;
 * a region's holes are spliced into its one polygon (see keyhole.ts).
 */

export const COCO_ANNOTATION_FILE = 'annotations/instances_default.json';

export interface CocoExportOptions extends ExportOptions {
  /** 'polygon' (default), or 'rle' for run-length masks. */
  segmentation?: 'polygon' | 'rle';
  /** RLE counts as pycocotools' compressed string (default) or as a plain list. */
  compressedRle?: boolean;
}

interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  segmentation: number[][] | CocoRle;
  area: number;
  bbox: [number, number, number, number];
  iscrowd: 0;
  score?: number;
}

export function exportCoco(items: Iterable<ExportItem>, options: CocoExportOptions = {}): ExportFiles {
  const categories = categoriesOf(options);
  const tolerance = toleranceOf(options, 'corner');
  const useRle = options.segmentation === 'rle';
  const files: ExportFiles = {};
  const images: { id: number; file_name: string; width: number; height: number }[] = [];
  const annotations: CocoAnnotation[] = [];
  for (const p of prepareItems(items, categories)) {
    const imageId = images.length + 1;
    images.push({ id: imageId, file_name: p.path, width: p.item.width, height: p.item.height });
    if (p.item.image) files[`images/${p.path}`] = p.item.image;
    for (const inst of p.instances) {
      const { component } = inst;
      let segmentation: CocoAnnotation['segmentation'];
      let area: number;
      let bbox: Box = component.bbox;
      if (useRle) {
        // Area and box as pycocotools derives them from the RLE written.
        const counts = rleCounts(componentMask(p.labelling, component.label));
        segmentation = { size: [p.item.height, p.item.width], counts: options.compressedRle === false ? counts : countsToString(counts) };
        area = rleArea(counts);
        bbox = rleBbox(counts, p.item.height);
      } else {
        const ring = keyholeRing(traceComponent(p.labelling, component, { convention: 'corner', tolerance }));
        segmentation = [flatten(ring)];
        // The area a COCO reader gets from the polygon as written.
        const drawn = createMask(p.item.width, p.item.height);
        fillRings(drawn, [ring], 'pycocotools');
        area = countForeground(drawn);
      }
      const annotation: CocoAnnotation = {
        id: annotations.length + 1,
        image_id: imageId,
        category_id: component.category,
        segmentation,
        area,
        bbox: [bbox.x, bbox.y, bbox.width, bbox.height],
        iscrowd: 0,
      };
      if (inst.score !== undefined) annotation.score = round6(inst.score);
      annotations.push(annotation);
    }
  }
  const coco = {
    info: { description: 'Kizu defect annotations', version: '1.0' },
    licenses: [],
    images,
    categories: categories.map((name, i) => ({ id: i + 1, name, supercategory: '' })),
    annotations,
  };
  files[COCO_ANNOTATION_FILE] = JSON.stringify(coco);
  return files;
}

function flatten(ring: Ring): number[] {
  const out: number[] = [];
  for (const p of ring) out.push(p.x, p.y);
  return out;
}

const rleSchema = z.object({
  size: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  counts: z.union([z.string(), z.array(z.number().int().nonnegative())]),
});

const cocoSchema = z.object({
  images: z.array(
    z.looseObject({
      id: z.number().int(),
      file_name: z.string().min(1),
      width: z.number().int().positive(),
      height: z.number().int().positive(),
    }),
  ),
  categories: z.array(z.looseObject({ id: z.number().int(), name: z.string().min(1) })),
  annotations: z.array(
    z.looseObject({
      id: z.union([z.number(), z.string()]),
      image_id: z.number().int(),
      category_id: z.number().int(),
      segmentation: z.union([z.array(z.array(z.number())), rleSchema]).optional(),
    }),
  ),
});

/** Masks from a COCO instances file (polygons, compressed or plain RLE), one per image. */
export function importCoco(content: Uint8Array | string, file = COCO_ANNOTATION_FILE): ImportResult {
  const parsed = cocoSchema.safeParse(parseJson(content, file));
  if (!parsed.success) throw new Error(describeIssues(file, parsed.error.issues));
  const coco = parsed.data;
  const table = new CategoryTable();
  const valueOfCategory = new Map<number, number>();
  for (const c of coco.categories) valueOfCategory.set(c.id, table.valueOf(c.name));
  const items = new Map<number, { fileName: string; width: number; height: number; mask: ReturnType<typeof createMask> }>();
  for (const img of coco.images) {
    if (items.has(img.id)) throw new Error(`${file}: image id ${img.id} is used twice`);
    items.set(img.id, { fileName: img.file_name, width: img.width, height: img.height, mask: createMask(img.width, img.height, `${file}: image ${img.id}`) });
  }
  for (const ann of coco.annotations) {
    const where = `${file}: annotation ${ann.id}`;
    const item = items.get(ann.image_id);
    if (!item) throw new Error(`${where} refers to image ${ann.image_id}, which is not in "images"`);
    const value = valueOfCategory.get(ann.category_id);
    if (value === undefined) throw new Error(`${where} has category ${ann.category_id}, which is not in "categories"`);
    const seg = ann.segmentation;
    if (seg === undefined) continue;
    if (Array.isArray(seg)) {
      for (const [k, flat] of seg.entries()) {
        if (flat.length < 6 || flat.length % 2 !== 0) {
          throw new Error(`${where}: polygon ${k} has ${flat.length} coordinates; a polygon needs an even number, at least 6`);
        }
        const ring: Ring = [];
        for (let i = 0; i < flat.length; i += 2) ring.push({ x: flat[i], y: flat[i + 1] });
        fillRings(item.mask, [ring], 'pycocotools', value);
      }
    } else {
      const size = seg.size;
      if (size[0] !== item.height || size[1] !== item.width) {
        throw new Error(`${where}: RLE size ${size[0]}x${size[1]} (h x w) does not match image ${item.height}x${item.width}`);
      }
      let decoded;
      try {
        decoded = decodeRle(seg as CocoRle);
      } catch (err) {
        throw new Error(`${where}: ${err instanceof Error ? err.message : String(err)}`);
      }
      for (let i = 0; i < decoded.data.length; i++) if (decoded.data[i]) item.mask.data[i] = value;
    }
  }
  return { categories: table.names, items: sortItems([...items.values()]) };
}
