import { z } from 'zod';
import { createMask } from '../mask.ts';
import { fillRings } from '../rasterize.ts';
import type { ExportFiles, ExportItem, ExportOptions, ImportedItem, ImportResult, Ring } from '../types.ts';
import { centreKeyholeRing } from './centre-rings.ts';
import {
  baseName, categoriesOf, CategoryTable, describeIssues, folderOf, joinPath, parseJson, prepareItems, round6, sortItems, stemPathOf, toleranceOf,
} from './common.ts';

/*
 * LabelMe: <stem>.json per image, beside the image, with one "polygon" shape per region.
 * The JSONs mirror the images' subfolders (Class1/Test/0000.json for Class1/Test/0000.PNG),
 * and imagePath is, as in LabelMe, the image's path relative to its JSON.
 * LabelMe turns a polygon into a mask with Pillow, which samples pixel centres at integer
 * coordinates, so points sit on pixel centres.
 * "score" on a shape is an extra key LabelMe keeps and X-AnyLabeling reads.
 */

const LABELME_VERSION = '5.5.0';

export interface LabelmeExportOptions extends ExportOptions {
  /** Embed the image as base64 in imageData (needs ExportItem.image). Default false: null. */
  imageData?: boolean;
  /** The imagePath to write, relative to the JSON; default the image's name (it sits beside it). */
  imagePath?: (item: ExportItem) => string;
}

export function exportLabelme(items: Iterable<ExportItem>, options: LabelmeExportOptions = {}): ExportFiles {
  const categories = categoriesOf(options);
  const tolerance = toleranceOf(options, 'centre');
  const files: ExportFiles = {};
  for (const p of prepareItems(items, categories)) {
    const shapes = p.instances.map((inst) => {
      const shape: Record<string, unknown> = {
        label: inst.categoryName,
        points: centreKeyholeRing(p, inst, tolerance).map((q) => [q.x, q.y]),
        group_id: null,
        description: '',
        shape_type: 'polygon',
        flags: {},
        mask: null,
      };
      if (inst.score !== undefined) shape.score = round6(inst.score);
      return shape;
    });
    if (options.imageData && !p.item.image) throw new Error(`labelme export: "${p.item.fileName}" has no image bytes to embed`);
    const doc = {
      version: LABELME_VERSION,
      flags: {},
      shapes,
      imagePath: options.imagePath ? options.imagePath(p.item) : baseName(p.path),
      imageData: options.imageData && p.item.image ? toBase64(p.item.image) : null,
      imageHeight: p.item.height,
      imageWidth: p.item.width,
    };
    files[`${p.stem}.json`] = JSON.stringify(doc, null, 2);
    if (p.item.image) files[p.path] = p.item.image;
  }
  return files;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) s += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(s);
}

const pointSchema = z.tuple([z.number(), z.number()]);
const labelmeSchema = z.looseObject({
  shapes: z.array(
    z.looseObject({
      label: z.string().min(1),
      points: z.array(pointSchema),
      shape_type: z.string().nullish(),
    }),
  ),
  imagePath: z.string(),
  imageHeight: z.number().int().positive(),
  imageWidth: z.number().int().positive(),
});

/**
 * Masks from LabelMe JSON files (relative path -> content). Polygon and rectangle shapes are
 * drawn; any other shape type is an error rather than a silently missing region. Each item is
 * named by its imagePath read against the JSON's folder ("Class1/Test/0000.PNG"), or by the
 * JSON's own path without ".json" where imagePath is empty.
 */
export function importLabelme(files: Record<string, Uint8Array | string>, categories: readonly string[] = []): ImportResult {
  const table = new CategoryTable(categories);
  const items: ImportedItem[] = [];
  for (const path of Object.keys(files).sort()) {
    if (!path.toLowerCase().endsWith('.json')) continue;
    const parsed = labelmeSchema.safeParse(parseJson(files[path], path));
    if (!parsed.success) throw new Error(describeIssues(path, parsed.error.issues));
    const doc = parsed.data;
    const mask = createMask(doc.imageWidth, doc.imageHeight, path);
    doc.shapes.forEach((shape, k) => {
      const type = shape.shape_type ?? 'polygon';
      let ring: Ring;
      if (type === 'polygon') {
        if (shape.points.length < 3) throw new Error(`${path}: shape ${k} ("${shape.label}") is a polygon with ${shape.points.length} points`);
        ring = shape.points.map(([x, y]) => ({ x, y }));
      } else if (type === 'rectangle') {
        if (shape.points.length !== 2) throw new Error(`${path}: shape ${k} ("${shape.label}") is a rectangle with ${shape.points.length} points, not 2`);
        const [[x0, y0], [x1, y1]] = shape.points;
        ring = [{ x: x0, y: y0 }, { x: x1, y: y0 }, { x: x1, y: y1 }, { x: x0, y: y1 }];
      } else {
        throw new Error(`${path}: shape ${k} ("${shape.label}") has shape_type "${type}"; Kizu imports polygon and rectangle shapes`);
      }
      fillRings(mask, [ring], 'pil', table.valueOf(shape.label));
    });
    const fileName = doc.imagePath === '' ? stemPathOf(path) : joinPath(folderOf(path), doc.imagePath);
    items.push({ fileName, width: doc.imageWidth, height: doc.imageHeight, mask });
  }
  return { categories: table.names, items: sortItems(items) };
}
