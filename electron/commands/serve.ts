import type { Command } from 'commander';
import { ensureRenderer, rendererDir } from '../bundle/renderer-build.ts';
import { defaultModelDir, APP_ROOT } from '../paths.ts';
import { startServer, type KizuServer } from '../server.ts';
import { createKizuService } from '../service/kizu-service.ts';
import { demoDirIn, pickModelPath, userDataDir } from '../service/startup.ts';
import { packageVersion } from '../version.ts';
import { ENGINE_WORKER_SOURCE, EngineClient } from '../worker/engine-client.ts';
import { nonNegativeInt } from './cli-options.ts';

export interface ServeOptions {
  port?: number;
  model?: string;
  dataDir?: string;
  /** false: serve dist/renderer as it is, without checking it is up to date. */
  build?: boolean;
}

export interface RunningServe {
  server: KizuServer;
  close(): Promise<void>;
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/**
 * The web mode: builds the renderer if it is missing or stale, starts the engine worker and
 * the loopback server, and prints the URL (with its token) on stdout as
 * `kizu serve: open <url>`. The engine's start is reported when it is done.
 */
export async function runServe(opts: ServeOptions, root = APP_ROOT): Promise<RunningServe> {
  const renderer = opts.build === false ? rendererDir(root) : await ensureRenderer(root, say);
  const engine = new EngineClient(ENGINE_WORKER_SOURCE, { modelPath: pickModelPath(opts.model, process.env, defaultModelDir()) });
  const service = createKizuService({
    engine,
    runIsolated: (op, args, options) => EngineClient.once(ENGINE_WORKER_SOURCE, op, args, options),
    demoDir: demoDirIn(opts.dataDir ?? userDataDir(process.env)),
    appVersion: packageVersion('kizu'),
    log: say,
  });
  const server = await startServer({ handlers: service.handlers, jobs: service.jobs, rendererDir: renderer, port: opts.port, log: say });
  process.stdout.write(`kizu serve: open ${server.url}\n`);
  engine.start().then(
    (status) => say(`kizu serve: engine ${status.backend.label}; ${status.model ? `model ${status.model.name} (${status.model.path})` : status.modelError}`),
    (err: unknown) => say(`kizu serve: the engine did not start: ${err instanceof Error ? err.message : String(err)}`),
  );
  return {
    server,
    close: async () => {
      await server.close();
      await engine.close();
    },
  };
}

/** Resolves on Ctrl+C or a termination request. */
export function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('the app in a browser: the UI and API on http://127.0.0.1 with a per-run token (web mode)')
    .option('--port <n>', 'port to listen on (default: a free one)', nonNegativeInt('--port'))
    .option('--model <path>', 'Kizu model directory or a ResNet50 .safetensors (default: KIZU_MODEL, else the bundled model)')
    .option('--data-dir <dir>', "Kizu's own files, such as the demo folder (default: KIZU_DATA_DIR, else the user's app data folder)")
    .option('--no-build', 'serve dist/renderer as it is')
    .action(async (opts: ServeOptions) => {
      const running = await runServe(opts);
      await untilStopped();
      await running.close();
    });
}
