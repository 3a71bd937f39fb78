import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextTick } from 'vue';
import { maskFromMap } from '../../../electron/annotate/cleanup.ts';
import { api, setApi } from '../../../renderer/src/api/index.ts';
import { useJobsStore } from '../../../renderer/src/stores/jobs.ts';
import { useModelStore } from '../../../renderer/src/stores/model.ts';
import { useNoticesStore } from '../../../renderer/src/stores/notices.ts';
import { useProjectStore } from '../../../renderer/src/stores/project.ts';
import { SAVE_DEBOUNCE_MS, useReviewStore } from '../../../renderer/src/stores/review.ts';
import { useTrainingStore } from '../../../renderer/src/stores/training.ts';
import { blobMap, FakeApi, SIZE } from './fake-api.ts';

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
    expect((review.params.threshold as { value: number }).value).toBe(0.5);
  });

  it('the eraser removes mask pixels', async () => {
    const { review } = await openDemoWithMap();
    review.setThreshold(0.3);
    const before = review.stats!.area;
    review.beginStroke({ x: 8, y: 8 }, 3, true);
    review.endStroke();
    expect(review.stats!.area).toBeLessThan(before);
  });

  it('accept saves at once and moves to the next unreviewed image; the state survives a reopen', async () => {
    const { review, project } = await openDemoWithMap();
    project.select('img/0001.png');
    await settle();
    review.setThreshold(0.4);
    await review.review('accepted');
    expect(fake.calls.saveReview!.at(-1)).toMatchObject({ id: 'img/0001.png', state: 'accepted' });
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

it('the stores talk through the injected client', () => {
  expect(api()).toBe(fake);
});
