import { labelComponents, type Component, type Labelling } from '../components.ts';
import { assertMask, assertSize } from '../mask.ts';
import { DEFAULT_CATEGORIES, DEFAULT_TOLERANCE, type ExportItem, type ExportOptions, type ImportedItem, type PixelConvention } from '../types.ts';

/** One connected defect region of an export item, with what every format writes about it. */
export interface Instance {
  component: Component;
  categoryName: string;
  /** The map's maximum over the region, else the image's defect probability. */
  score?: number;
}

export interface PreparedItem {
  item: ExportItem;
  /** The image's path relative to the image folder, '/'-separated, checked to stay inside it. */
  path: string;
  /**
   * That path without its extension ("Class1/Test/0000"): formats that write a file per image
   * name it so, mirroring the image's subfolders, as images of one name in different folders
   * (DAGM's, MVTec's and part-folder layouts all have them) must not overwrite each other.
   */
  stem: string;
  labelling: Labelling;
  instances: Instance[];
}

export function categoriesOf(options: ExportOptions): string[] {
  const categories = options.categories ?? [...DEFAULT_CATEGORIES];
  if (categories.length === 0 || categories.length > 254) {
    throw new Error(`export: need 1 to 254 category names, got ${categories.length}`);
  }
  const seen = new Set<string>();
  for (const name of categories) {
    if (typeof name !== 'string' || name.trim() === '') throw new Error('export: category names must be non-empty');
    if (seen.has(name)) throw new Error(`export: category "${name}" is listed twice`);
    seen.add(name);
  }
  return categories;
}

export function toleranceOf(options: ExportOptions, convention: PixelConvention): number {
  return options.tolerance ?? DEFAULT_TOLERANCE[convention];
}

/**
 * Checks each item and finds its instances, one at a time as the format consumes them, so an
 * export of thousands of images holds one image's labels at once (the items may be made lazily
 * too: see data/packed-export-items.ts). Stems must be unique where files are named by them;
 * they are compared ignoring case, as macOS and Windows file systems do.
 */
export function* prepareItems(items: Iterable<ExportItem>, categories: readonly string[]): Generator<PreparedItem> {
  const stems = new Map<string, string>();
  for (const item of items) {
    const where = `export item "${item.fileName}"`;
    if (typeof item.fileName !== 'string' || item.fileName === '') throw new Error('export: an item has no file name');
    const path = exportPathOf(item.fileName);
    assertSize(item.width, item.height, where);
    assertMask(item.mask, `${where} mask`);
    if (item.mask.width !== item.width || item.mask.height !== item.height) {
      throw new Error(`${where}: mask is ${item.mask.width}x${item.mask.height}, image is ${item.width}x${item.height}`);
    }
    const stem = stemPathOf(path);
    const clash = stems.get(stem.toLowerCase());
    if (clash !== undefined) throw new Error(`export: "${clash}" and "${item.fileName}" would write files of the same name "${stem}"`);
    stems.set(stem.toLowerCase(), item.fileName);
    const labelling = labelComponents(item.mask, item.map);
    const instances = labelling.components.map((component) => {
      const categoryName = categories[component.category - 1];
      if (categoryName === undefined) {
        throw new Error(`${where}: mask value ${component.category} has no category (categories: ${categories.join(', ')})`);
      }
      const score = component.maxScore ?? item.score;
      return score === undefined ? { component, categoryName } : { component, categoryName, score };
    });
    yield { item, path, stem, labelling, instances };
  }
}

/**
 * An image's path as an export writes it: relative, '/'-separated (a backslash read as a
 * separator, as Windows writes one), without "." or empty parts. A path that is absolute or
 * climbs with ".." could make a format write outside its output folder, so it is refused.
 */
export function exportPathOf(fileName: string): string {
  const path = fileName.replace(/\\/g, '/');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) {
    throw new Error(`export: image path "${fileName}" is absolute; export items are named by their path relative to the image folder`);
  }
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw new Error(`export: image path "${fileName}" climbs out of the image folder with ".."; export items are named by their path inside it`);
  }
  if (parts.length === 0) throw new Error(`export: image path "${fileName}" names no file`);
  return parts.join('/');
}

/** The path without the extension of its last part: "Class1/Test/0000.PNG" -> "Class1/Test/0000". */
export function stemPathOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return path.slice(0, slash + 1) + stemOf(path.slice(slash + 1));
}

/** The folder part of a '/'-separated path, with its trailing '/' ("" for none). */
export function folderOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/') + 1);
}

/**
 * `relative` resolved against the folder `base` ('/'-separated), "." and ".." applied, as a
 * LabelMe imagePath is read against its JSON's folder. ".." past the start is kept, so a path
 * that leads out of the annotation set still says so.
 */
export function joinPath(base: string, relative: string): string {
  const out: string[] = [];
  for (const part of `${base}/${relative.replace(/\\/g, '/')}`.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1];
}

export function stemOf(path: string): string {
  const base = baseName(path);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Rounds to 6 decimals, so files do not carry float noise such as 0.30000000000000004. */
export function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** Text of a file given as bytes or string. */
export function textOf(content: Uint8Array | string, file: string): string {
  if (typeof content === 'string') return content;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    throw new Error(`${file}: not UTF-8 text`);
  }
}

export function bytesOf(content: Uint8Array | string, file: string): Uint8Array {
  if (typeof content !== 'string') return content;
  throw new Error(`${file}: expected binary content, got text`);
}

export function parseJson(content: Uint8Array | string, file: string): unknown {
  try {
    return JSON.parse(textOf(content, file));
  } catch (err) {
    throw new Error(`${file}: invalid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Names of categories in first-seen order, with a 1-based index lookup. */
export class CategoryTable {
  readonly names: string[] = [];
  private readonly index = new Map<string, number>();

  constructor(initial: readonly string[] = []) {
    for (const n of initial) this.valueOf(n);
  }

  valueOf(name: string): number {
    let v = this.index.get(name);
    if (v === undefined) {
      if (this.names.length === 255) throw new Error(`import: more than 255 categories (at "${name}")`);
      this.names.push(name);
      v = this.names.length;
      this.index.set(name, v);
    }
    return v;
  }
}

export function sortItems(items: ImportedItem[]): ImportedItem[] {
  return items.sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
}

/** Flattens a zod error into "path: message" for a file. */
export function describeIssues(file: string, issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  const first = issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  return `${file}: ${first.join('; ')}${issues.length > 3 ? ` (and ${issues.length - 3} more)` : ''}`;
}
