import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { chunkResultSchema, processedChildren, QUEUE_NAME } from '../batch/export-queue.ts';
import { connectRedis } from '../batch/redis-connection.ts';
import { seededModel, writeImages } from './long-run.ts';

/*
 * The batch paths side by side on one set of images, each as the user runs it (its own
 * processes, model loads included): a plain `kizu export`, the work queue with one worker and
 * with two, and one `kizu export --shard 0/1` whose memory is read at checkpoints while its
 * part grows. Needs Debian's redis-server; the Redis it starts listens on loopback only.
 */

export interface QueueBenchOptions {
  images: number;
  size: number;
  /** Images per queue job. */
  chunk: number;
  /** Image counts at which the shard's RSS is read. */
  checkpoints: number[];
  onStage?: (stage: string) => void;
}

export interface QueueBenchResult {
  images: number;
  size: number;
  model: string;
  /** Wall time of each run, start-up, model load and (for the queue) submit and merge included. */
  plainSeconds: number;
  queueOneWorkerSeconds: number;
  queueTwoWorkersSeconds: number;
  shardSeconds: number;
  /** Images per second from the first image written to the last: the steady rate. */
  queueOneWorkerRate: number;
  queueTwoWorkersRate: number;
  /** One worker: the chunks' time beyond their engine steps, as a fraction of the engine steps. */
  queueOverhead: number | null;
  shardRate: number;
  shardRss: { images: number; rssMiB: number }[];
}

const kizuBin = process.argv[1];

function run(args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kizuBin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${what} failed (${code}): ${stderr.trim().split('\n').at(-1)}`))));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(dir: string): Promise<{ url: string; process: ChildProcess }> {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error('kizu bench --queue needs redis-server (Debian: apt-get install redis-server)');
  const port = await freePort();
  const child = spawn(found, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    child.stdout!.on('data', (c: Buffer) => {
      log += c.toString();
      if (log.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  child.stdout!.resume();
  return { url: `redis://127.0.0.1:${port}`, process: child };
}

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return (performance.now() - t0) / 1000;
}

/** Submit, run `workers` worker processes until the batch's merge has written, stop them. */
async function queueRun(url: string, dir: string, name: string, workers: number, opts: QueueBenchOptions, model: string, manifest: string): Promise<{ rate: number; overhead: number | null }> {
  await run(['queue', 'submit', '--redis', url, '--manifest', manifest, '--chunk', String(opts.chunk), '--parts', join(dir, name, 'parts'), '--format', 'coco', '--out', join(dir, name, 'out'), '--batch', name, '--model', model, '--all'], 'kizu queue submit');
  const children = Array.from({ length: workers }, () => spawn(process.execPath, [kizuBin, 'worker', '--redis', url], { stdio: 'ignore' }));
  const watcher = new PartsWatcher(join(dir, name, 'parts'));
  try {
    const merged = join(dir, name, 'out', 'annotations', 'instances_default.json');
    for (;;) {
      await watcher.poll();
      if (await readFile(merged).then(() => true, () => false)) break;
      if (children.every((c) => c.exitCode !== null)) throw new Error('kizu bench --queue: every worker ended before the batch was done');
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    return { rate: watcher.steadyRate(), overhead: await queueOverhead(url, name) };
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
}

/**
 * What the queue adds per image, from the chunks' own timings: the time from the first chunk's
 * start (engine open) to the last one's end, against the time spent in the engine step, which
 * is all a plain export spends per image. Both are measured in the same run, so a busy machine
 * slows them alike. Meaningful for one worker (chunks one after another).
 */
async function queueOverhead(url: string, batch: string): Promise<number | null> {
  const redis = await connectRedis(url);
  const queue = new Queue(QUEUE_NAME, { connection: redis });
  try {
    const parent = await queue.getJob(batch);
    if (!parent) return null;
    const results = (await processedChildren(parent)).map((v) => chunkResultSchema.parse(typeof v === 'string' ? JSON.parse(v) : v));
    const engineMs = results.reduce((sum, r) => sum + (r.engineMs ?? 0), 0);
    const span = Math.max(...results.map((r) => r.finishedAt)) - Math.min(...results.map((r) => r.startedAt));
    return engineMs > 0 ? span / engineMs - 1 : null;
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

function rssMiB(pid: number): Promise<number | undefined> {
  return readFile(`/proc/${pid}/status`, 'utf8').then(
    (s) => Number(/VmRSS:\s+(\d+) kB/.exec(s)?.[1]) / 1024,
    () => undefined,
  );
}

/**
 * Counts the records in a parts folder as they are appended, reading only the new bytes of
 * each segment every quarter second (so watching costs the run little), and keeps when the
 * first and the latest appeared: their rate is the steady one, without start-up or merge.
 */
class PartsWatcher {
  private readonly offsets = new Map<string, { offset: number; headerSeen: boolean }>();
  count = 0;
  firstAt: number | undefined;
  lastAt: number | undefined;

  constructor(private readonly parts: string) {}

  async poll(): Promise<number> {
    for (const range of await readdir(this.parts).catch(() => [] as string[])) {
      for (const f of (await readdir(join(this.parts, range)).catch(() => [] as string[])).filter((e) => e.startsWith('seg-'))) {
        const path = join(this.parts, range, f);
        const state = this.offsets.get(path) ?? { offset: 0, headerSeen: false };
        const handle = await open(path, 'r');
        try {
          const { size } = await handle.stat();
          if (size > state.offset) {
            const buffer = Buffer.alloc(size - state.offset);
            await handle.read(buffer, 0, buffer.length, state.offset);
            const lastNewline = buffer.lastIndexOf(10);
            if (lastNewline >= 0) {
              let lines = 0;
              for (let i = 0; i <= lastNewline; i++) if (buffer[i] === 10) lines++;
              if (!state.headerSeen) {
                lines--;
                state.headerSeen = true;
              }
              if (lines > 0) {
                const now = performance.now();
                this.firstAt ??= now;
                this.lastAt = now;
                this.count += lines;
              }
              state.offset += lastNewline + 1;
            }
          }
        } finally {
          await handle.close();
        }
        this.offsets.set(path, state);
      }
    }
    return this.count;
  }

  /** Images per second between the first record and the latest. */
  steadyRate(): number {
    return this.firstAt !== undefined && this.lastAt! > this.firstAt ? ((this.count - 1) * 1000) / (this.lastAt! - this.firstAt) : 0;
  }
}

const POLL_MS = 250;

/** One shard of everything, its RSS read as its part passes each checkpoint and at the last image. */
async function shardRun(dir: string, model: string, manifest: string, checkpoints: number[]): Promise<{ rate: number; rss: { images: number; rssMiB: number }[] }> {
  const parts = join(dir, 'shard-parts');
  const watcher = new PartsWatcher(parts);
  const child = spawn(process.execPath, [kizuBin, 'export', '--manifest', manifest, '--shard', '0/1', '--out', parts, '--model', model, '--all'], { stdio: 'ignore' });
  const rss: { images: number; rssMiB: number }[] = [];
  const pending = [...checkpoints].sort((a, b) => a - b);
  let done = false;
  const exited = new Promise((r) => child.once('exit', r)).then(() => (done = true));
  while (!done) {
    const written = await watcher.poll();
    if (pending.length > 0 && written >= pending[0]) {
      const mib = await rssMiB(child.pid!);
      if (mib !== undefined) rss.push({ images: written, rssMiB: Math.round(mib * 10) / 10 });
      while (pending.length > 0 && written >= pending[0]) pending.shift();
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  await exited;
  if (child.exitCode !== 0) throw new Error(`kizu export --shard failed (${child.exitCode})`);
  await watcher.poll();
  return { rate: watcher.steadyRate(), rss };
}

export async function benchQueue(opts: QueueBenchOptions): Promise<QueueBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'kizu-bench-queue-'));
  const redis = await startRedis(dir);
  try {
    opts.onStage?.('images and model');
    await writeImages(join(dir, 'images'), opts.images, opts.size);
    const model = await seededModel(join(dir, 'model'), opts.size);
    const manifest = join(dir, 'list.jsonl');
    await run(['manifest', '--images', join(dir, 'images'), '--out', manifest], 'kizu manifest');
    opts.onStage?.('plain kizu export');
    const plainSeconds = await seconds(() => run(['export', '--manifest', manifest, '--format', 'coco', '--out', join(dir, 'plain'), '--model', model, '--all'], 'kizu export'));
    opts.onStage?.('queue, one worker');
    let one = { rate: 0, overhead: null as number | null };
    const queueOneWorkerSeconds = await seconds(async () => (one = await queueRun(redis.url, dir, 'one', 1, opts, model, manifest)));
    opts.onStage?.('queue, two workers');
    let two = { rate: 0, overhead: null as number | null };
    const queueTwoWorkersSeconds = await seconds(async () => (two = await queueRun(redis.url, dir, 'two', 2, opts, model, manifest)));
    opts.onStage?.('one shard, memory');
    let shard = { rate: 0, rss: [] as { images: number; rssMiB: number }[] };
    const shardSeconds = await seconds(async () => (shard = await shardRun(dir, model, manifest, opts.checkpoints)));
    return {
      images: opts.images, size: opts.size, model: 'seeded full-width ResNet50 (as bench --long)',
      plainSeconds, queueOneWorkerSeconds, queueTwoWorkersSeconds, shardSeconds,
      queueOneWorkerRate: one.rate, queueTwoWorkersRate: two.rate, queueOverhead: one.overhead, shardRate: shard.rate, shardRss: shard.rss,
    };
  } finally {
    redis.process.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}
