import { spawn, type ChildProcess } from 'node:child_process';
import type { Command } from 'commander';
import { QueueWorker } from '../batch/queue-worker.ts';
import { connectRedis, redactedUrl } from '../batch/redis-connection.ts';
import { positiveInt, positiveNumber } from './cli-options.ts';
import { redisUrlOf } from './queue.ts';

interface WorkerCliOptions {
  redis?: string;
  processes: number;
  lockSeconds: number;
  images?: string;
}

function log(line: string): void {
  process.stderr.write(`kizu worker ${process.pid}: ${line}\n`);
}

/** One worker in this process, until SIGTERM or SIGINT: then the job in hand is finished (or, on a second signal, left to be retried). */
async function runOne(opts: WorkerCliOptions): Promise<void> {
  const url = redisUrlOf(opts);
  const redis = await connectRedis(url);
  const worker = new QueueWorker(redis, { lockMs: opts.lockSeconds * 1000, root: opts.images, log });
  log(`taking jobs from ${redactedUrl(url)}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log(`${signal}: finishing the job in hand (again to stop at once; the job is then retried elsewhere)`);
      process.once(signal, () => process.exit(130));
      void worker.close().then(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  redis.disconnect();
}

/**
 * N workers, each a process of its own (its own engine and memory: a crash or a kill takes
 * one job with it, and that job is retried), restarted when one dies.
 */
async function runMany(opts: WorkerCliOptions): Promise<void> {
  const args = [process.argv[1], 'worker', '--processes', '1', '--lock-seconds', String(opts.lockSeconds)];
  if (opts.redis) args.push('--redis', opts.redis);
  if (opts.images) args.push('--images', opts.images);
  let stopping = false;
  const children = new Set<ChildProcess>();
  let finished: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (finished = resolve));
  const start = () => {
    const startedAt = Date.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    children.add(child);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (!stopping && signal === null && Date.now() - startedAt < START_UP_MS) {
        // It failed as it started (a wrong URL or password: it said why): starting it again would fail the same way.
        stopping = true;
        process.exitCode = code || 1;
        for (const other of children) other.kill('SIGTERM');
      }
      if (stopping) {
        if (children.size === 0) finished();
        return;
      }
      log(`worker process ${child.pid} ended (${signal ?? `code ${code}`}); starting another in 5 s`);
      setTimeout(() => !stopping && start(), 5000);
    });
  };
  for (let k = 0; k < opts.processes; k++) start();
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const child of children) child.kill(signal);
    if (children.size === 0) finished();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await ended;
}

/** A worker process that ends this soon after it started, by itself, failed to start. */
const START_UP_MS = 20_000;

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('take batch export jobs from the work queue (kizu queue submit) until stopped')
    .option('--redis <url>', 'redis://[:password@]host:port or rediss:// (TLS); default KIZU_REDIS_URL')
    .option('--processes <n>', 'worker processes on this machine, one job each (one per core, or per onnxruntime session)', positiveInt('--processes'), 1)
    .option('--lock-seconds <s>', 'a job whose worker shows no sign of life for this long goes back to the queue', positiveNumber('--lock-seconds'), 30)
    .option('--images <dir>', "where this machine finds the batch's images, when not at the manifest's root")
    .action(async (opts: WorkerCliOptions) => {
      if (opts.processes > 1) await runMany(opts);
      else await runOne(opts);
    });
}
