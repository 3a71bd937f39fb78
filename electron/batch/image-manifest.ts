import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { describeIssues } from '../annotate/formats/common.ts';
import { writeFileAtomic } from '../data/atomic-write.ts';
import { scanImageFolder } from '../data/image-folder.ts';

/*
 * The image list a batch export works through, made once (`kizu manifest`) so that every
 * shard, worker and the merge agree on which images there are and in which order, even while
 * new images keep arriving in the folder. JSON lines: a header, then one image per line, in
 * the order a single-process `kizu export` of the folder takes them.
 */

export const MANIFEST_FORMAT = 'kizu-image-manifest';

export interface ImageManifest {
  /** Absolute folder the ids are relative to (a worker may mount it elsewhere: see withRoot). */
  root: string;
  /** Image paths relative to root, forward slashes, in export order. */
  ids: string[];
  /** sha256 of the ids in order: which list a part was made from. */
  digest: string;
}

const headerSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  version: z.literal(1),
  root: z.string().min(1),
  images: z.number().int().nonnegative(),
});

const lineSchema = z.object({
  id: z
    .string()
    .min(1)
    .refine((id) => !isAbsolute(id) && !id.includes('\\') && id.split('/').every((p) => p !== '' && p !== '.' && p !== '..'), {
      message: 'must be a plain relative path with forward slashes',
    }),
});

export function manifestDigest(ids: readonly string[]): string {
  const hash = createHash('sha256');
  for (const id of ids) hash.update(id).update('\n');
  return hash.digest('hex');
}

/** Every image under `folder` (as `kizu export --images` finds them), without the app's project limit. */
export async function scanManifest(folder: string): Promise<ImageManifest> {
  const { root, images } = await scanImageFolder(folder, Number.POSITIVE_INFINITY);
  const ids = images.map((i) => i.id);
  return { root, ids, digest: manifestDigest(ids) };
}

export function formatManifest(manifest: ImageManifest): string {
  const lines = [JSON.stringify({ format: MANIFEST_FORMAT, version: 1, root: manifest.root, images: manifest.ids.length })];
  for (const id of manifest.ids) lines.push(JSON.stringify({ id }));
  return `${lines.join('\n')}\n`;
}

export async function writeManifest(path: string, manifest: ImageManifest): Promise<void> {
  await mkdir(dirname(resolve(path)), { recursive: true });
  await writeFileAtomic(path, formatManifest(manifest));
}

/** Reads and checks a manifest; every problem names the file and line. */
export async function readManifest(path: string): Promise<ImageManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`manifest ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseManifest(text, path);
}

export function parseManifest(text: string, file: string): ImageManifest {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new Error(`manifest ${file}: empty; make one with kizu manifest --images DIR --out ${file}`);
  const header = headerSchema.safeParse(parseLine(lines[0], file, 1));
  if (!header.success) throw new Error(`manifest ${describeIssues(`${file} line 1`, header.error.issues)} (not a kizu manifest? make one with kizu manifest)`);
  const ids: string[] = [];
  const seen = new Set<string>();
  for (let n = 1; n < lines.length; n++) {
    const parsed = lineSchema.safeParse(parseLine(lines[n], file, n + 1));
    if (!parsed.success) throw new Error(`manifest ${describeIssues(`${file} line ${n + 1}`, parsed.error.issues)}`);
    if (seen.has(parsed.data.id)) throw new Error(`manifest ${file} line ${n + 1}: "${parsed.data.id}" is listed twice`);
    seen.add(parsed.data.id);
    ids.push(parsed.data.id);
  }
  if (ids.length !== header.data.images) {
    throw new Error(`manifest ${file}: the header says ${header.data.images} image(s), the file lists ${ids.length} (cut short?)`);
  }
  return { root: header.data.root, ids, digest: manifestDigest(ids) };
}

function parseLine(line: string, file: string, n: number): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`manifest ${file} line ${n}: not JSON`);
  }
}

/** The same list with its images found under another folder (where this machine mounts it). */
export function withRoot(manifest: ImageManifest, root: string | undefined): ImageManifest {
  return root === undefined ? manifest : { ...manifest, root: resolve(root) };
}

export function imagePath(manifest: ImageManifest, index: number): string {
  return join(manifest.root, ...manifest.ids[index].split('/'));
}
