import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MASK_PARAMS, type ApiMethod, type ApiRequest, type JobEvent, type MaskParams } from '../../../electron/api.ts';
import { encodePng } from '../../../electron/data/image-io.ts';
import { renderSample } from '../../../electron/data/synth/render-sample.ts';
import { ApiError } from '../../../electron/api-error.ts';
import { createKizuService, type EnginePort, type KizuService } from '../../../electron/service/kizu-service.ts';
import { ENGINE_WORKER_SOURCE, EngineClient } from '../../../electron/worker/engine-client.ts';
import { onnxRuntimeInstalled } from '../helpers/backends.ts';
import { callThrough, jobEnd as jobEndOf } from '../helpers/service-calls.ts';
import { FIXTURE_DIR } from '../helpers/fixture.ts';

const SIZE = 64;
const tmp = mkdtempSync(join(tmpdir(), 'kizu service é '));
const folder = join(tmp, 'parts line 1');
const outside = join(tmp, 'outside');
const engine = new EngineClient(ENGINE_WORKER_SOURCE, { modelPath: join(FIXTURE_DIR, 'weights.safetensors') });
const cachedFlags: boolean[] = [];
const logged: string[] = [];
let service: KizuService;

/** The engine as the service sees it, recording whether each explain came from the worker's cache. */
const recorder: EnginePort = {
  start: () => engine.start(),
  call: async (op, args, options) => {
    const result = await engine.call(op, args, options);
    if (op === 'explain') cachedFlags.push((result as { cached: boolean }).cached);
    return result;
  },
};

const call = <M extends ApiMethod>(method: M, request: ApiRequest<M>) => callThrough(service, method, request);

async function writeSample(path: string, seed: number, defect: boolean): Promise<void> {
  const s = renderSample('mottled', seed, SIZE, defect);
  writeFileSync(path, await encodePng({ width: SIZE, height: SIZE, channels: 1, data: s.image }));
}

const jobEnd = (jobId: string) => jobEndOf(service, jobId);

function rectangleMask(x0: number, y0: number, w: number, h: number) {
  const data = new Uint8Array(SIZE * SIZE);
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[y * SIZE + x] = 1;
  return { width: SIZE, height: SIZE, data };
}

const params: MaskParams = { ...DEFAULT_MASK_PARAMS, layer: 'layer3', threshold: { kind: 'value', value: 0.6 } };

beforeAll(async () => {
  mkdirSync(join(folder, 'sub'), { recursive: true });
  mkdirSync(join(folder, '.kizu'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  await writeSample(join(folder, 'a.png'), 1, true);
  await writeSample(join(folder, 'b.png'), 2, false);
  await writeSample(join(folder, 'c.png'), 3, true);
  await writeSample(join(folder, 'sub', 'd.png'), 4, false);
  await writeSample(join(outside, 'secret.png'), 5, true);
  symlinkSync(join(outside, 'secret.png'), join(folder, 'linked-out.png'));
  writeFileSync(join(folder, 'notes.txt'), 'not an image');
  writeFileSync(join(folder, '.kizu', 'b.png.json'), '{"schemaVersion": 1, "image": "b.png", "sta');
  service = createKizuService({
    engine: recorder,
    runIsolated: (op, args, options) => EngineClient.once(ENGINE_WORKER_SOURCE, op, args, options),
    demoDir: join(tmp, 'demo'),
    demo: { classes: 1, size: 64 },
    appVersion: 'test',
    log: (line) => logged.push(line),
  });
});

afterAll(async () => {
  await engine.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the service, with the engine in its worker', () => {
  it('reports the backend, the engine that computes the maps, and the model it started on', async () => {
    const info = await call('engineInfo', {});
    expect(info.version).toBe('test');
    expect(info.backend.label).toMatch(/^(wasm|cpu|tfjs-node)/);
    const onnx = process.env.KIZU_EXPLAIN_ENGINE !== 'tfjs' && (await onnxRuntimeInstalled());
    expect(info.mapsEngine).toMatchObject(onnx
      ? { name: 'onnxruntime', label: expect.stringMatching(/^onnxruntime \d+\.\d+\.\d+, \d+ threads?$/) }
      : { name: 'tfjs', label: expect.stringMatching(/^tfjs/) });
    expect(info.model).toMatchObject({ name: 'weights', classes: ['class0', 'class1', 'class2'], inputSize: '224x224' });
  });

  it('says clearly that nothing is open yet', async () => {
    await expect(call('listImages', {})).rejects.toThrow(/no folder is open/);
  });

  it('opens a folder: its images (subfolders too), never a symlink out of it, and reports a corrupt sidecar', async () => {
    const info = await call('openFolder', { path: folder });
    expect(info).toMatchObject({ imageCount: 4, reviewedCount: 0 });
    expect(info.problems).toEqual([{ file: join(folder, '.kizu', 'b.png.json'), message: expect.stringMatching(/not JSON.*unreviewed/) }]);
    expect(logged.some((l) => l.includes('b.png.json'))).toBe(true);
    const list = await call('listImages', {});
    expect(list.map((e) => [e.id, e.state, e.score])).toEqual([
      ['a.png', 'unreviewed', null], ['b.png', 'unreviewed', null], ['c.png', 'unreviewed', null], ['sub/d.png', 'unreviewed', null],
    ]);
  });

  it('serves the image and a thumbnail as 8-bit PNGs', async () => {
    const image = await call('getImage', { id: 'sub/d.png' });
    expect([image.width, image.height]).toEqual([SIZE, SIZE]);
    const meta = await sharp(image.png).metadata();
    expect([meta.format, meta.width, meta.channels, meta.depth]).toEqual(['png', SIZE, 1, 'uchar']);
    const thumb = await call('getThumbnail', { id: 'a.png', size: 16 });
    expect([thumb.width, thumb.height]).toEqual([16, 16]);
  });

  it('refuses ids outside the project, and a file swapped for a symlink out of it', async () => {
    await expect(call('getImage', { id: '../outside/secret.png' })).rejects.toMatchObject({ status: 404 });
    await expect(call('getImage', { id: 'linked-out.png' })).rejects.toMatchObject({ status: 404 });
    await writeSample(join(folder, 'e.png'), 6, false);
    await call('openFolder', { path: folder });
    unlinkSync(join(folder, 'e.png'));
    symlinkSync(join(outside, 'secret.png'), join(folder, 'e.png'));
    const err = await call('getImage', { id: 'e.png' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(403);
    expect((err as ApiError).message).toMatch(/leads outside/);
    unlinkSync(join(folder, 'e.png'));
    await call('openFolder', { path: folder });
  });

  it('explains once per image: every layer of every method at image size, then from the cache; the score is stored', async () => {
    const first = await call('explain', { id: 'a.png', methods: ['layercam', 'gradcam'] });
    expect(first.id).toBe('a.png');
    expect(Object.keys(first.maps).sort()).toEqual(['gradcam', 'layercam']);
    for (const layers of Object.values(first.maps)) {
      expect(Object.keys(layers!).sort()).toEqual(['fused', 'layer2', 'layer3', 'layer4']);
      for (const map of Object.values(layers!)) {
        expect([map.width, map.height, map.data.length]).toEqual([SIZE, SIZE, SIZE * SIZE]);
        expect(Math.min(...map.data)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...map.data)).toBeLessThanOrEqual(1);
      }
    }
    expect(first.probabilities).toHaveLength(3);
    expect(first.defectProbability).toBeCloseTo(first.probabilities[first.targetClass], 6);

    const again = await call('explain', { id: 'a.png', methods: ['layercam'] });
    expect(again.maps.layercam!.layer3.data).toEqual(first.maps.layercam!.layer3.data);
    expect(cachedFlags).toEqual([false, true]);

    const entry = (await call('listImages', {})).find((e) => e.id === 'a.png')!;
    expect(entry.score).toBeCloseTo(first.defectProbability, 6);
    const sidecar = JSON.parse(readFileSync(join(folder, '.kizu', 'a.png.json'), 'utf8'));
    expect([sidecar.score, sidecar.scoreModel, sidecar.state]).toEqual([entry.score, 'weights', 'unreviewed']);
  });

  it('saves a review with its mask and finds it again after reopening the folder', async () => {
    const mask = rectangleMask(10, 20, 20, 12);
    const saved = await call('saveReview', { id: 'a.png', state: 'accepted', params, mask });
    expect(saved).toMatchObject({ id: 'a.png', state: 'accepted', params });
    await call('saveReview', { id: 'b.png', state: 'ok', params, mask: null });
    const reopened = await call('openFolder', { path: folder });
    expect(reopened.reviewedCount).toBe(2);
    expect(reopened.problems).toBeUndefined();
    const review = await call('getReview', { id: 'a.png' });
    expect(review.state).toBe('accepted');
    expect(review.params).toEqual(params);
    expect(review.mask!.data).toEqual(mask.data);
    expect(review.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await call('listImages', {})).map((e) => e.state)).toEqual(['accepted', 'ok', 'unreviewed', 'unreviewed']);
  });

  it('refuses a mask of the wrong size, naming the field', async () => {
    const err = await call('saveReview', { id: 'c.png', state: 'edited', params, mask: { width: 8, height: 8, data: new Uint8Array(64) } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, where: 'mask' });
    expect((err as Error).message).toMatch(/8x8 but c.png is 64x64/);
  });

  it('exports the accepted images as COCO from their reviewed masks, in the worker, with job events', async () => {
    const out = join(tmp, 'export coco');
    const events: JobEvent[] = [];
    const off = service.jobs.subscribe((e) => events.push(e));
    const { jobId } = await call('startExport', { format: 'coco', outDir: out, which: 'accepted' });
    const end = await jobEnd(jobId);
    off();
    expect(end).toMatchObject({ kind: 'export', state: 'done', done: 1, total: 1, result: { images: 1, format: 'coco', outDir: out } });
    expect(events[0]).toMatchObject({ jobId, state: 'running', total: 1 });
    const coco = JSON.parse(readFileSync(join(out, 'annotations', 'instances_default.json'), 'utf8'));
    expect(coco.images).toEqual([{ id: 1, file_name: 'a.png', width: SIZE, height: SIZE }]);
    expect(coco.annotations).toHaveLength(1);
    expect(coco.annotations[0]).toMatchObject({ image_id: 1, bbox: [10, 20, 20, 12], area: 240, iscrowd: 0 });
    expect(coco.annotations[0].segmentation[0].length).toBeGreaterThanOrEqual(8);
  });

  it('exports "all defective": reviewed defects whatever their score, unreviewed ones by score, never those marked OK', async () => {
    const out = join(tmp, 'export rle');
    const { jobId } = await call('startExport', { format: 'coco-rle', outDir: out, which: 'defective', params });
    const end = await jobEnd(jobId);
    expect(end.state).toBe('done');
    const coco = JSON.parse(readFileSync(join(out, 'annotations', 'instances_default.json'), 'utf8'));
    // The fixture's random weights give every image a defect probability well under 0.5.
    const listed = await call('listImages', {});
    const unreviewed = listed.filter((e) => e.state === 'unreviewed');
    expect(unreviewed.every((e) => e.score !== null && e.score < 0.5)).toBe(true);
    expect(end.result).toMatchObject({ images: 1, skippedAsOk: unreviewed.length });
    expect(coco.images.map((i: { file_name: string }) => i.file_name)).toEqual(['a.png']);
    expect(coco.annotations[0].segmentation).toMatchObject({ size: [SIZE, SIZE], counts: expect.any(String) });
  });

  it('refuses an export into the project\'s own .kizu, or to a relative path', async () => {
    await expect(call('startExport', { format: 'png', outDir: join(folder, '.kizu', 'x'), which: 'accepted' })).rejects.toMatchObject({ status: 400, where: 'outDir' });
    await expect(call('startExport', { format: 'png', outDir: 'relative/out', which: 'accepted' })).rejects.toMatchObject({ status: 400, where: 'outDir' });
  });

  it('makes the demo folder on first use and opens it, leaving its label masks out of the gallery', async () => {
    const info = await call('openDemo', {});
    expect(info).toMatchObject({ root: join(tmp, 'demo'), imageCount: 8 });
    expect(existsSync(join(tmp, 'demo', 'Class1', 'Train', 'Label', 'Labels.txt'))).toBe(true);
    const ids = (await call('listImages', {})).map((e) => e.id);
    expect(ids.every((id) => /^Class1\/(Train|Test)\/\d{4}\.PNG$/.test(id))).toBe(true);
  });

  it('loads another model and says which file is wrong when one does not load', async () => {
    const summary = await call('loadModel', { path: join(FIXTURE_DIR, 'weights.safetensors') });
    expect(summary.name).toBe('weights');
    const bad = join(tmp, 'not-a-model.safetensors');
    writeFileSync(bad, 'garbage');
    await expect(call('loadModel', { path: bad })).rejects.toMatchObject({ status: 400, where: 'path', message: expect.stringContaining('not-a-model.safetensors') });
  });

  it('runs training and evaluation as jobs in a worker of their own, wired to the engine\'s train and evaluate', async () => {
    const empty = join(tmp, 'empty dataset');
    mkdirSync(empty, { recursive: true });
    await expect(call('startTraining', { data: join(tmp, 'missing'), out: join(tmp, 'model') })).rejects.toMatchObject({ status: 404, where: 'data' });
    const training = await jobEnd((await call('startTraining', { data: empty, out: join(tmp, 'model') })).jobId);
    expect(training.kind).toBe('train');
    expect(training.state).toBe('failed');
    // The failure comes from the trainer reading the dataset, so the trainer is there and wired.
    expect(training.message).not.toMatch(/not available/);
    expect(training.message).toMatch(/dataset/);
    const evaluation = await jobEnd((await call('startEvaluation', { data: empty })).jobId);
    expect(evaluation.kind).toBe('evaluate');
    expect(evaluation.state).toBe('failed');
    expect(evaluation.message).not.toMatch(/not available/);
  });
});
