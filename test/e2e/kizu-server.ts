import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ApiMethod, ApiRequest, ApiResponses } from '../../electron/api.ts';
import { decodeWire, encodeWire } from '../../electron/wire.ts';

export interface RunningKizu {
  /** The page URL with the token, as `kizu serve` prints it. */
  url: string;
  /** A direct API call, for checking what the UI did against the back end's own answer. */
  call<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResponses[M]>;
  close(): Promise<void>;
}

const STARTUP_MS = 120_000;

/**
 * `kizu serve` as a person starts it (`npm run serve`), in a process of its own: the real
 * engine with `model`, its own files (the demo set) in `dataDir`.
 */
export async function startKizu(opts: { root: string; model: string; dataDir: string }): Promise<RunningKizu> {
  const child: ChildProcess = spawn(process.execPath, [join(opts.root, 'bin/kizu.js'), 'serve', '--model', opts.model, '--data-dir', opts.dataDir], {
    cwd: opts.root,
    env: { ...process.env, KIZU_MODEL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => log.push(line));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kizu serve printed no URL in ${STARTUP_MS / 1000} s:\n${log.join('\n')}`)), STARTUP_MS);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^kizu serve: open (\S+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kizu serve exited with ${code} before it printed a URL:\n${log.join('\n')}`));
    });
  });
  const { origin, searchParams } = new URL(url);
  const token = searchParams.get('token') ?? '';
  return {
    url,
    async call(method, request) {
      const response = await fetch(`${origin}/api/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: encodeWire(request),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method}: HTTP ${response.status} ${text}`);
      return decodeWire(text) as never;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
