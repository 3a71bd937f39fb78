import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextTick } from 'vue';
import { maskFromMap } from '../../../electron/annotate/cleanup.ts';
import { api, setApi } from '../../../renderer/src/api/index.ts';
import { useJobsStore } from '../../../renderer/src/stores/jobs.ts';
import { useModelStore } from '../../../renderer/src/stores/model.ts';
import { useNoticesStore } from '../../../renderer/src/stores/notices.ts';
import { SCORE_REFRESH_MS, useProjectStore } from '../../../renderer/src/stores/project.ts';
import { SAVE_DEBOUNCE_MS, useReviewStore } from '../../../renderer/src/stores/review.ts';
import { useTrainingStore } from '../../../renderer/src/stores/training.ts';
import { blobMap, FakeApi, LAYERCAM_THRESHOLDS, MODEL_SCALE_FACTOR, SIZE } from './fake-api.ts';

/** Lets every pending promise and watcher run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await Promise.resolve();
    await nextTick();
  }
}

let fake: FakeApi;

function freshStores() {
  setActivePinia(createPinia());
  return { project: useProjectStore(), review: useReviewStore(), model: useModelStore(), notices: useNoticesStore() };
}

async function openDemoWithMap() {
  const stores = freshStores();
  await stores.project.openDemo();
  await settle();
  return stores;
}

beforeEach(() => {
  localStorage.clear();
  fake = new FakeApi(5);
  setApi(fake);
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('project store', () => {
  it('opens the demo set, lists its images and opens the first one', async () => {
    const { project } = await openDemoWithMap();
    expect(project.info?.root).toBe('/demo');
    expect(project.entries).toHaveLength(5);
    expect(project.currentId).toBe('img/0000.png');
    expect(project.reviewedCount).toBe(0);
  });

  it('reopens the last folder on the image that was on screen', async () => {
    const first = await openDemoWithMap();
    first.project.select('img/0003.png');
    const { project } = freshStores();
    await project.restore();
    expect(fake.calls.openFolder?.at(-1)).toEqual({ path: '/demo' });
    expect(project.currentId).toBe('img/0003.png');
  });

  it('opens the demo set on the very first launch only', async () => {
    const first = freshStores();
    await first.project.restore();
    expect(fake.count('openDemo')).toBe(1);
    localStorage.removeItem('kizu.lastProject');
    const second = freshStores();
    await second.project.restore();
    expect(fake.count('openDemo')).toBe(1);
    expect(second.project.isOpen).toBe(false);
  });

  it('says which folder could not be opened', async () => {
    const { project, notices } = freshStores();
    expect(await project.openFolder('/missing')).toBe(false);
    expect(notices.items[0].text).toContain('/missing');
    expect(notices.items[0].text).toContain('folder not found');
  });

  it('steps through the filtered, sorted list', async () => {
    const { project } = await openDemoWithMap();
    project.step(1);
    project.step(1);
    expect(project.currentId).toBe('img/0002.png');
    project.sort = 'date';
    project.step(1);
    expect(project.currentId).toBe('img/0001.png');
  });
});

describe('model store', () => {
  it('fetches the maps of an image once, for concurrent and later callers', async () => {
    const { model } = freshStores();
    const [a, b] = await Promise.all([model.explain('x', 'layercam'), model.explain('x', 'layercam')]);
    await model.explain('x', 'layercam');
    expect(a).toBe(b);
    expect(fake.count('explain')).toBe(1);
    await model.explain('x', 'gradcam');
    expect(fake.count('explain')).toBe(2);
  });

  it('names the file when its map fails, and a new model empties the cache', async () => {
    const { model, notices } = freshStores();
    fake.failExplain.add('bad.png');
    expect(await model.explain('bad.png', 'layercam', 'bad.png')).toBeNull();
    expect(notices.items[0].text).toContain('bad.png');
    expect(notices.items[0].text).toContain('bad PNG signature');
    await model.explain('x', 'layercam');
    await model.refreshEngine();
    expect(await model.loadModel('/models/next')).toBe(true);
    expect(model.model?.name).toBe('next');
    expect(model.cached('x', 'layercam')).toBeNull();
  });

  it('without a model it asks for no maps and raises no error per image', async () => {
    fake.hasModel = false;
    const { model, project, review, notices } = freshStores();
    await model.refreshEngine();
    await project.openDemo();
    await settle();
    expect(fake.count('explain')).toBe(0);
    expect(notices.items).toEqual([]);
    expect(review.map).toBeNull();
    expect(review.loaded).toBe(true);
  });

  it('a new model brings a new map for the image on screen', async () => {
    const { model, review } = await openDemoWithMap();
    const before = fake.count('explain');
    await model.loadModel('/models/next');
    await settle();
    expect(fake.calls.explain?.slice(before).map((c) => c.id)).toContain(review.id);
    expect(review.map).not.toBeNull();
  });
});

describe('review store', () => {
  it('derives the mask with the same annotate/ call the export makes, and the threshold moves it', async () => {
    const { review } = await openDemoWithMap();
    expect(review.map).not.toBeNull();
    review.setThreshold(0.3);
    const expected = maskFromMap({ width: SIZE, height: SIZE, data: blobMap(SIZE, SIZE, 3) }, { threshold: { kind: 'value', value: 0.3 }, cleanup: review.params.cleanup });
    expect(Array.from(review.mask!.data)).toEqual(Array.from(expected.mask.data));
    expect(review.stats?.components).toBe(2);
    const lowArea = review.stats!.area;
    review.setThreshold(0.7);
    // The weaker blob (peak 0.6) is gone above 0.6.
    expect(review.stats?.components).toBe(1);
    expect(review.stats!.area).toBeLessThan(lowArea);
  });

  it('switching layer or threshold reuses the fetched maps', async () => {
    const { review } = await openDemoWithMap();
    const before = fake.count('explain');
    review.setParams({ layer: 'layer2' });
    review.setThreshold(0.2);
    review.setParams({ layer: 'layer4' });
    await settle();
    expect(fake.count('explain')).toBe(before);
    expect(review.map?.data[0]).toBe(blobMap(SIZE, SIZE, 2)[0]);
  });

  it('saves a parameter change once, shortly after the last move of the slider', async () => {
    const { review } = await openDemoWithMap();
    review.setThreshold(0.31);
    review.setThreshold(0.32);
    review.setThreshold(0.33);
    expect(fake.count('saveReview')).toBe(0);
    await vi.advanceTimersByTimeAsync(SAVE_DEBOUNCE_MS + 10);
    expect(fake.count('saveReview')).toBe(1);
    const saved = fake.calls.saveReview![0];
    expect(saved.params.threshold).toEqual({ kind: 'value', value: 0.33 });
    expect(saved.mask).toBeNull();
    expect(saved.state).toBe('unreviewed');
  });

  it('paints with the brush, saves the hand-edited mask as "edited", and undo/redo restore it', async () => {
    const { review, project } = await openDemoWithMap();
    review.setThreshold(0.7);
    const derivedArea = review.stats!.area;
    expect(review.beginStroke({ x: 28, y: 4 }, 2, false)).toBe(true);
    review.paintTo({ x: 28, y: 10 }, 2, false);
    review.endStroke();
    const paintedArea = review.stats!.area;
    expect(paintedArea).toBeGreaterThan(derivedArea);
    expect(review.state).toBe('edited');
    expect(project.current?.state).toBe('edited');
    await vi.advanceTimersByTimeAsync(SAVE_DEBOUNCE_MS + 10);
    const saved = fake.calls.saveReview!.at(-1)!;
    expect(saved.state).toBe('edited');
    expect(saved.mask?.data.reduce((a, b) => a + b, 0)).toBe(paintedArea);

    review.undo();
    expect(review.stats!.area).toBe(derivedArea);
    expect(review.manualMask).toBeNull();
    expect(review.state).toBe('unreviewed');
    await vi.advanceTimersByTimeAsync(SAVE_DEBOUNCE_MS + 10);
    expect(fake.calls.saveReview!.at(-1)!.mask).toBeNull();

    review.redo();
    expect(review.stats!.area).toBe(paintedArea);
    review.undo();
    review.undo();
    expect(review.params.threshold).toEqual({ kind: 'model-default' });
  });

  it("on a model with a map scale, the slider starts at the model's own threshold for the map, on the model's maps", async () => {
    fake.mapThresholds = LAYERCAM_THRESHOLDS;
    const stores = freshStores();
    await stores.model.refreshEngine();
    await stores.project.openDemo();
    await settle();
    const { review } = stores;
    expect(fake.calls.explain!.at(-1)!.scale).toBe('model');
    expect(review.mapScale).toBe('model');
    expect(review.params.threshold).toEqual({ kind: 'model-default' });
    expect(review.threshold).toBe(0.3);
    expect(review.defaultThreshold).toEqual({ value: 0.3, fromModel: true });
    const onModelScale = { width: SIZE, height: SIZE, data: blobMap(SIZE, SIZE, 3).map((v) => v * MODEL_SCALE_FACTOR) };
    const expected = maskFromMap(onModelScale, { threshold: { kind: 'value', value: 0.3 }, cleanup: review.params.cleanup });
    expect(Array.from(review.mask!.data)).toEqual(Array.from(expected.mask.data));
    // The default follows the map: layer4's is its own.
    review.setParams({ layer: 'layer4' });
    expect(review.threshold).toBe(0.35);
    // A method the model has no fitted threshold for falls back to 0.5, still on its scale.
    review.setParams({ method: 'gradcam' });
    await settle();
    expect(review.defaultThreshold).toEqual({ value: 0.5, fromModel: false });
  });

  it("on a model whose masks are drawn on images called defective, an image it calls OK has an empty default mask; a threshold the inspector sets cuts it", async () => {
    fake.callsEveryImageOk();
    const stores = freshStores();
    await stores.model.refreshEngine();
    await stores.project.openDemo();
    await settle();
    const { review } = stores;
    expect(review.threshold).toBe(0.3);
    expect(review.defaultWithheld).toBe(true);
    expect(review.stats!.area).toBe(0);
    const onModelScale = { width: SIZE, height: SIZE, data: blobMap(SIZE, SIZE, 3).map((v) => v * MODEL_SCALE_FACTOR) };
    const cut = maskFromMap(onModelScale, { threshold: { kind: 'value', value: 0.3 }, cleanup: review.params.cleanup });
    review.setParams({ threshold: { kind: 'value', value: 0.3 } });
    expect(review.defaultWithheld).toBe(false);
    expect(Array.from(review.mask!.data)).toEqual(Array.from(cut.mask.data));
    expect(review.stats!.area).toBeGreaterThan(0);
    // Called defective (0.6 at or over 0.55), the default mask is drawn again.
    fake.decisionThreshold = 0.55;
    const called = freshStores();
    await called.model.refreshEngine();
    await called.project.openDemo();
    await settle();
    called.review.setParams({ threshold: { kind: 'model-default' } });
    expect(Array.from(called.review.mask!.data)).toEqual(Array.from(cut.mask.data));
  });

  it('stretching each map to its own range fetches the per-image maps, thresholds them, and saves that choice', async () => {
    fake.mapThresholds = LAYERCAM_THRESHOLDS;
    const stores = freshStores();
    await stores.model.refreshEngine();
    await stores.project.openDemo();
    await settle();
    const { review } = stores;
    const dim = review.map!.data[8 * SIZE + 8];
    const modelArea = review.stats!.area;
    review.setStretch(true);
    await settle();
    expect(fake.calls.explain!.at(-1)!.scale).toBe('per-image');
    expect(review.mapScale).toBe('per-image');
    expect(review.map!.data[8 * SIZE + 8]).toBeCloseTo(dim / MODEL_SCALE_FACTOR, 6);
    // Per image the model's threshold means nothing: the default is 0.5 there.
    expect(review.defaultThreshold).toEqual({ value: 0.5, fromModel: false });
    const expected = maskFromMap({ width: SIZE, height: SIZE, data: blobMap(SIZE, SIZE, 3) }, { threshold: { kind: 'value', value: 0.5 }, cleanup: review.params.cleanup });
    expect(Array.from(review.mask!.data)).toEqual(Array.from(expected.mask.data));
    expect(review.stats!.area).not.toBe(modelArea);
    await vi.advanceTimersByTimeAsync(SAVE_DEBOUNCE_MS + 10);
    expect(fake.calls.saveReview!.at(-1)!.params.scale).toBe('per-image');
    review.setStretch(false);
    await settle();
    expect(review.mapScale).toBe('model');
    expect(review.threshold).toBe(0.3);
  });

  it('a model without a map scale has per-image maps at 0.5', async () => {
    const { review, model } = await openDemoWithMap();
    await model.refreshEngine();
    expect(review.mapScale).toBe('per-image');
    expect(review.defaultThreshold).toEqual({ value: 0.5, fromModel: false });
    expect(review.threshold).toBe(0.5);
  });

  it('a review saved before maps had a scale is still cut on per-image maps, on a model with one', async () => {
    fake.mapThresholds = LAYERCAM_THRESHOLDS;
    fake.reviews.set('img/0000.png', {
      id: 'img/0000.png', state: 'edited', mask: null, score: null, updatedAt: '2026-01-01T00:00:00.000Z',
      params: { method: 'layercam', layer: 'fused', threshold: { kind: 'value', value: 0.4 }, cleanup: { openRadius: 0, closeRadius: 0, fillHoles: true, minArea: 0 } },
    });
    const stores = freshStores();
    await stores.model.refreshEngine();
    await stores.project.openDemo();
    await settle();
    const { review } = stores;
    expect(review.id).toBe('img/0000.png');
    expect(review.scale).toBe('per-image');
    expect(fake.calls.explain!.at(-1)!.scale).toBe('per-image');
    expect(review.threshold).toBe(0.4);
    const expected = maskFromMap({ width: SIZE, height: SIZE, data: blobMap(SIZE, SIZE, 3) }, { threshold: { kind: 'value', value: 0.4 }, cleanup: review.params.cleanup });
    expect(Array.from(review.mask!.data)).toEqual(Array.from(expected.mask.data));
  });

  it('the eraser removes mask pixels', async () => {
    const { review } = await openDemoWithMap();
    review.setThreshold(0.3);
    const before = review.stats!.area;
    review.beginStroke({ x: 8, y: 8 }, 3, true);
    review.endStroke();
    expect(review.stats!.area).toBeLessThan(before);
  });

  it('a verdict given while the image\'s review is still loading is applied once it has loaded, not lost', async () => {
    const { review } = await openDemoWithMap();
    const loading = review.open('img/0003.png');
    expect(review.loaded).toBe(false);
    await review.review('ok');
    await loading;
    expect(fake.calls.saveReview!.at(-1)).toMatchObject({ id: 'img/0003.png', state: 'ok' });
  });

  it('accept saves at once, with the mask as shown, and moves to the next unreviewed image; the state survives a reopen', async () => {
    const { review, project } = await openDemoWithMap();
    project.select('img/0001.png');
    await settle();
    review.setThreshold(0.4);
    const shown = Array.from(review.mask!.data);
    await review.review('accepted');
    expect(fake.calls.saveReview!.at(-1)).toMatchObject({ id: 'img/0001.png', state: 'accepted' });
    // Frozen as accepted: a later model's map must not redraw it.
    expect(Array.from(fake.calls.saveReview!.at(-1)!.mask!.data)).toEqual(shown);
    expect(project.currentId).toBe('img/0002.png');
    expect(project.reviewedCount).toBe(1);

    const again = freshStores();
    await again.project.restore();
    again.project.select('img/0001.png');
    await settle();
    expect(again.project.entries.find((e) => e.id === 'img/0001.png')?.state).toBe('accepted');
    expect(again.review.state).toBe('accepted');
    expect(again.review.params.threshold).toEqual({ kind: 'value', value: 0.4 });
  });

  it('a never-reviewed image opens with the last parameters the inspector chose', async () => {
    const { review, project } = await openDemoWithMap();
    review.setParams({ layer: 'layer3' });
    review.setThreshold(0.62);
    project.select('img/0004.png');
    await settle();
    expect(review.params.layer).toBe('layer3');
    expect(review.params.threshold).toEqual({ kind: 'value', value: 0.62 });
  });

  it('a pending edit is saved before another image opens', async () => {
    const { review, project } = await openDemoWithMap();
    review.setThreshold(0.45);
    project.select('img/0002.png');
    await settle();
    expect(fake.calls.saveReview?.[0]).toMatchObject({ id: 'img/0000.png', params: { threshold: { value: 0.45 } } });
  });

  it('warms the cache with the next unreviewed image', async () => {
    await openDemoWithMap();
    expect(fake.calls.explain?.map((c) => c.id)).toContain('img/0001.png');
  });
});

describe('jobs and training stores', () => {
  it('keeps the latest event per job and the training curve; the new model loads when done', async () => {
    freshStores();
    const jobs = useJobsStore();
    const training = useTrainingStore();
    await jobs.connect();
    training.form.source = 'folder';
    training.form.data = '/data/train';
    training.form.out = '/models/new';
    expect(await training.start()).toBe(true);
    // A time budget by default: an operator has a shift, not a number of epochs.
    expect(fake.calls.startTraining![0]).toMatchObject({ data: '/data/train', out: '/models/new', minutes: 45 });
    expect(fake.calls.startTraining![0]).not.toHaveProperty('init');
    expect(fake.calls.startTraining![0]).not.toHaveProperty('length');
    const base = { jobId: 'train-1', kind: 'train' as const, total: 10, etaSeconds: 30, message: '' };
    for (let step = 1; step <= 3; step++) {
      fake.emit({ ...base, state: 'running', done: step, metrics: { step, epoch: 1, loss: 1 / step, accuracy: step / 4, lr: 0.01, imagesPerSecond: 5 } });
    }
    expect(training.curve.map((m) => m.loss)).toEqual([1, 0.5, 1 / 3]);
    expect(jobs.running).toHaveLength(1);
    fake.emit({ ...base, state: 'done', done: 10, result: { modelDir: '/models/new' } });
    expect(jobs.running).toHaveLength(0);
    expect(training.modelPath).toBe('/models/new');
    expect(await training.useNewModel()).toBe(true);
    expect(fake.calls.loadModel!.at(-1)).toEqual({ path: '/models/new' });
  });

  it('after a reload the panel follows a training that is still running', async () => {
    freshStores();
    const jobs = useJobsStore();
    const training = useTrainingStore();
    await jobs.connect();
    fake.emit({ jobId: 'train-9', kind: 'train', state: 'running', done: 2, total: 10, etaSeconds: 8, message: '', metrics: { step: 2, epoch: 1, loss: 0.7, accuracy: 0.5, lr: 0.01, imagesPerSecond: 3 } });
    expect(training.running).toBe(true);
    expect(training.curve).toHaveLength(1);
    await training.cancel();
    expect(fake.calls.cancelJob).toEqual([{ jobId: 'train-9' }]);
  });

  it('cancel asks the back end to stop the job; what it learnt so far can still be used', async () => {
    freshStores();
    const jobs = useJobsStore();
    const training = useTrainingStore();
    await jobs.connect();
    training.form.source = 'folder';
    training.form.data = '/d';
    training.form.out = '/o';
    await training.start();
    await training.cancel();
    expect(fake.calls.cancelJob).toEqual([{ jobId: 'train-1' }]);
    const base = { jobId: 'train-1', kind: 'train' as const, done: 3, total: 10, etaSeconds: null };
    fake.emit({ ...base, state: 'cancelled', message: 'cancelled' });
    expect(training.modelPath).toBeNull();
    fake.emit({ ...base, state: 'cancelled', message: 'cancelled', result: { modelDir: '/models/partial', cancelled: true } });
    expect(training.modelPath).toBe('/models/partial');
  });
});

describe('pretraining from the Train dialog', () => {
  it('sends pretextOnly with a dataset folder', async () => {
    freshStores();
    const training = useTrainingStore();
    training.form.source = 'folder';
    training.form.data = '/good-parts';
    training.form.out = '/models/pre';
    training.form.pretextOnly = true;
    await training.start();
    expect(fake.calls.startTraining?.at(-1)).toMatchObject({ data: '/good-parts', out: '/models/pre', pretextOnly: true });
  });
});

describe('labelling images OK or defect', () => {
  it('D labels the image on screen defect and moves on to the next unreviewed one', async () => {
    const { project, review } = await openDemoWithMap();
    await review.label('defect');
    expect(fake.calls.setLabels).toEqual([{ ids: ['img/0000.png'], label: 'defect' }]);
    expect(project.currentId).toBe('img/0001.png');
    const labelled = project.entries.find((e) => e.id === 'img/0000.png');
    expect(labelled).toMatchObject({ label: 'defect', labelFrom: 'user', state: 'unreviewed' });
    expect(project.labelCounts).toEqual({ ok: 0, defect: 1, unlabelled: 4 });
    // Its mask is still to review: O on the rest wraps round to it.
    expect(fake.count('saveReview')).toBe(0);
  });

  it('keeps a selection made while the previous one is still being labelled', async () => {
    const { project, review } = await openDemoWithMap();
    project.togglePick('img/0002.png');
    const saving = review.label('ok');
    project.select('img/0001.png');
    project.togglePick('img/0003.png');
    await saving;
    expect(project.picked).toEqual(['img/0001.png', 'img/0003.png']);
  });

  it('O and D on a Ctrl/Shift-picked set label every picked image at once, without reviewing them', async () => {
    const { project, review } = await openDemoWithMap();
    project.togglePick('img/0002.png');
    expect(project.picked).toEqual(['img/0000.png', 'img/0002.png']);
    await review.label('ok');
    expect(fake.calls.setLabels).toEqual([{ ids: ['img/0000.png', 'img/0002.png'], label: 'ok' }]);
    expect(fake.count('saveReview')).toBe(0);
    expect(project.picked).toEqual([]);
    expect(project.currentId).toBe('img/0000.png');

    project.select('img/0001.png');
    project.pickRange('img/0004.png');
    expect(project.picked).toEqual(['img/0001.png', 'img/0002.png', 'img/0003.png', 'img/0004.png']);
    await review.label('defect');
    expect(fake.calls.setLabels?.at(-1)).toEqual({ ids: ['img/0001.png', 'img/0002.png', 'img/0003.png', 'img/0004.png'], label: 'defect' });
    expect(project.labelCounts).toEqual({ ok: 1, defect: 4, unlabelled: 0 });
    expect(project.entries.map((e) => e.label)).toEqual(['ok', 'defect', 'defect', 'defect', 'defect']);
  });

  it('a pick of one is no pick: toggling back leaves O and D for the image on screen', async () => {
    const { project } = await openDemoWithMap();
    project.togglePick('img/0003.png');
    project.togglePick('img/0003.png');
    expect(project.picked).toEqual([]);
    project.togglePick('img/0003.png');
    project.select('img/0001.png');
    expect(project.picked).toEqual([]);
  });

  it('accept and OK label the image as the back end does; clearing falls back to the folder label', async () => {
    fake.folderLabels.set('img/0001.png', 'ok');
    const { project, review } = await openDemoWithMap();
    await review.review('accepted');
    expect(project.entries[0]).toMatchObject({ state: 'accepted', label: 'defect', labelFrom: 'user' });
    await review.review('ok');
    expect(project.entries[1]).toMatchObject({ state: 'ok', label: 'ok', labelFrom: 'user' });
    expect(project.labelCounts).toEqual({ ok: 1, defect: 1, unlabelled: 3 });
    project.select('img/0001.png');
    await settle();
    await review.label(null);
    expect(fake.calls.setLabels?.at(-1)).toEqual({ ids: ['img/0001.png'], label: null });
    expect(project.entries[1]).toMatchObject({ label: 'ok', labelFrom: 'folder' });
    expect(project.currentId).toBe('img/0001.png');
  });

  it('says which image could not be labelled', async () => {
    const { project, review, notices } = await openDemoWithMap();
    fake.setLabels = async () => {
      throw new Error('sidecar is read-only');
    };
    await review.label('defect');
    expect(notices.items.at(-1)?.text).toContain('0000.png');
    expect(notices.items.at(-1)?.text).toContain('sidecar is read-only');
    expect(project.entries[0].label).toBeNull();
  });
});

describe('training from the project, and what follows', () => {
  async function openWithLabels(ok: number, defect: number) {
    const stores = await openDemoWithMap();
    fake.entries = fake.entries.map((e, i) => ({ ...e, label: i < ok ? 'ok' : i < ok + defect ? 'defect' : null, labelFrom: i < ok + defect ? 'user' : null }));
    await stores.project.refresh();
    const jobs = useJobsStore();
    await jobs.connect();
    return { ...stores, jobs, training: useTrainingStore() };
  }

  it('offers the folder\'s stopped training and resumes it with nothing else to fill in', async () => {
    fake.resumable = { out: '/demo/.kizu/models/2026-12-03T10-00-00', step: 120 };
    const { training } = await openWithLabels(1, 1);
    expect(training.resumable).toEqual({ out: '/demo/.kizu/models/2026-12-03T10-00-00', step: 120 });
    expect(await training.resume()).toBe(true);
    expect(fake.calls.startTraining).toEqual([{ resume: true }]);
    expect(training.resumable).toBeNull();
    expect(await training.resume()).toBe(false);
  });

  it('sends neither data nor out for the project source, only once the labels are enough', async () => {
    const { training, project, review } = await openWithLabels(2, 1);
    expect(training.form.source).toBe('project');
    training.open = true;
    await settle();
    expect(fake.count('trainingSet')).toBe(1);
    expect(training.summary).toMatchObject({ ok: 2, defect: 1, enough: false });
    expect(training.canStart).toBe(false);
    expect(await training.start()).toBe(false);

    project.select('img/0004.png');
    await settle();
    await review.label('defect');
    await settle();
    // The new label asked the back end again.
    expect(fake.count('trainingSet')).toBe(2);
    expect(training.summary).toMatchObject({ ok: 2, defect: 2, enough: true });
    training.form.width = 24;
    expect(await training.start()).toBe(true);
    const sent = fake.calls.startTraining![0];
    expect(sent).not.toHaveProperty('data');
    expect(sent).not.toHaveProperty('out');
    expect(sent).not.toHaveProperty('defectLabel');
    expect(sent).not.toHaveProperty('source');
    // Pretraining reads a folder of OK images; the folder's own labels always train the classifier.
    expect(sent).not.toHaveProperty('pretextOnly');
    expect(sent).toMatchObject({ minutes: 45, width: 24, batch: 16 });
  });

  it('a finished training of the project refreshes the engine and the project, and drops the old maps', async () => {
    const { training, model, project, review } = await openWithLabels(2, 2);
    training.open = true;
    await settle();
    await training.start();
    const engineCalls = fake.count('engineInfo');
    const infoCalls = fake.count('projectInfo');
    const explains = fake.count('explain');
    // The back end made the new model the project's before it reported the end.
    fake.previousModels = [fake.modelPath];
    fake.modelPath = '/project/.kizu/models/run-1';
    fake.emit({ jobId: 'train-1', kind: 'train', state: 'done', done: 10, total: 10, etaSeconds: null, message: '', result: { modelDir: '/project/.kizu/models/run-1' } });
    await settle();
    expect(fake.count('engineInfo')).toBe(engineCalls + 1);
    expect(fake.count('projectInfo')).toBe(infoCalls + 1);
    expect(model.model?.path).toBe('/project/.kizu/models/run-1');
    expect(project.info?.model).toBe('/project/.kizu/models/run-1');
    expect(project.info?.previousModels).toEqual(['/models/fake-model']);
    expect(training.modelInUse).toBe(true);
    // The image on screen is explained again by the new model.
    expect(fake.calls.explain?.slice(explains).map((c) => c.id)).toContain(review.id);
  });

  it('while the images are re-scored the gallery fetches new scores at most every 2 s, and once at the end', async () => {
    const { project } = await openWithLabels(0, 0);
    const lists = fake.count('listImages');
    const score = (done: number, state: 'running' | 'done' = 'running') =>
      fake.emit({ jobId: 'score-1', kind: 'score', state, done, total: 5, etaSeconds: null, message: '' });
    fake.entries = fake.entries.map((e, i) => ({ ...e, score: i / 10 }));
    score(1);
    score(2);
    score(3);
    await vi.advanceTimersByTimeAsync(SCORE_REFRESH_MS - 10);
    expect(fake.count('listImages')).toBe(lists);
    await vi.advanceTimersByTimeAsync(20);
    expect(fake.count('listImages')).toBe(lists + 1);
    expect(project.entries.map((e) => e.score)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    score(4);
    score(5, 'done');
    await settle();
    expect(fake.count('listImages')).toBe(lists + 2);
    // The pending throttled refresh was replaced by the final one.
    await vi.advanceTimersByTimeAsync(SCORE_REFRESH_MS * 2);
    expect(fake.count('listImages')).toBe(lists + 2);
  });

  it('a re-score keeps a review state the gallery shows before its save lands', async () => {
    const { project } = await openWithLabels(0, 0);
    project.setState('img/0003.png', 'rejected');
    fake.emit({ jobId: 'score-1', kind: 'score', state: 'done', done: 5, total: 5, etaSeconds: null, message: '' });
    await settle();
    expect(project.entries[3].state).toBe('rejected');
  });

  it('measuring on reviewed masks: refused with the reason, else the figures come with the project info', async () => {
    const { model, project, review, notices } = await openWithLabels(0, 0);
    expect(await model.measureQuality()).toBe(false);
    expect(notices.items.at(-1)?.text).toContain('no image with a reviewed mask');
    await review.review('accepted');
    expect(await model.measureQuality()).toBe(true);
    fake.emit({ jobId: 'quality-1', kind: 'quality', state: 'running', done: 0, total: 1, etaSeconds: null, message: '' });
    expect(model.measuring).toBe(true);
    fake.quality = { model: '/models/fake-model', images: 1, method: 'layercam', layer: 'fused', pixelAuroc: 0.93, miou: 0.48, measuredAt: '2025-01-01T10:00:00.000Z' };
    fake.emit({ jobId: 'quality-1', kind: 'quality', state: 'done', done: 1, total: 1, etaSeconds: null, message: '', result: { quality: fake.quality } });
    await settle();
    expect(model.measuring).toBe(false);
    expect(project.info?.quality?.pixelAuroc).toBe(0.93);
  });

  it('with a folder open, a model loaded by hand becomes the folder\'s; the one before is kept', async () => {
    const { model, project } = await openWithLabels(0, 0);
    expect(await model.loadModel('/models/other')).toBe(true);
    expect(fake.calls.useProjectModel).toEqual([{ path: '/models/other' }]);
    expect(fake.count('loadModel')).toBe(0);
    expect(project.info?.model).toBe('/models/other');
    expect(project.info?.previousModels).toEqual(['/models/fake-model']);
  });
});

it('the stores talk through the injected client', () => {
  expect(api()).toBe(fake);
});
