import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { batchStatus, formatStatus, QUEUE_NAME } from '../../../electron/batch/export-queue.ts';
import { connectRedis } from '../../../electron/batch/redis-connection.ts';
import { main } from '../../../electron/cli.ts';
import { FIXTURE_DIR } from '../helpers/fixture.ts';
import { makeImages, recordsWritten, runKizu, startKizu, type KizuRun } from '../helpers/kizu-process.ts';
import { freePort, RedisServer, TLS_FIXTURES } from '../helpers/redis-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'kizu-queue-'));
const images = join(dir, 'images');
const list = join(dir, 'list.jsonl');
const single = join(dir, 'single');
const model = join(FIXTURE_DIR, 'weights.safetensors');
const COUNT = 60;
const SETTINGS = ['--model', model, '--all', '--threshold', 'max:0.5', '--min-area', '4'];
const COCO = 'annotations/instances_default.json';
const servers: RedisServer[] = [];
const workers: KizuRun[] = [];

beforeAll(async () => {
  mkdirSync(join(images, 'line-b'), { recursive: true });
  await makeImages(images, COUNT, { width: 256, height: 224 });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  expect(await main(['node', 'kizu', 'manifest', '--images', images, '--out', list])).toBe(0);
  expect(await main(['node', 'kizu', 'export', '--images', images, '--format', 'coco', '--out', single, ...SETTINGS])).toBe(0);
  vi.restoreAllMocks();
});

afterEach(async () => {
  // SIGTERM first: a `kizu worker --processes N` passes it on to its worker processes.
  for (const w of workers.splice(0)) {
    if (w.child.exitCode === null && w.child.signalCode === null) {
      w.child.kill('SIGTERM');
      const timer = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
      await w.done;
      clearTimeout(timer);
    }
  }
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function startServer(options: { password?: string; tls?: boolean } = {}): Promise<RedisServer> {
  const server = await RedisServer.start(options);
  servers.push(server);
  return server;
}

function startWorkers(url: string, n: number): KizuRun[] {
  const started = Array.from({ length: n }, () => startKizu(['worker', '--redis', url, '--lock-seconds', '3']));
  workers.push(...started);
  return started;
}

async function submit(url: string, batch: string, chunk = 8): Promise<{ parts: string; out: string }> {
  const parts = join(dir, batch, 'parts');
  const out = join(dir, batch, 'out');
  const r = await runKizu(['queue', 'submit', '--redis', url, '--manifest', list, '--chunk', String(chunk), '--parts', parts, '--format', 'coco', '--out', out, '--batch', batch, ...SETTINGS]);
  expect(r.code, r.stderr).toBe(0);
  return { parts, out };
}

async function waitForBatch(url: string, batch: string, timeoutMs = 100_000): Promise<string> {
  const redis = await connectRedis(url);
  try {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const status = await batchStatus(redis, batch);
      if (status.state === 'completed' || status.state === 'failed') return formatStatus(status);
      if (Date.now() > until) throw new Error(`batch ${batch} not finished in ${timeoutMs} ms: ${formatStatus(status)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    redis.disconnect();
  }
}

function rangeFolders(parts: string): string[] {
  return existsSync(parts) ? readdirSync(parts).filter((f) => f.startsWith('range-')).map((f) => join(parts, f)) : [];
}

/** Images written to the parts, over every run: the count of images exported, each counted each time it was made. */
function totalRecords(parts: string): number {
  return rangeFolders(parts).reduce((n, f) => n + recordsWritten(f), 0);
}

function expectSameAsSingle(out: string): void {
  const merged = readFileSync(join(out, COCO));
  const want = readFileSync(join(single, COCO));
  const coco = JSON.parse(merged.toString()) as { images: { file_name: string }[] };
  expect(new Set(coco.images.map((i) => i.file_name)).size).toBe(COUNT);
  expect(merged.equals(want)).toBe(true);
}

describe('kizu queue and kizu worker on a real Redis', () => {
  it('three workers, one SIGKILLed in the middle of a chunk: every image exported once, the merge byte-identical to kizu export', async () => {
    const redis = await startServer();
    const { parts, out } = await submit(redis.url, 'killed');
    const running = startWorkers(redis.url, 3);
    const pids = new Set(running.map((w) => w.child.pid));

    // Find a chunk one worker is in the middle of (two images written, not done) and kill that worker.
    let victim: { pid: number; folder: string } | undefined;
    const until = Date.now() + 60_000;
    while (!victim && Date.now() < until) {
      for (const folder of rangeFolders(parts)) {
        if (existsSync(join(folder, 'done.json'))) continue;
        for (const seg of readdirSync(folder).filter((f) => f.startsWith('seg-'))) {
          const pid = Number(/-(\d+)-[0-9a-f]{8}\.jsonl$/.exec(seg)?.[1]);
          const lines = readFileSync(join(folder, seg), 'utf8').split('\n').filter((l) => l !== '').length - 1;
          if (pids.has(pid) && lines >= 2 && lines < 8) victim = { pid, folder };
        }
      }
      if (!victim) await new Promise((r) => setTimeout(r, 5));
    }
    expect(victim, 'no chunk was caught half done').toBeDefined();
    const killed = running.find((w) => w.child.pid === victim!.pid)!;
    killed.child.kill('SIGKILL');
    expect((await killed.done).signal).toBe('SIGKILL');
    expect(existsSync(join(victim!.folder, 'done.json'))).toBe(false);

    const status = await waitForBatch(redis.url, 'killed');
    expect(status).toMatch(/^killed: 60\/60 images \(100\.0 %\), 8\/8 chunks done, 0 running, 0 failed; merged as coco in .*: 60 annotated image\(s\)$/);
    expectSameAsSingle(out);
    // Exactly once: the chunk's second run exported only what the killed one had not written.
    expect(totalRecords(parts)).toBe(COUNT);
    expect(readdirSync(victim!.folder).filter((f) => f.startsWith('seg-')).length).toBe(2);
  });

  it('a Redis killed and restarted mid-run (append-only file on) loses no job', async () => {
    const redis = await startServer();
    const { parts, out } = await submit(redis.url, 'restarted');
    // One kizu worker supervising two worker processes.
    workers.push(startKizu(['worker', '--redis', redis.url, '--lock-seconds', '3', '--processes', '2']));
    const until = Date.now() + 60_000;
    while (rangeFolders(parts).filter((f) => existsSync(join(f, 'done.json'))).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const doneBefore = rangeFolders(parts).filter((f) => existsSync(join(f, 'done.json'))).length;
    expect(doneBefore).toBeGreaterThanOrEqual(2);
    expect(doneBefore).toBeLessThan(8);
    await redis.restart(1500);

    expect(await waitForBatch(redis.url, 'restarted')).toMatch(/^restarted: 60\/60 images .* merged as coco/);
    expectSameAsSingle(out);
    expect(totalRecords(parts)).toBe(COUNT);
  });

  it('shows progress with a rate and an ETA while chunks run, and the merge once done', async () => {
    const redis = await startServer();
    const { parts } = await submit(redis.url, 'watched', 4);
    startWorkers(redis.url, 1);
    const until = Date.now() + 60_000;
    while (rangeFolders(parts).filter((f) => existsSync(join(f, 'done.json'))).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const connection = await connectRedis(redis.url);
    const status = await batchStatus(connection, 'watched');
    connection.disconnect();
    expect(status.chunksDone).toBeGreaterThanOrEqual(2);
    expect(status.imagesDone).toBeGreaterThanOrEqual(8);
    expect(status.rate).toBeGreaterThan(0);
    expect(status.etaSeconds).toBeGreaterThan(0);
    expect(formatStatus(status)).toMatch(/^watched: \d+\/60 images \([\d.]+ %\), \d+\/15 chunks done, [01] running, 0 failed; [\d.]+ images\/s, ETA \d+ s; merge waits for the chunks$/);

    await waitForBatch(redis.url, 'watched');
    const r = await runKizu(['queue', 'status', '--redis', redis.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^watched: 60\/60 images \(100\.0 %\), 15\/15 chunks done, 0 running, 0 failed; merged as coco in .*: 60 annotated image\(s\)\n$/);
  });

  it('never reports a batch completed without its result when the merge finishes while the status is being read', async () => {
    const redis = await startServer();
    await submit(redis.url, 'racing', 30);
    const connection = await connectRedis(redis.url);
    // This test's own hands in place of a kizu worker: take each job, complete it, no export.
    const hands = new Worker(QUEUE_NAME, null, { connection: connection.duplicate() });
    try {
      const take = async (name: string) => {
        const job = (await hands.getNextJob('hands'))!;
        expect(job.name).toBe(name);
        return job;
      };
      for (let i = 0; i < 2; i++) await (await take('chunk')).moveToCompleted({ images: 30, startedAt: Date.now() }, 'hands', false);
      const merge = await take('merge');
      // The merge finishes just after the status has fetched the batch's job, before it reads anything else.
      const getJob = Queue.prototype.getJob;
      let finished = false;
      vi.spyOn(Queue.prototype, 'getJob').mockImplementation(async function (this: Queue, id: string) {
        const job = await getJob.call(this, id);
        if (!finished) {
          finished = true;
          await merge.moveToCompleted({ annotated: 60, failed: [], summary: '60 annotated image(s)' }, 'hands', false);
        }
        return job;
      });
      const during = await batchStatus(connection, 'racing');
      vi.restoreAllMocks();
      expect(finished).toBe(true);
      if (during.state === 'completed') expect(during.result).toBe('60 annotated image(s)');
      else expect(during.result).toBeUndefined();
      const after = await batchStatus(connection, 'racing');
      expect(after).toMatchObject({ state: 'completed', result: '60 annotated image(s)', imagesDone: 60 });
    } finally {
      vi.restoreAllMocks();
      await hands.close();
      connection.disconnect();
    }
  });

  it('speaks TLS with a password (rediss://), trusting a private CA through NODE_EXTRA_CA_CERTS, and refuses an untrusted certificate', async () => {
    const redis = await startServer({ password: 'tls-secret', tls: true });
    expect(redis.url).toMatch(/^rediss:/);
    const trusted = { NODE_EXTRA_CA_CERTS: join(TLS_FIXTURES, 'ca.crt') };
    const parts = join(dir, 'tls', 'parts');
    const submitted = await runKizu(['queue', 'submit', '--manifest', list, '--chunk', '30', '--parts', parts, '--format', 'coco', '--out', join(dir, 'tls', 'out'), '--batch', 'tls', ...SETTINGS], { ...trusted, KIZU_REDIS_URL: redis.url });
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stderr).toContain('rediss://:***@127.0.0.1');
    expect(submitted.stderr).not.toContain('tls-secret');
    const status = await runKizu(['queue', 'status', '--redis', redis.url], trusted);
    expect(status.stdout).toMatch(/^tls: 0\/60 images \(0\.0 %\), 0\/2 chunks done, 0 running, 0 failed; merge waits for the chunks\n$/);
    const untrusted = await runKizu(['queue', 'status', '--redis', redis.url]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/^kizu: redis rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: .*(certificate|self.signed)/i);
  });

  it('refuses an unreachable Redis, a wrong password and a malformed manifest in one line, queueing nothing', async () => {
    const port = await freePort();
    const unreachable = await runKizu(['queue', 'status', '--redis', `redis://127.0.0.1:${port}`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(`kizu: redis redis://127.0.0.1:${port}: connection refused: is redis-server running there, and listening on that address?\n`);

    const locked = await startServer({ password: 'right-one' });
    const wrongUrl = `redis://:wrong-one@127.0.0.1:${locked.port}`;
    const parts = join(dir, 'refused', 'parts');
    const wrong = await runKizu(['queue', 'submit', '--redis', wrongUrl, '--manifest', list, '--parts', parts, '--format', 'coco', '--out', join(dir, 'refused', 'out'), ...SETTINGS]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/^kizu: redis redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: wrong password or user/);
    expect(wrong.stderr).not.toContain('wrong-one');
    const worker = await runKizu(['worker', '--redis', wrongUrl]);
    expect(worker.code).toBe(1);
    expect(worker.stderr).toMatch(/^kizu: redis .*: wrong password or user/);
    // Worker processes that cannot start are not started again and again: their supervisor ends too.
    const supervised = await runKizu(['worker', '--redis', `redis://127.0.0.1:${port}`, '--processes', '2']);
    expect(supervised.code).toBe(1);
    expect(supervised.stderr.match(/connection refused/g)).toHaveLength(2);

    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, readFileSync(list, 'utf8').replace('{"id":"img-000.png"}', '{"name":"img-000.png"}'));
    const malformed = await runKizu(['queue', 'submit', '--redis', locked.url, '--manifest', broken, '--parts', parts, '--format', 'coco', '--out', join(dir, 'refused', 'out'), ...SETTINGS]);
    expect(malformed.stderr).toMatch(/^kizu: manifest .*broken\.jsonl line 2: id: /);

    const redis = await connectRedis(locked.url);
    const queue = new Queue(QUEUE_NAME, { connection: redis });
    const counts = await queue.getJobCounts();
    await queue.close();
    redis.disconnect();
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);
    expect(existsSync(join(dir, 'refused'))).toBe(false);
  });
});
