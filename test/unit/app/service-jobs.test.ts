import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRequest, type ApiMethod, type ApiRequest, type ApiResponses, type JobEvent } from '../../../electron/api.ts';
import { createKizuService, type EnginePort, type IsolatedRunner, type KizuService } from '../../../electron/service/kizu-service.ts';
import { EngineCallError } from '../../../electron/worker/engine-client.ts';
import type { EngineStatus } from '../../../electron/worker/protocol.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kizu-jobs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const status: EngineStatus = {
  backend: { name: 'cpu', version: '4.22.0', threads: 1, simd: false, label: 'cpu 4.22.0, 1 thread' },
  mapsEngine: { name: 'tfjs', version: '4.22.0', threads: 1, label: 'tfjs cpu 4.22.0, 1 thread' },
  model: { name: 'm', path: '/models/m', classes: ['ok', 'defect'], defectClass: 1, inputChannels: 1, inputSize: '224x224', metrics: {}, mapThresholds: null, calibrated: false, decisionThreshold: 0.5, masksOnCalledDefect: false, mapsRefinedOnImage: false, mapsFromEveryVote: false },
  modelError: null,
};

/** An engine whose export waits until it is cancelled, so cancellation is tested without timing. */
const waitingEngine: EnginePort = {
  start: async () => status,
  call: (async (op: string, _args: unknown, options?: { signal?: AbortSignal; onProgress?: (p: { done: number; total: number; message: string }) => void }) => {
    if (op === 'status') return status;
    if (op !== 'export') throw new Error(`unexpected ${op}`);
    options?.onProgress?.({ done: 0, total: 1, message: 'started' });
    return new Promise((_resolve, reject) => options?.signal?.addEventListener('abort', () => reject(new EngineCallError('cancelled', undefined, true))));
  }) as EnginePort['call'],
};

function service(runIsolated: IsolatedRunner): KizuService {
  return createKizuService({ engine: waitingEngine, runIsolated, demoDir: join(tmp, 'demo'), appVersion: 't', log: () => undefined });
}

function call<M extends ApiMethod>(s: KizuService, method: M, request: ApiRequest<M>): Promise<ApiResponses[M]> {
  return (s.handlers[method] as (r: unknown) => Promise<ApiResponses[M]>)(parseRequest(method, request));
}

function end(s: KizuService, jobId: string): Promise<JobEvent> {
  return new Promise((resolve) => {
    const off = s.jobs.subscribe((e) => {
      if (e.jobId === jobId && e.state !== 'running') {
        off();
        resolve(e);
      }
    });
  });
}

describe('service jobs', () => {
  it('cancels a running export through cancelJob, and lists it as cancelled', async () => {
    const folder = join(tmp, 'folder');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'a.png'), 'never decoded: the fake engine does the work');
    const s = service(async () => ({}));
    await call(s, 'openFolder', { path: folder });
    await call(s, 'saveReview', { id: 'a.png', state: 'accepted', params: { method: 'layercam', layer: 'fused', threshold: { kind: 'otsu' }, cleanup: {} }, mask: null });
    const { jobId } = await call(s, 'startExport', { format: 'yolo', outDir: join(tmp, 'out'), which: 'accepted' });
    const finished = end(s, jobId);
    expect((await call(s, 'listJobs', {})).find((j) => j.jobId === jobId)?.state).toBe('running');
    expect(await call(s, 'cancelJob', { jobId })).toEqual({ cancelled: true });
    expect((await finished).state).toBe('cancelled');
    expect(await call(s, 'cancelJob', { jobId })).toEqual({ cancelled: false });
  });

  it('says there is nothing to export when no image is accepted', async () => {
    const folder = join(tmp, 'nothing');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'a.png'), '');
    const s = service(async () => ({}));
    await call(s, 'openFolder', { path: folder });
    await expect(call(s, 'startExport', { format: 'coco', outDir: join(tmp, 'o'), which: 'accepted' })).rejects.toMatchObject({ status: 409, message: 'nothing to export: no image is accepted yet' });
  });

  it('passes training progress (loss, accuracy, ETA) through as job events, and the result at the end', async () => {
    const data = join(tmp, 'data');
    mkdirSync(data, { recursive: true });
    const seen: { op: string; args: unknown }[] = [];
    const s = service((async (op, args, options) => {
      seen.push({ op, args });
      options.onProgress?.({ done: 3, total: 30, message: 'epoch 1/3', etaSeconds: 81, metrics: { step: 3, epoch: 1, loss: 0.69, accuracy: 0.5, lr: 0.01, imagesPerSecond: 4 } });
      return { modelDir: join(tmp, 'model'), cancelled: false };
    }) as IsolatedRunner);
    const events: JobEvent[] = [];
    s.jobs.subscribe((e) => events.push(e));
    const { jobId } = await call(s, 'startTraining', { data, out: join(tmp, 'model'), epochs: 3, batch: 4 });
    const last = await end(s, jobId);
    expect(seen[0]).toMatchObject({ op: 'train', args: { data, epochs: 3, batch: 4, lr: 0.001, inputSize: 512, defectLabel: 'defect' } });
    expect(events.find((e) => e.metrics)).toMatchObject({ kind: 'train', done: 3, total: 30, etaSeconds: 81, metrics: { loss: 0.69, accuracy: 0.5 } });
    expect(last).toMatchObject({ state: 'done', result: { modelDir: join(tmp, 'model') } });
  });

  it('fails a training job with the engine\'s "not available in this build" when the trainer is missing', async () => {
    const data = join(tmp, 'data2');
    mkdirSync(data, { recursive: true });
    const s = service((async () => {
      throw new EngineCallError('training is not available in this build yet (Cannot find module)', 501);
    }) as IsolatedRunner);
    const { jobId } = await call(s, 'startTraining', { data, out: join(tmp, 'm2') });
    expect(await end(s, jobId)).toMatchObject({ state: 'failed', message: 'training is not available in this build yet (Cannot find module)' });
  });

  it('evaluates the loaded model unless one is named, in a worker ended on cancel', async () => {
    const data = join(tmp, 'data3');
    mkdirSync(data, { recursive: true });
    const seen: unknown[] = [];
    const s = service((async (op, args, options) => {
      seen.push({ op, args, terminateOnAbort: options.terminateOnAbort });
      return { summary: 'ok' };
    }) as IsolatedRunner);
    await end(s, (await call(s, 'startEvaluation', { data })).jobId);
    expect(seen).toEqual([{ op: 'evaluate', args: { data, model: '/models/m' }, terminateOnAbort: true }]);
  });
});
