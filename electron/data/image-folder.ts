import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { ApiError } from '../api-error.ts';
import { IMAGE_EXTENSIONS, isImageFile } from './dataset-images.ts';
import { isInside } from './path-guard.ts';

export const MAX_PROJECT_IMAGES = 100_000;

export interface ImageFile {
  /** Path relative to the project root, forward slashes. */
  id: string;
  /** Real absolute path. */
  path: string;
  name: string;
  modifiedAt: number;
}

export interface ImageSet {
  /** Real absolute path of the project folder. */
  root: string;
  images: ImageFile[];
}

/** DAGM's Label folders (beside Labels.txt) hold the annotations of the images next to them, not images to review. */
async function isDagmLabelFolder(path: string, name: string): Promise<boolean> {
  return name === 'Label' && (await stat(join(path, 'Labels.txt')).catch(() => null)) !== null;
}

const byId = (a: ImageFile, b: ImageFile) => a.id.localeCompare(b.id, 'en', { numeric: true });

function idOf(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

async function realDirectory(path: string, what: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new ApiError(404, `${what}: folder "${path}" does not exist`, what);
  }
  if (!(await stat(real)).isDirectory()) throw new ApiError(400, `${what}: "${path}" is not a folder`, what);
  return real;
}

/**
 * Every image under `folder`, subfolders included, hidden entries (such as .kizu) and DAGM
 * label folders skipped.
 * Symbolic links are followed only while they stay inside the folder; each real folder is
 * visited once, so link cycles end.
 */
export async function scanImageFolder(folder: string, limit = MAX_PROJECT_IMAGES): Promise<ImageSet> {
  const root = await realDirectory(folder, 'openFolder');
  const images: ImageFile[] = [];
  const visited = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    if (visited.has(dir)) return;
    visited.add(dir);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      let path = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await realpath(path).catch(() => null);
        if (target === null || !isInside(root, target)) continue;
        const s = await stat(target);
        [path, isDir, isFile] = [target, s.isDirectory(), s.isFile()];
      }
      if (isDir) {
        if (!(await isDagmLabelFolder(path, entry.name))) await walk(path);
      } else if (isFile && isImageFile(entry.name)) {
        if (images.length >= limit) throw new ApiError(413, `openFolder: more than ${limit.toLocaleString('en-US')} images under ${root}; open a subfolder`);
        images.push({ id: idOf(root, join(dir, entry.name)), path, name: entry.name, modifiedAt: (await stat(path)).mtimeMs });
      }
    }
  };
  await walk(root);
  return { root, images: images.sort(byId) };
}

/** Loose image files as a project rooted at their deepest common folder. */
export async function imageFileSet(paths: readonly string[]): Promise<ImageSet> {
  const files: { path: string; name: string; modifiedAt: number }[] = [];
  for (const [i, given] of paths.entries()) {
    const where = `paths.${i}`;
    const path = await realpath(given).catch(() => {
      throw new ApiError(404, `openImages: "${given}" does not exist`, where);
    });
    const s = await stat(path);
    if (!s.isFile()) throw new ApiError(400, `openImages: "${given}" is not a file`, where);
    if (!isImageFile(path)) throw new ApiError(400, `openImages: "${given}" is not an image Kizu reads (${IMAGE_EXTENSIONS.join(', ')})`, where);
    files.push({ path, name: basename(path), modifiedAt: s.mtimeMs });
  }
  const root = files.map((f) => dirname(f.path)).reduce(commonFolder);
  const seen = new Set<string>();
  const images: ImageFile[] = [];
  for (const f of files) {
    const id = idOf(root, f.path);
    if (seen.has(id)) continue;
    seen.add(id);
    images.push({ id, ...f });
  }
  return { root, images: images.sort(byId) };
}

function commonFolder(a: string, b: string): string {
  let common = a;
  while (!isInside(common, b)) {
    const up = dirname(common);
    if (up === common) break;
    common = up;
  }
  return common;
}
