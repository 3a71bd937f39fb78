import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { stemPathOf, textOf } from '../annotate/formats/common.ts';
import { importAnnotations, type ExportFormat } from '../annotate/formats/index.ts';
import { PNG_MASK_PATH } from '../annotate/formats/png.ts';
import type { ImportResult } from '../annotate/types.ts';
import { isImageFile } from './dataset-images.ts';
import { probeImage } from './image-io.ts';

/** Annotation files larger than this are refused rather than read into memory. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

/** Which files under the folder each format reads (paths relative to it, '/'-separated). */
const WANTED: Record<ExportFormat, (rel: string) => boolean> = {
  coco: (rel) => rel.toLowerCase().endsWith('.json'),
  'coco-rle': (rel) => rel.toLowerCase().endsWith('.json'),
  labelme: (rel) => rel.toLowerCase().endsWith('.json'),
  yolo: (rel) => /(^|\/)data\.ya?ml$/i.test(rel) || /(^|\/)labels\/.*\.txt$/i.test(rel),
  voc: (rel) => rel === 'labelmap.txt' || /^(Annotations\/.+\.xml|Segmentation(Class|Object)\/.+\.png)$/i.test(rel),
  png: (rel) => PNG_MASK_PATH.test(rel),
  'png-instance': (rel) => PNG_MASK_PATH.test(rel),
};

/**
 * Reads an annotation set written by Kizu or a labelling tool back into masks, each named by
 * its image's path relative to the image folder ("Class1/Test/0000.PNG"). `dir` is the export
 * folder; a COCO file may also be given directly. YOLO labels are normalised, so the images
 * (under images/ of the folder, or `imageDir`) are probed for their sizes. PNG masks do not
 * name their image's extension: with `imageDir`, each takes its image's name from there.
 */
export async function readAnnotations(dir: string, format: ExportFormat, options: { imageDir?: string } = {}): Promise<ImportResult> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new Error(`${dir}: no such file or folder`);
  const files: Record<string, Uint8Array | string> = {};
  if (info.isFile()) {
    if (format !== 'coco' && format !== 'coco-rle') throw new Error(`${dir}: ${format} annotations are a folder, not one file`);
    files[basename(dir)] = await readLimited(dir);
  } else {
    for (const rel of await listFiles(dir)) {
      if (WANTED[format](rel)) files[rel] = await readLimited(join(dir, ...rel.split('/')));
    }
  }
  if (Object.keys(files).length === 0) throw new Error(`${dir}: no ${format} annotation files found`);
  if (format === 'yolo') {
    const images = options.imageDir !== undefined ? await imagesIn(options.imageDir, []) : await imagesIn(join(dir, 'images'), yoloSubsets(files));
    return importAnnotations(format, files, { images });
  }
  const result = importAnnotations(format, files);
  if ((format === 'png' || format === 'png-instance') && options.imageDir !== undefined) {
    const byStem = new Map((await imageFiles(options.imageDir)).map((rel) => [stemPathOf(rel), rel]));
    for (const item of result.items) item.fileName = byStem.get(item.fileName) ?? item.fileName;
  }
  return result;
}

/**
 * The images under `root` keyed by their path there without extension, as YOLO labels find
 * them; each named by that path less the subset folder it lies in (images/train/a/b.png is
 * "a/b.png" of subset "train"), as Kizu's YOLO export puts the image folder under a subset.
 */
async function imagesIn(root: string, subsets: readonly string[]): Promise<Record<string, { width: number; height: number; fileName: string }>> {
  const images: Record<string, { width: number; height: number; fileName: string }> = {};
  for (const rel of await imageFiles(root)) {
    const { width, height } = await probeImage(join(root, ...rel.split('/')));
    const subset = subsets.find((s) => rel.startsWith(`${s}/`));
    images[stemPathOf(rel)] = { width, height, fileName: subset === undefined ? rel : rel.slice(subset.length + 1) };
  }
  return images;
}

async function imageFiles(root: string): Promise<string[]> {
  const files = await listFiles(root).catch(() => [] as string[]);
  return files.filter(isImageFile);
}

/** The subset folders under images/ that data.yaml's train, val and test name ("images/train" -> "train"). */
function yoloSubsets(files: Record<string, Uint8Array | string>): string[] {
  const yamlPath = Object.keys(files).find((p) => /^data\.ya?ml$/i.test(p));
  if (yamlPath === undefined) return [];
  let doc: unknown;
  try {
    doc = parseYaml(textOf(files[yamlPath], yamlPath));
  } catch {
    return [];
  }
  const parsed = yoloSplitsSchema.safeParse(doc);
  if (!parsed.success) return [];
  const folders = [parsed.data.train, parsed.data.val, parsed.data.test].flat().filter((v) => v !== undefined);
  const subsets = folders.map((f) => /^(?:\.\/)?images\/(.+?)\/?$/.exec(f)?.[1]).filter((s) => s !== undefined);
  // Longest first, so a folder nested in another subset is matched as itself.
  return [...new Set(subsets)].sort((a, b) => b.length - a.length);
}

const yoloSplit = z.union([z.string(), z.array(z.string())]).optional();
const yoloSplitsSchema = z.looseObject({ train: yoloSplit, val: yoloSplit, test: yoloSplit });

async function readLimited(path: string): Promise<Uint8Array> {
  const s = await stat(path);
  if (s.size > MAX_FILE_BYTES) throw new Error(`${path}: ${s.size} bytes is more than an annotation file may be (${MAX_FILE_BYTES})`);
  return new Uint8Array(await readFile(path));
}

/** Every file under `root`, relative and '/'-separated, skipping hidden entries such as .kizu/. */
async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile()) continue;
    const parent = (e as { parentPath?: string; path?: string }).parentPath ?? (e as { path?: string }).path ?? root;
    const rel = relative(root, join(parent, e.name)).split(sep).join('/');
    if (rel.split('/').some((part) => part.startsWith('.'))) continue;
    out.push(rel);
  }
  return out.sort();
}
