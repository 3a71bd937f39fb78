import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The model the app starts on: the one asked for (--model), else KIZU_MODEL, else the
 * bundled default when it is installed, else none (the app then says "no model").
 */
export function pickModelPath(given: string | undefined, env: NodeJS.ProcessEnv, defaultModelDir: string): string | null {
  if (given) return given;
  if (env.KIZU_MODEL) return env.KIZU_MODEL;
  return existsSync(join(defaultModelDir, 'manifest.json')) ? defaultModelDir : null;
}

/**
 * Where Kizu keeps its own files (the demo folder): KIZU_DATA_DIR, else the folder Electron
 * calls userData for an app named "kizu", so the desktop app and the web mode share them.
 */
export function userDataDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (env.KIZU_DATA_DIR) return env.KIZU_DATA_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'kizu');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'kizu');
  return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'kizu');
}

export function demoDirIn(dataDir: string): string {
  return join(dataDir, 'demo');
}
