import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, relative, sep } from 'node:path';
import { importAnnotations, type ExportFormat } from '../annotate/formats/index.ts';
import type { ImportResult } from '../annotate/types.ts';
import { probeImage } from './image-io.ts';

/** Annotation files larger than this are refused rather than read into memory. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff']);

/** Which files under the folder each format reads (paths relative to it, '/'-separated). */
const WANTED: Record<ExportFormat, (rel: string) => boolean> = {
  coco: (rel) => rel.toLowerCase().endsWith('.json'),
  'coco-rle': (rel) => rel.toLowerCase().endsWith('.json'),
  labelme: (rel) => rel.toLowerCase().endsWith('.json'),
  yolo: (rel) => /(^|\/)data\.ya?ml$/i.test(rel) || /(^|\/)labels\/.*\.txt$/i.test(rel),
  voc: (rel) => rel === 'labelmap.txt' || /^(Annotations\/[^/]+\.xml|Segmentation(Class|Object)\/[^/]+\.png)$/i.test(rel),
  png: (rel) => /^(masks|instances)\/[^/]+\.png$/i.test(rel),
  'png-instance': (rel) => /^(masks|instances)\/[^/]+\.png$/i.test(rel),
};

/**
 * Reads an annotation set written by Kizu or a labelling tool back into masks. `dir` is the
 * export folder; a COCO file may also be given directly. YOLO labels are normalised, so the
 * images (under images/ of the folder, or `imageDir`) are probed for their sizes.
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
  if (format !== 'yolo') return importAnnotations(format, files);
  const imageDir = options.imageDir ?? join(dir, 'images');
  const images: Record<string, { width: number; height: number; fileName: string }> = {};
  for (const rel of await listFiles(imageDir).catch(() => [] as string[])) {
    if (!IMAGE_EXTENSIONS.has(extname(rel).toLowerCase())) continue;
    const name = basename(rel);
    const stem = name.slice(0, name.length - extname(name).length);
    const { width, height } = await probeImage(join(imageDir, ...rel.split('/')));
    images[stem] = { width, height, fileName: name };
  }
  return importAnnotations(format, files, { images });
}

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
