import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';

/** Worker threads the engine starts by URL beside its own module (see spawn-worker.ts): bundled under the same names. */
const ENGINE_THREADS: Record<string, string> = {
  'engine-worker': 'electron/worker/engine-worker.ts',
  'shard-worker': 'electron/engine/train/shard-worker.ts',
  'sample-worker': 'electron/data/synth/sample-worker.ts',
};

/**
 * Bundles the Electron side into dist/electron: main.js and the worker threads as ES
 * modules (npm packages stay external: the app ships node_modules, and sharp and tfjs load
 * native or wasm files from their own folders), and preload.cjs as the single CommonJS file
 * a sandboxed preload must be, with nothing external but electron.
 */
export async function bundleElectron(root: string, outdir = join(root, 'dist', 'electron')): Promise<string> {
  const common: BuildOptions = {
    absWorkingDir: root, bundle: true, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning', outdir,
  };
  const threads = Object.fromEntries(Object.entries(ENGINE_THREADS).filter(([, src]) => existsSync(join(root, src))));
  await build({ ...common, format: 'esm', packages: 'external', entryPoints: { main: 'electron/main.ts', ...threads } });
  await build({ ...common, format: 'cjs', external: ['electron'], entryPoints: { preload: 'electron/preload.ts' }, outExtension: { '.js': '.cjs' } });
  return outdir;
}
