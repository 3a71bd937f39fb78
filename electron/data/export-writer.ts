import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { ExportFiles } from '../annotate/types.ts';
import { writeFileAtomic } from './atomic-write.ts';

/**
 * Writes an export's files into `outDir`, each atomically (see writeFileAtomic), so a failed
 * or killed export leaves every file already there either as it was or fully replaced.
 * All paths are checked before anything is written, so a bad one changes nothing.
 */
export async function writeExport(outDir: string, files: ExportFiles): Promise<string[]> {
  const root = resolve(outDir);
  const targets = Object.keys(files).sort().map((rel) => [rel, checkedPath(root, rel)] as const);
  await mkdir(root, { recursive: true });
  const written: string[] = [];
  for (const [rel, target] of targets) {
    await mkdir(dirname(target), { recursive: true });
    await writeFileAtomic(target, files[rel]);
    written.push(target);
  }
  return written;
}

function checkedPath(root: string, rel: string): string {
  if (rel === '' || isAbsolute(rel) || rel.includes('\\') || rel.split('/').some((part) => part === '..' || part === '.' || part === '')) {
    throw new Error(`export: "${rel}" is not a plain relative path inside the output folder`);
  }
  const target = join(root, ...rel.split('/'));
  if (!target.startsWith(root + sep)) throw new Error(`export: "${rel}" would be written outside ${root}`);
  return target;
}
