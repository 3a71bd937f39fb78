import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MASK_PARAMS, type ApiMethod, type ApiRequest, type JobEvent } from '../../../electron/api.ts';
import { encodePng } from '../../../electron/data/image-io.ts';
import { TRAINING_SET_FILE } from '../../../electron/data/project-training-set.ts';
import { renderSample } from '../../../electron/data/synth/render-sample.ts';
import { createKizuService, type KizuService } from '../../../electron/service/kizu-service.ts';
import { ENGINE_WORKER_SOURCE, EngineClient } from '../../../electron/worker/engine-client.ts';
import { callThrough, jobEnd as jobEndOf } from '../helpers/service-calls.ts';

/*
 * The operator's loop through the service, with the real engine and trainer: labels from the
 * folder and from the user, training from those labels, the new model adopted and remembered,
 * the gallery re-scored, the maps measured on a reviewed mask the model never trained on.
 */

const SIZE = 64;
const tmp = mkdtempSync(join(tmpdir(), 'kizu-loop-'));
const folder = join(tmp, 'line 3');
const engine = new EngineClient(ENGINE_WORKER_SOURCE, { modelPath: null });
let service: KizuService;

const call = <M extends ApiMethod>(method: M, request: ApiRequest<M>) => callThrough(service, method, request);

async function writeSample(path: string, seed: number, defect: boolean): Promise<void> {
  const s = renderSample('woven', seed, SIZE, defect);
  writeFileSync(path, await encodePng({ width: SIZE, height: SIZE, channels: 1, data: s.image }));
}

/** The next job of `kind` to end after this call (jobs started meanwhile, by the service itself, included). */
function nextEnd(kind: JobEvent['kind']): Promise<JobEvent> {
  return new Promise((resolve) => {
    const off = service.jobs.subscribe((e) => {
      if (e.kind === kind && e.state !== 'running') {
        off();
        resolve(e);
      }
    });
  });
}

const jobEnd = (jobId: string) => jobEndOf(service, jobId);

const square = () => {
  const data = new Uint8Array(SIZE * SIZE);
  for (let y = 20; y < 36; y++) for (let x = 20; x < 36; x++) data[y * SIZE + x] = 1;
  return { width: SIZE, height: SIZE, data };
};

beforeAll(async () => {
  for (const sub of ['ok', 'defect', 'new']) mkdirSync(join(folder, sub), { recursive: true });
  for (let i = 0; i < 5; i++) {
    await writeSample(join(folder, 'ok', `o${i}.png`), 10 + i, false);
    await writeSample(join(folder, 'defect', `d${i}.png`), 20 + i, true);
  }
  for (let i = 0; i < 3; i++) await writeSample(join(folder, 'new', `n${i}.png`), 30 + i, i > 0);
  service = createKizuService({
    engine,
    runIsolated: (op, args, options) => EngineClient.once(ENGINE_WORKER_SOURCE, op, args, options),
    demoDir: join(tmp, 'demo'),
    appVersion: 'test',
    log: () => undefined,
  });
  await engine.start();
});

afterAll(async () => {
  await engine.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('labels, training from them, and the model they give', () => {
  it('takes labels from the folder layout, and leaves unknown folders unlabelled', async () => {
    const info = await call('openFolder', { path: folder });
    expect(info).toMatchObject({ labels: { ok: 5, defect: 5 }, model: null, previousModels: [], quality: null });
    const byId = new Map((await call('listImages', {})).map((e) => [e.id, e]));
    expect(byId.get('ok/o0.png')).toMatchObject({ label: 'ok', labelFrom: 'folder' });
    expect(byId.get('defect/d0.png')).toMatchObject({ label: 'defect', labelFrom: 'folder' });
    expect(byId.get('new/n0.png')).toMatchObject({ label: null, labelFrom: null });
  });

  it('stores a label the user gives, over the folder\'s, and clearing it falls back to the folder\'s', async () => {
    const set = await call('setLabels', { ids: ['new/n1.png', 'new/n2.png', 'ok/o4.png'], label: 'defect' });
    expect(set.entries.map((e) => [e.id, e.label, e.labelFrom])).toEqual([
      ['new/n1.png', 'defect', 'user'], ['new/n2.png', 'defect', 'user'], ['ok/o4.png', 'defect', 'user'],
    ]);
    expect(set.labels).toEqual({ ok: 4, defect: 8 });
    const cleared = await call('setLabels', { ids: ['ok/o4.png'], label: null });
    expect(cleared.entries[0]).toMatchObject({ label: 'ok', labelFrom: 'folder' });
    await expect(call('setLabels', { ids: ['nope.png'], label: 'ok' })).rejects.toMatchObject({ status: 404 });
    // Reopened: the sidecars kept what the user said.
    await call('openFolder', { path: folder });
    const byId = new Map((await call('listImages', {})).map((e) => [e.id, e]));
    expect(byId.get('new/n1.png')).toMatchObject({ label: 'defect', labelFrom: 'user' });
  });

  it('a reviewed mask means defect, Mark OK means OK, and rejecting a map keeps the label', async () => {
    const review = (id: string, state: 'accepted' | 'ok' | 'rejected', mask: ReturnType<typeof square> | null) =>
      call('saveReview', { id, state, params: DEFAULT_MASK_PARAMS, mask });
    await review('new/n0.png', 'accepted', square());
    await review('defect/d1.png', 'accepted', square());
    await review('defect/d2.png', 'accepted', square());
    await review('ok/o3.png', 'rejected', null);
    await review('new/n2.png', 'ok', null);
    const byId = new Map((await call('listImages', {})).map((e) => [e.id, e]));
    expect(byId.get('new/n0.png')).toMatchObject({ label: 'defect', labelFrom: 'user' });
    expect(byId.get('ok/o3.png')).toMatchObject({ label: 'ok', labelFrom: 'folder' });
    expect(byId.get('new/n2.png')).toMatchObject({ label: 'ok', labelFrom: 'user' });
  });

  it('says what training would use, keeping a third of the reviewed masks aside to measure', async () => {
    const summary = await call('trainingSet', {});
    // 6 OK (5 folder + n2), 7 defect (5 folder + n0, n1) of which 1 of the 3 reviewed masks measures.
    expect(summary).toEqual({ ok: 6, defect: 6, measure: 1, masks: 2, minimum: { ok: 4, defect: 4 }, enough: true });
  });

  it('trains from the project, adopts the model, re-scores every image and measures on the held-out mask', async () => {
    const scored = nextEnd('score');
    const measured = nextEnd('quality');
    const { jobId } = await call('startTraining', { epochs: 1, batch: 4, inputSize: 32, width: 4, seed: 0 });
    const trained = await jobEnd(jobId);
    expect(trained.state, trained.message).toBe('done');
    const modelDir = trained.result!.modelDir as string;
    expect(modelDir.startsWith(join(folder, '.kizu', 'models'))).toBe(true);
    expect((await call('engineInfo', {})).model?.path).toBe(modelDir);

    const rows = parse(readFileSync(join(modelDir, TRAINING_SET_FILE), 'utf8'), { columns: true }) as Array<{ path: string; label: string; split: string }>;
    const trainRows = rows.filter((r) => r.split === 'train');
    const measureRows = rows.filter((r) => r.split === 'test');
    expect(trainRows.length).toBe(12);
    expect(measureRows.length).toBe(1);
    expect(trainRows.some((r) => r.path === measureRows[0].path)).toBe(false);
    expect(rows.some((r) => r.path.endsWith('o3.png') && r.label === 'ok')).toBe(true);

    expect((await scored).state).toBe('done');
    const entries = await call('listImages', {});
    expect(entries.every((e) => e.score !== null && e.score >= 0 && e.score <= 1)).toBe(true);

    const quality = await measured;
    expect(quality.state, quality.message).toBe('done');
    const info = await call('projectInfo', {});
    expect(info.model).toBe(modelDir);
    expect(info.quality).toMatchObject({ model: modelDir, images: 1, method: 'layercam', layer: 'fused' });
    expect(info.quality!.pixelAuroc).toBeGreaterThanOrEqual(0);
    expect(info.quality!.miou).toBeGreaterThanOrEqual(0);
  });

  it('never measures a model on an image it trained on', async () => {
    const info = await call('projectInfo', {});
    const rows = parse(readFileSync(join(info.model!, TRAINING_SET_FILE), 'utf8'), { columns: true }) as Array<{ path: string; split: string }>;
    const trainedOn = rows.filter((r) => r.split === 'train').map((r) => r.path);
    const held = rows.find((r) => r.split === 'test')!.path;
    expect(trainedOn).not.toContain(held);
    // Three images have reviewed masks; the model trained on two of them, so one is measurable.
    const { jobId } = await call('startQualityCheck', {});
    const event = await jobEnd(jobId);
    expect(event.state).toBe('done');
    expect((event.result!.quality as { images: number }).images).toBe(1);
    // A mask reviewed on an unlabelled image after training is one more the model never saw.
    await call('saveReview', { id: 'new/n1.png', state: 'accepted', params: DEFAULT_MASK_PARAMS, mask: square() });
    const again = await jobEnd((await call('startQualityCheck', {})).jobId);
    expect((again.result!.quality as { images: number }).images).toBe(trainedOn.some((p) => p.endsWith('n1.png')) ? 1 : 2);
  });

  it('learns from the reviewed masks of its training part, and keeps the measurement before it beside the one after', async () => {
    const before = await call('projectInfo', {});
    const first = before.model!;
    expect(before.quality?.model).toBe(first);
    // n1's mask, reviewed after the first training, makes four: one measures, three can teach.
    expect((await call('trainingSet', {})).masks).toBe(3);
    const measured = nextEnd('quality');
    const { jobId } = await call('startTraining', { epochs: 1, batch: 4, inputSize: 32, width: 4, seed: 1, masks: true });
    const second = await jobEnd(jobId);
    expect(second.state, second.message).toBe('done');
    const modelDir = second.result!.modelDir as string;
    const rows = parse(readFileSync(join(modelDir, TRAINING_SET_FILE), 'utf8'), { columns: true }) as Array<{ path: string; mask: string; split: string }>;
    const taught = rows.filter((r) => r.split === 'train' && r.mask !== '');
    expect(taught).toHaveLength(3);
    for (const r of taught) expect(existsSync(r.mask), r.mask).toBe(true);
    const masks = second.result!.masks as { found: number; used: number };
    expect(masks.found).toBe(3);
    const manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')) as { provenance: { trainedMasks: { count: number; images: string[] } } };
    expect(manifest.provenance.trainedMasks.count).toBe(masks.used);
    // The measure image's mask is never among them.
    const held = rows.find((r) => r.split === 'test')!.path;
    const trainedOn = manifest.provenance.trainedMasks.images.map((p) => resolve(modelDir, p));
    expect(trainedOn.every((p) => taught.some((r) => r.path === p))).toBe(true);
    expect(trainedOn).not.toContain(held);
    expect((await measured).state).toBe('done');
    const info = await call('projectInfo', {});
    expect(info.quality?.model).toBe(modelDir);
    expect(info.previousQuality).toEqual(before.quality);
  });

  it('remembers the project\'s model across a reopen, and keeps the previous one when another is chosen', async () => {
    const first = (await call('projectInfo', {})).model!;
    const { jobId } = await call('startTraining', { epochs: 1, batch: 4, inputSize: 32, width: 4, seed: 2 });
    const second = await jobEnd(jobId);
    expect(second.state, second.message).toBe('done');
    const info = await call('projectInfo', {});
    expect(info.model).toBe(second.result!.modelDir);
    expect(info.previousModels.slice(0, 1)).toEqual([first]);
    await call('useProjectModel', { path: first });
    expect((await call('projectInfo', {})).previousModels[0]).toBe(second.result!.modelDir);

    await call('loadModel', { path: second.result!.modelDir as string });
    const reopened = await call('openFolder', { path: folder });
    expect(reopened.model).toBe(first);
    expect((await call('engineInfo', {})).model?.path).toBe(first);
    expect(existsSync(join(folder, '.kizu', 'project.json'))).toBe(true);
  });

  it('offers a training the app was closed in the middle of, and resumes it from its checkpoint', async () => {
    expect((await call('projectInfo', {})).resumableTraining).toBeNull();
    // What a kill leaves: the request and a checkpoint, but no model yet.
    const finished = (await call('projectInfo', {})).model!;
    const stopped = join(folder, '.kizu', 'models', '9999-01-01T00-00-00');
    cpSync(finished, stopped, { recursive: true });
    rmSync(join(stopped, 'manifest.json'));
    const info = await call('openFolder', { path: folder });
    expect(info.resumableTraining).toMatchObject({ out: stopped, step: expect.any(Number) });
    const { jobId } = await call('startTraining', { resume: true });
    const resumed = await jobEnd(jobId);
    expect(resumed.state, resumed.message).toBe('done');
    expect(resumed.result!.modelDir).toBe(stopped);
    expect(existsSync(join(stopped, 'manifest.json'))).toBe(true);
    expect((await call('projectInfo', {})).model).toBe(stopped);
    expect((await call('projectInfo', {})).resumableTraining).toBeNull();
    await expect(call('startTraining', { resume: true })).rejects.toMatchObject({ status: 409 });
  });

  it('refuses to train from too few labels, saying the minimum', async () => {
    await call('setLabels', { ids: ['ok/o0.png', 'ok/o1.png', 'ok/o2.png', 'ok/o3.png', 'ok/o4.png', 'new/n2.png'], label: 'defect' });
    const summary = await call('trainingSet', {});
    expect(summary.enough).toBe(false);
    await expect(call('startTraining', { epochs: 1 })).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/at least 4 OK and 4 defect.*0 OK/) });
    // Pretraining needs no labels but a folder of OK images to read.
    await expect(call('startTraining', { pretextOnly: true })).rejects.toMatchObject({ status: 400, where: 'data' });
  });
});
