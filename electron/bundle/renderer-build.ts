import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** What the built renderer is made from: sources under these, relative to the repository. */
export const RENDERER_SOURCES = ['renderer', 'electron/annotate', 'electron/api.ts', 'electron/wire.ts', 'vite.config.ts'];

export function rendererDir(root: string): string {
  return join(root, 'dist', 'renderer');
}

async function newestMtime(path: string): Promise<number> {
  const s = await stat(path).catch(() => null);
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    newest = Math.max(newest, await newestMtime(join(path, entry.name)));
  }
  return newest;
}

/** Why the renderer must be built, or null when dist/renderer is newer than every source. */
export async function rendererStaleReason(root: string): Promise<string | null> {
  const index = await stat(join(rendererDir(root), 'index.html')).catch(() => null);
  if (!index) return 'dist/renderer is not built';
  const newest = Math.max(...(await Promise.all(RENDERER_SOURCES.map((s) => newestMtime(join(root, s))))));
  return newest > index.mtimeMs ? 'renderer sources changed since the last build' : null;
}

/** `vite build` with the repository's vite.config.ts; its output goes to stderr. */
export async function buildRenderer(root: string): Promise<void> {
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`vite build failed (exit code ${code})`);
}

/** Builds the renderer when it is missing or older than its sources; says what it does on stderr. */
export async function ensureRenderer(root: string, write: (line: string) => void): Promise<string> {
  const reason = await rendererStaleReason(root);
  if (reason) {
    write(`kizu: ${reason}; building it (vite build)…`);
    await buildRenderer(root);
  }
  return rendererDir(root);
}
