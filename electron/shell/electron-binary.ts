import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type ElectronBinary = { found: true; path: string } | { found: false; reason: string };

/**
 * Finds the Electron executable the way the electron package does (path.txt, then
 * dist/<path>), without its fallback of downloading it, which on an offline machine only
 * fails after a wait.
 */
export function findElectronBinary(packageDir: string | null = electronPackageDir(), env: NodeJS.ProcessEnv = process.env): ElectronBinary {
  if (!packageDir) return { found: false, reason: 'the electron package is not installed (npm install)' };
  const pathFile = join(packageDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const path = join(env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron');
    return existsSync(path) ? { found: true, path } : { found: false, reason: `ELECTRON_OVERRIDE_DIST_PATH names ${path}, which does not exist` };
  }
  if (!relative) return { found: false, reason: "Electron's binary was never downloaded (node_modules/electron/path.txt is missing)" };
  const path = join(packageDir, 'dist', relative);
  return existsSync(path) ? { found: true, path } : { found: false, reason: `Electron's binary is missing (${path} does not exist)` };
}

function electronPackageDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
}
