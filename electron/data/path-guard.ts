import { realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { ApiError } from '../api-error.ts';

/** True when `candidate` is `root` or below it (both absolute and already resolved). */
export function isInside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && rel.split(sep)[0] !== '..');
}

/**
 * Refuses a relative path that could leave its folder by itself: absolute, with `..`, `.`,
 * empty segments, backslashes or NUL. Forward slashes only, as image ids are written.
 */
export function assertPlainRelative(rel: string, what: string): void {
  if (rel === '' || rel.includes('\0') || rel.includes('\\') || rel.startsWith('/') || /^[A-Za-z]:/.test(rel)
    || rel.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new ApiError(403, `${what}: "${rel}" is not a plain relative path inside the folder`, what);
  }
}

/**
 * The real path of `rel` under `realRoot` (a realpath), refusing traversal and symlinks that
 * lead out of the folder. A missing file is a 404.
 */
export async function resolveInside(realRoot: string, rel: string, what: string): Promise<string> {
  assertPlainRelative(rel, what);
  let real: string;
  try {
    real = await realpath(join(realRoot, ...rel.split('/')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ApiError(404, `${what}: "${rel}" does not exist`, what);
    throw err;
  }
  if (!isInside(realRoot, real)) throw new ApiError(403, `${what}: "${rel}" leads outside ${realRoot}`, what);
  return real;
}
