import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseRequest, type ApiMethod, type ApiRequest, type ApiResponses, type JobEvent } from '../../../electron/api.ts';
import { QueueWorker } from '../../../electron/batch/queue-worker.ts';
import { connectRedis } from '../../../electron/batch/redis-connection.ts';
import { main } from '../../../electron/cli.ts';
import { createKizuService, type EnginePort, type KizuService } from '../../../electron/service/kizu-service.ts';
import type { EngineStatus } from '../../../electron/worker/protocol.ts';
import { FIXTURE_DIR } from '../helpers/fixture.ts';
import { makeImages, recordsWritten } from '../helpers/kizu-process.ts';
import { RedisServer } from '../helpers/redis-server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kizu-app-queue-'));
const model = join(FIXTURE_DIR, 'weights.safetensors');
let redis: RedisServer | undefined;
afterAll(async () => {
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** The engine thread's part the service asks here: which model is loaded (the fixture's, from its file). */
const status: EngineStatus = {
  backend: { name: 'cpu', version: '4.22.0', threads: 1, simd: false, label: 'cpu' },
  mapsEngine: { name: 'tfjs', version: '4.22.0', threads: 1, label: 'tfjs cpu' },
  model: { name: 'weights', path: model, classes: ['a', 'b', 'c'], defectClass: 0, inputChannels: 1, inputSize: '224x224', metrics: {}, mapThresholds: null, calibrated: false, decisionThreshold: 0.5, masksOnCalledDefect: false, mapsRefinedOnImage: false, mapsFromEveryVote: false },
  modelError: null,
};
const engine: EnginePort = {
  start: async () => status,
  call: (async (op: string) => {
    if (op === 'status') return status;
    throw new Error(`the queue path asked the engine thread for ${op}`);
  }) as EnginePort['call'],
};

function call<M extends ApiMethod>(s: KizuService, method: M, request: ApiRequest<M>): Promise<ApiResponses[M]> {
  return (s.handlers[method] as (r: unknown) => Promise<ApiResponses[M]>)(parseRequest(method, request));
}

function end(s: KizuService, jobId: string, events: JobEvent[]): Promise<JobEvent> {
  return new Promise((resolve) => {
    const off = s.jobs.subscribe((e) => {
      if (e.jobId !== jobId) return;
      events.push(e);
      if (e.state !== 'running') {
        off();
        resolve(e);
      }
    });
  });
}

describe("the app's export sent to the work queue", () => {
  it('queues every image of the folder, follows the batch to its merge, and writes what kizu export writes', async () => {
    redis = await RedisServer.start({ password: 'app-secret' });
    const folder = join(tmp, 'line');
    mkdirSync(join(folder, 'line-b'), { recursive: true });
    await makeImages(folder, 6, { width: 64, height: 48 });
    vi.stubEnv('KIZU_REDIS_URL', redis.url);
    const connection = await connectRedis(redis.url);
    const worker = new QueueWorker(connection, { lockMs: 5000, log: () => undefined });
    try {
      const service = createKizuService({ engine, runIsolated: async () => ({}), demoDir: join(tmp, 'demo'), appVersion: 't', log: () => undefined });
      const info = await call(service, 'engineInfo', {});
      expect(info.queue?.url).toMatch(/^redis:\/\/:\*\*\*@127\.0\.0\.1:\d+$/);
      await call(service, 'openFolder', { path: folder });
      const out = join(tmp, 'queued-export');
      const params = { method: 'layercam', layer: 'fused', threshold: { kind: 'value', value: 0.5 }, cleanup: { minArea: 4, openRadius: 0, closeRadius: 0, fillHoles: true } } as const;
      const { jobId } = await call(service, 'startExport', { format: 'coco', outDir: out, which: 'accepted', params, queue: true });
      const events: JobEvent[] = [];
      const last = await end(service, jobId, events);
      expect(last.state, last.message).toBe('done');
      expect(last.result).toMatchObject({ outDir: out, format: 'coco', images: 6 });
      expect(events.some((e) => e.state === 'running' && /: \d+\/6 images \(/.test(e.message))).toBe(true);

      // Every image went through a queue worker, once, into the parts in the project's own folder.
      const queueDir = join(folder, '.kizu', 'queue');
      const [batch] = readdirSync(queueDir);
      const parts = join(queueDir, batch, 'parts');
      expect(readdirSync(parts).reduce((n, range) => n + recordsWritten(join(parts, range)), 0)).toBe(6);

      vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const single = join(tmp, 'single');
      expect(await main(['node', 'kizu', 'export', '--images', folder, '--format', 'coco', '--out', single, '--model', model, '--threshold', '0.5', '--min-area', '4'])).toBe(0);
      vi.restoreAllMocks();
      const file = 'annotations/instances_default.json';
      expect(readFileSync(join(out, file)).equals(readFileSync(join(single, file)))).toBe(true);
    } finally {
      vi.unstubAllEnvs();
      await worker.close();
      connection.disconnect();
    }
  });

  it('refuses to send without a configured queue, saying how to configure one', async () => {
    vi.stubEnv('KIZU_REDIS_URL', '');
    try {
      const service = createKizuService({ engine, runIsolated: async () => ({}), demoDir: join(tmp, 'demo'), appVersion: 't', log: () => undefined });
      expect((await call(service, 'engineInfo', {})).queue).toBeUndefined();
      await call(service, 'openFolder', { path: join(tmp, 'line') });
      await expect(call(service, 'startExport', { format: 'coco', outDir: join(tmp, 'nowhere'), which: 'accepted', queue: true })).rejects.toThrow(/no work queue is configured \(start Kizu with KIZU_REDIS_URL set\)/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
