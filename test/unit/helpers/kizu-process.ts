import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const KIZU_BIN = fileURLToPath(new URL('../../../bin/kizu.js', import.meta.url));

export interface KizuExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface KizuRun {
  child: ChildProcess;
  /** Resolves when it exits: its code (null when killed) and what it wrote. */
  done: Promise<KizuExit>;
}

/** `kizu ARGS` as a process of its own, as an array engine or a machine would start it. */
export function startKizu(args: string[], env: Record<string, string> = {}): KizuRun {
  const child = spawn(process.execPath, [KIZU_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let [stdout, stderr] = ['', ''];
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (c: string) => (stdout += c));
  child.stderr!.on('data', (c: string) => (stderr += c));
  const done = new Promise<KizuExit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export async function runKizu(args: string[], env: Record<string, string> = {}): Promise<KizuExit> {
  return startKizu(args, env).done;
}

/** `count` distinct seeded grey images, `perFolder` of them in each of a few subfolders. */
export async function makeImages(dir: string, count: number, size: { width: number; height: number }, subfolders = ['', 'line-b']): Promise<void> {
  for (let k = 0; k < count; k++) {
    const raw = Buffer.alloc(size.width * size.height);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * (31 + k * 7) + k * 50 + ((i * k) >> 5)) % 251;
    const folder = subfolders[k % subfolders.length];
    await sharp(raw, { raw: { width: size.width, height: size.height, channels: 1 } }).png().toFile(join(dir, folder, `img-${String(k).padStart(3, '0')}.png`));
  }
}

/** Every file under `dir` by relative path, with its bytes: two exports compare equal only byte for byte. */
export function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** Lines of the range's segments beyond their headers: images a shard has written so far. */
export function recordsWritten(rangeFolder: string): number {
  let n = 0;
  let names: string[];
  try {
    names = readdirSync(rangeFolder);
  } catch {
    return 0;
  }
  for (const f of names.filter((e) => e.startsWith('seg-'))) {
    const lines = readFileSync(join(rangeFolder, f), 'utf8').split('\n').filter((l) => l !== '');
    n += Math.max(0, lines.length - 1);
  }
  return n;
}
