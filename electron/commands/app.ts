import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { bundleElectron } from '../bundle/bundle-electron.ts';
import { ensureRenderer } from '../bundle/renderer-build.ts';
import { APP_ROOT } from '../paths.ts';
import { findElectronBinary } from '../shell/electron-binary.ts';
import { nonNegativeInt } from './cli-options.ts';
import { runServe, untilStopped, type ServeOptions } from './serve.ts';

interface AppOptions extends ServeOptions {
  buildOnly?: boolean;
}

/** An Electron that fails this soon did not get as far as a window (no display, missing libraries). */
const EARLY_EXIT_MS = 10_000;

const say = (line: string) => process.stderr.write(`${line}\n`);

type Launch = { ok: true; code: number } | { ok: false; why: string };

function launchElectron(binary: string, args: string[]): Promise<Launch> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(binary, args, { stdio: 'inherit' });
    child.on('error', (err) => resolve({ ok: false, why: `it could not be started (${err.message})` }));
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal === null && Date.now() - started < EARLY_EXIT_MS) resolve({ ok: false, why: `it exited at once with code ${code}` });
      else resolve({ ok: true, code: code ?? 0 });
    });
  });
}

async function webModeInstead(why: string, opts: AppOptions): Promise<void> {
  say(`kizu: the desktop app cannot start here: ${why}.`);
  say('kizu: starting the web mode instead: the same app in your browser, at the URL below.');
  const running = await runServe({ ...opts, build: false });
  await untilStopped();
  await running.close();
}

/**
 * `npm start`: builds the renderer (when stale) and the Electron bundles, then launches
 * Electron on them. Where Electron's binary is missing (offline machines never download it)
 * or cannot run, it says so and serves the same UI in web mode instead.
 */
export async function runApp(opts: AppOptions, root = APP_ROOT): Promise<number> {
  await ensureRenderer(root, say);
  const outDir = await bundleElectron(root);
  say(`kizu: bundled the Electron main process, preload and workers into ${outDir}`);
  if (opts.buildOnly) return 0;
  const binary = findElectronBinary();
  if (!binary.found) {
    await webModeInstead(binary.reason, opts);
    return 0;
  }
  const launch = await launchElectron(binary.path, [root, ...(opts.model ? ['--model', opts.model] : [])]);
  if (launch.ok) return launch.code;
  await webModeInstead(`Electron (${binary.path}) ${launch.why}`, opts);
  return 0;
}

export function registerApp(program: Command): void {
  program
    .command('app')
    .description('the desktop app (npm start): builds, then launches Electron; web mode where Electron cannot run')
    .option('--model <path>', 'Kizu model directory or a ResNet50 .safetensors')
    .option('--port <n>', 'web mode only: port to listen on', nonNegativeInt('--port'))
    .option('--data-dir <dir>', "web mode only: Kizu's own files, such as the demo folder")
    .option('--build-only', 'build the renderer and the Electron bundles, then stop')
    .action(async (opts: AppOptions) => {
      process.exitCode = await runApp(opts);
    });
}
