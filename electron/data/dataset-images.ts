import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ImageReadError } from './image-error.ts';
import { probeImage } from './image-io.ts';

/** The image files Kizu reads, wherever it looks for them (folders, datasets, annotations, the open dialog). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff'];

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

/** Image files under `dir`, recursively, sorted; hidden folders (.kizu and the like) are skipped. */
export async function listImages(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listImages(path)));
    else if (e.isFile() && isImageFile(e.name)) out.push(path);
  }
  return out;
}

/**
 * Checks that each path opens as an image (header only), a few at a time; resolves to the
 * reason for each one that does not, by index.
 */
export async function unreadableImages(paths: readonly string[], concurrency = 8): Promise<Map<number, string>> {
  const bad = new Map<number, string>();
  let next = 0;
  const run = async () => {
    while (next < paths.length) {
      const i = next++;
      try {
        await probeImage(paths[i]);
      } catch (err) {
        bad.set(i, err instanceof ImageReadError ? err.reason : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, run));
  return bad;
}
