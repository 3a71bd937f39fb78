import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { createMask } from '../mask.ts';
import { fillRings } from '../rasterize.ts';
import type { ExportFiles, ExportItem, ExportOptions, ImportedItem, ImportResult, Ring } from '../types.ts';
import { centreKeyholeRing } from './centre-rings.ts';
import { categoriesOf, prepareItems, sortItems, stemPathOf, textOf, toleranceOf } from './common.ts';

/*
 * Ultralytics YOLO segmentation: labels/<subset>/<stem>.txt with one line per region,
 * "class x1 y1 x2 y2 ..." normalised to [0, 1], and data.yaml naming the classes. Labels and
 * images mirror the images' subfolders (labels/train/Class1/Test/0000.txt for
 * images/train/Class1/Test/0000.PNG): Ultralytics finds a label by swapping images/ for labels/
 * in its image's path, and reads the folders under images/train recursively. data.yaml
 * has no "path", so Ultralytics takes the folder holding it as the dataset root.
 * Ultralytics draws a polygon with cv2.fillPoly after truncating the de-normalised points
 * to integers (see RasterRule 'opencv'), so points sit on pixel centres and are written a thousandth of a pixel
 * past them: truncation then lands on the intended pixel despite decimal rounding.
 */

export interface YoloExportOptions extends ExportOptions {
  /** Subset folder under images/ and labels/. Default "train". */
  subset?: string;
}

const NUDGE = 1e-3;

export function exportYolo(items: Iterable<ExportItem>, options: YoloExportOptions = {}): ExportFiles {
  const categories = categoriesOf(options);
  const tolerance = toleranceOf(options, 'centre');
  const subset = options.subset ?? 'train';
  if (!/^[\w.-]+$/.test(subset)) throw new Error(`yolo export: subset "${subset}" must be a plain folder name`);
  const files: ExportFiles = {};
  for (const p of prepareItems(items, categories)) {
    const { width: w, height: h } = p.item;
    const lines = p.instances.map((inst) => {
      const coords: string[] = [];
      for (const q of centreKeyholeRing(p, inst, tolerance)) coords.push(coordinate(q.x, w), coordinate(q.y, h));
      return `${inst.component.category - 1} ${coords.join(' ')}`;
    });
    files[`labels/${subset}/${p.stem}.txt`] = lines.length > 0 ? `${lines.join('\n')}\n` : '';
    if (p.item.image) files[`images/${subset}/${p.path}`] = p.item.image;
  }
  // A Map keeps the class indices numeric keys (0: defect), as Ultralytics writes them.
  const names = new Map(categories.map((n, i) => [i, n]));
  files['data.yaml'] = stringifyYaml({ train: `images/${subset}`, val: `images/${subset}`, names });
  return files;
}

function coordinate(v: number, size: number): string {
  return ((v + NUDGE) / size).toFixed(8).replace(/\.?0+$/, '');
}

export interface YoloImportOptions {
  /**
   * The images by path without extension: YOLO labels are normalised and do not name their
   * image, so each label file needs its image's size (and file name, else the key stands for
   * it). labels/<key>.txt is the label of the image keyed <key>, as images/<key>.<ext> is in
   * Ultralytics; keys may also leave out leading folders of that path (the subset, or every
   * folder in a flat set), and the longest key that ends the label's path is its image's.
   */
  images: Record<string, { width: number; height: number; fileName?: string }>;
}

/**
 * Masks from data.yaml and labels/**\/*.txt (relative path -> content). Segment lines are
 * drawn as Ultralytics does; 5-value lines (detection boxes "class cx cy w h") as rectangles.
 */
export function importYolo(files: Record<string, Uint8Array | string>, options: YoloImportOptions): ImportResult {
  const yamlPath = Object.keys(files).find((p) => /(^|\/)data\.ya?ml$/i.test(p));
  if (!yamlPath) throw new Error('yolo import: no data.yaml');
  const categories = namesFrom(yamlPath, textOf(files[yamlPath], yamlPath));
  const items: ImportedItem[] = [];
  for (const path of Object.keys(files).sort()) {
    if (!/(^|\/)labels\/(.+\/)?[^/]+\.txt$/.test(path)) continue;
    const key = imageKeyOf(path, options.images);
    if (key === undefined) throw new Error(`${path}: no image size for "${labelKeyOf(path)}" (is its image missing?)`);
    const size = options.images[key];
    const mask = createMask(size.width, size.height, path);
    const lines = textOf(files[path], path).split(/\r?\n/);
    lines.forEach((line, n) => {
      const where = `${path}:${n + 1}`;
      const fields = line.trim().split(/\s+/).filter((f) => f !== '');
      if (fields.length === 0) return;
      const cls = Number(fields[0]);
      if (!Number.isInteger(cls) || cls < 0 || cls >= categories.length) {
        throw new Error(`${where}: class "${fields[0]}" is not one of 0..${categories.length - 1} in ${yamlPath}`);
      }
      const v = fields.slice(1).map(Number);
      if (v.some((x) => !Number.isFinite(x) || x < 0 || x > 1)) throw new Error(`${where}: coordinates must be numbers in [0, 1]`);
      if (v.length === 4) {
        const [cx, cy, bw, bh] = v;
        const x0 = Math.round((cx - bw / 2) * size.width);
        const y0 = Math.round((cy - bh / 2) * size.height);
        const x1 = Math.round((cx + bw / 2) * size.width);
        const y1 = Math.round((cy + bh / 2) * size.height);
        fillRings(mask, [[{ x: x0, y: y0 }, { x: x1, y: y0 }, { x: x1, y: y1 }, { x: x0, y: y1 }]], 'pycocotools', cls + 1);
        return;
      }
      if (v.length < 6 || v.length % 2 !== 0) {
        throw new Error(`${where}: a segment needs an even number of coordinates, at least 6; got ${v.length}`);
      }
      const ring: Ring = [];
      for (let i = 0; i < v.length; i += 2) ring.push({ x: v[i] * size.width, y: v[i + 1] * size.height });
      fillRings(mask, [ring], 'opencv', cls + 1);
    });
    items.push({ fileName: size.fileName ?? key, width: size.width, height: size.height, mask });
  }
  return { categories, items: sortItems(items) };
}

/** The label's path after its last labels/ folder, without .txt: "labels/train/Class1/Test/0000.txt" -> "train/Class1/Test/0000". */
function labelKeyOf(path: string): string {
  const parts = stemPathOf(path).split('/');
  return parts.slice(parts.lastIndexOf('labels') + 1).join('/');
}

/** The longest key of `images` that ends the label's key, at a folder boundary. */
function imageKeyOf(path: string, images: YoloImportOptions['images']): string | undefined {
  const parts = labelKeyOf(path).split('/');
  for (let i = 0; i < parts.length; i++) {
    const key = parts.slice(i).join('/');
    if (Object.hasOwn(images, key)) return key;
  }
  return undefined;
}

/** Class names from data.yaml: a list, or a map from index to name. */
function namesFrom(path: string, text: string): string[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`${path}: invalid YAML (${err instanceof Error ? err.message : String(err)})`);
  }
  const names = (doc as { names?: unknown } | null)?.names;
  if (Array.isArray(names) && names.every((n) => typeof n === 'string')) return names;
  if (names && typeof names === 'object') {
    const entries = Object.entries(names as Record<string, unknown>);
    const out: string[] = [];
    for (const [k, v] of entries) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || typeof v !== 'string') throw new Error(`${path}: names entry ${k}: ${String(v)} is not index: name`);
      out[i] = v;
    }
    for (let i = 0; i < out.length; i++) if (out[i] === undefined) throw new Error(`${path}: names has no class ${i}`);
    return out;
  }
  throw new Error(`${path}: no "names" list or map`);
}
