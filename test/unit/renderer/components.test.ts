import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextTick } from 'vue';
import { setApi } from '../../../renderer/src/api/index.ts';
import App from '../../../renderer/src/App.vue';
import GalleryPanel from '../../../renderer/src/components/GalleryPanel.vue';
import GalleryRow from '../../../renderer/src/components/GalleryRow.vue';
import HelpOverlay from '../../../renderer/src/components/HelpOverlay.vue';
import ModelSection from '../../../renderer/src/components/ModelSection.vue';
import ReviewSection from '../../../renderer/src/components/ReviewSection.vue';
import StatusBar from '../../../renderer/src/components/StatusBar.vue';
import ThresholdSection from '../../../renderer/src/components/ThresholdSection.vue';
import TrainingPanel from '../../../renderer/src/components/TrainingPanel.vue';
import { useJobsStore } from '../../../renderer/src/stores/jobs.ts';
import { useModelStore } from '../../../renderer/src/stores/model.ts';
import { useProjectStore } from '../../../renderer/src/stores/project.ts';
import { useReviewStore } from '../../../renderer/src/stores/review.ts';
import { useTrainingStore } from '../../../renderer/src/stores/training.ts';
import { useViewerStore } from '../../../renderer/src/stores/viewer.ts';
import { FakeApi, LAYERCAM_THRESHOLDS } from './fake-api.ts';

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await Promise.resolve();
    await nextTick();
  }
}

let fake: FakeApi;
beforeEach(() => {
  localStorage.clear();
  // Not the first launch, which opens the demo set by itself (stores.test.ts covers that).
  localStorage.setItem('kizu.launched', '1');
  fake = new FakeApi(5);
  setApi(fake);
  setActivePinia(createPinia());
});

afterEach(() => {
  vi.restoreAllMocks();
  document.body.innerHTML = '';
});

describe('threshold section', () => {
  it('moving the slider changes the component count and defect area shown', async () => {
    const project = useProjectStore();
    useReviewStore();
    await project.openDemo();
    await settle();
    const wrapper = mount(ThresholdSection);
    const slider = wrapper.get('[data-testid="threshold-slider"]');
    await slider.setValue('0.3');
    const lowCount = wrapper.get('[data-testid="component-count"]').text();
    const lowArea = Number(wrapper.get('[data-testid="defect-area"]').attributes('data-value'));
    expect(lowCount).toBe('2 components');
    await slider.setValue('0.7');
    expect(wrapper.get('[data-testid="component-count"]').text()).toBe('1 component');
    expect(Number(wrapper.get('[data-testid="defect-area"]').attributes('data-value'))).toBeLessThan(lowArea);
    expect((wrapper.get('[data-testid="threshold-value"]').element as HTMLInputElement).value).toBe('0.70');
    await wrapper.get('[data-testid="threshold-reset"]').trigger('click');
    expect((wrapper.get('[data-testid="threshold-value"]').element as HTMLInputElement).value).toBe('0.50');
    // The fake model has no map scale: the section says the maps are per image and offers no switch.
    expect(wrapper.get('[data-testid="threshold-scale"]').attributes('data-scale')).toBe('per-image');
    expect(wrapper.find('[data-testid="stretch-maps"]').exists()).toBe(false);
  });

  it("shows the model's default threshold as such, resets to it, and the stretch option switches the maps", async () => {
    fake.mapThresholds = {
      layercam: { layer2: 0.2, layer3: 0.25, layer4: 0.35, fused: 0.42 },
      gradcam: { layer2: null, layer3: null, layer4: null, fused: null },
      gradcampp: { layer2: null, layer3: null, layer4: null, fused: null },
    };
    const project = useProjectStore();
    const review = useReviewStore();
    await useModelStore().refreshEngine();
    await project.openDemo();
    await settle();
    const wrapper = mount(ThresholdSection);
    const value = () => (wrapper.get('[data-testid="threshold-value"]').element as HTMLInputElement).value;
    expect(value()).toBe('0.42');
    const note = wrapper.get('[data-testid="threshold-scale"]');
    expect(note.text()).toContain('Model default 0.42');
    expect(note.attributes('data-in-use')).toBe('true');
    expect(wrapper.get('[data-testid="threshold-reset"]').attributes('title')).toBe("Back to the model's default (0.42)");
    await wrapper.get('[data-testid="threshold-slider"]').setValue('0.7');
    expect(wrapper.get('[data-testid="threshold-scale"]').attributes('data-in-use')).toBe('false');
    await wrapper.get('[data-testid="threshold-reset"]').trigger('click');
    expect(value()).toBe('0.42');
    const stretch = wrapper.get('[data-testid="stretch-maps"]');
    expect((stretch.element as HTMLInputElement).checked).toBe(false);
    const modelMap = review.map;
    await stretch.setValue(true);
    await settle();
    expect(review.mapScale).toBe('per-image');
    expect(review.map).not.toBe(modelMap);
    expect(wrapper.get('[data-testid="threshold-scale"]').text()).toContain('stretched per image');
    expect(value()).toBe('0.50');
  });

  it('says why an image the model calls OK has no mask at its default, and draws one when the inspector moves the threshold', async () => {
    fake.callsEveryImageOk();
    useReviewStore();
    await useModelStore().refreshEngine();
    await useProjectStore().openDemo();
    await settle();
    const wrapper = mount(ThresholdSection);
    expect(wrapper.get('[data-testid="mask-withheld"]').text()).toBe('No default mask: the model calls this image OK (60 % < 70 %). Move the threshold to draw one.');
    expect(wrapper.get('[data-testid="component-count"]').text()).toBe('0 components');
    await wrapper.get('[data-testid="threshold-slider"]').setValue('0.3');
    expect(wrapper.find('[data-testid="mask-withheld"]').exists()).toBe(false);
    expect(Number(wrapper.get('[data-testid="defect-area"]').attributes('data-value'))).toBeGreaterThan(0);
  });
});

describe('model section', () => {
  it('shows the calibrated p(defect) where the model is calibrated, says so, and names the scale of its maps', async () => {
    fake.decisionThreshold = 0.25;
    fake.mapThresholds = LAYERCAM_THRESHOLDS;
    await useModelStore().refreshEngine();
    await useProjectStore().openDemo();
    useReviewStore();
    await settle();
    const wrapper = mount(ModelSection);
    await settle();
    const info = wrapper.get('[data-testid="model-calibration"]');
    expect(info.attributes('data-calibrated')).toBe('true');
    expect(info.text()).toContain('called defective from 25 %');
    expect(info.text()).toContain("Maps on the model's one scale.");
    // The softmax says 0.8; the calibrated score 0.6, and OK gets the rest.
    expect(wrapper.findAll('[data-testid="classification"] .pct').map((e) => e.text())).toEqual(['40.0%', '60.0%']);
  });

  it("says where the model's maps are refined on the image", async () => {
    fake.mapThresholds = LAYERCAM_THRESHOLDS;
    fake.mapsRefinedOnImage = true;
    await useModelStore().refreshEngine();
    const wrapper = mount(ModelSection);
    await settle();
    expect(wrapper.get('[data-testid="model-calibration"]').text()).toContain("refined on the image's own pixels");
    expect(wrapper.get('[data-testid="model-calibration"]').text()).not.toContain('every place the model votes defect');
  });

  it('says where the maps show every place the model votes defect', async () => {
    fake.mapThresholds = LAYERCAM_THRESHOLDS;
    fake.mapsFromEveryVote = true;
    await useModelStore().refreshEngine();
    const wrapper = mount(ModelSection);
    await settle();
    expect(wrapper.get('[data-testid="model-calibration"]').text()).toContain('every place the model votes defect, not only the few its score is pooled from');
  });

  it('an uncalibrated model without a map scale shows its softmax and says both', async () => {
    await useModelStore().refreshEngine();
    await useProjectStore().openDemo();
    useReviewStore();
    await settle();
    const wrapper = mount(ModelSection);
    await settle();
    const info = wrapper.get('[data-testid="model-calibration"]');
    expect(info.text()).toContain('not calibrated');
    expect(info.text()).toContain('No map scale');
    expect(wrapper.findAll('[data-testid="classification"] .pct').map((e) => e.text())).toEqual(['20.0%', '80.0%']);
  });
});

describe('gallery', () => {
  it('renders only the visible rows of 10,000 images, and filters by state', async () => {
    fake = new FakeApi(10_000);
    fake.entries[7] = { ...fake.entries[7], state: 'accepted' };
    setApi(fake);
    // happy-dom lays nothing out: give the list a window-sized viewport to fill.
    vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(800);
    vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(290);
    const project = useProjectStore();
    await project.openDemo();
    const wrapper = mount(GalleryPanel, { attachTo: document.body });
    await settle();
    expect(wrapper.get('[data-testid="reviewed-count"]').text()).toBe('1 / 10,000 reviewed');
    const rows = wrapper.findAll('[role="option"]');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(100);
    await wrapper.get('.chip[data-state="accepted"]').trigger('click');
    await settle();
    const filtered = wrapper.findAll('[role="option"]');
    expect(filtered.map((r) => r.attributes('data-id'))).toEqual(['img/0007.png']);
    await filtered[0].trigger('click');
    expect(project.currentId).toBe('img/0007.png');
    wrapper.unmount();
  });
  it("the score bar and the review badge call an image by the model's decision threshold, not by 0.5", async () => {
    fake.decisionThreshold = 0.25;
    const model = useModelStore();
    await model.refreshEngine();
    const entry = { id: 'img/0001.png', name: '0001.png', state: 'unreviewed' as const, label: null, labelFrom: null, score: 0.3, modifiedAt: 0 };
    const row = mount(GalleryRow, { props: { entry, selected: false, picked: false } });
    const bar = row.get('[data-testid="gallery-score"]');
    expect(bar.attributes('data-verdict')).toBe('defect');
    expect(bar.attributes('title')).toContain('calibrated');
    expect(row.get('.cut').attributes('style')).toContain('left: 25%');
    await row.setProps({ entry: { ...entry, score: 0.2 } });
    expect(row.get('[data-testid="gallery-score"]').attributes('data-verdict')).toBe('ok');

    const project = useProjectStore();
    await project.openDemo();
    await settle();
    // The fake calibrated model scores every image it explains 0.6.
    const section = mount(ReviewSection);
    await settle();
    expect(section.get('[data-testid="model-verdict"]').attributes('data-verdict')).toBe('defect');
    expect(section.get('[data-testid="model-verdict"]').text()).toBe('Model: defect 60 %');
    fake.decisionThreshold = 0.9;
    await model.refreshEngine();
    await settle();
    expect(section.get('[data-testid="model-verdict"]').attributes('data-verdict')).toBe('ok');
    expect(section.get('[data-testid="model-verdict"]').text()).toBe('Model: OK 60 %');
    // An uncalibrated model draws the line at 0.5, and says its score is the softmax's.
    fake.decisionThreshold = 0.5;
    await model.refreshEngine();
    await settle();
    expect(row.get('[data-testid="gallery-score"]').attributes('title')).toContain('not calibrated');
  });
});

describe('gallery labels', () => {
  function mountGallery() {
    vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(800);
    vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(290);
    return mount(GalleryPanel, { attachTo: document.body });
  }
  const row = (w: ReturnType<typeof mountGallery>, id: string) => w.get(`[role="option"][data-id="${id}"]`);

  it('marks each row with its label, the folder\'s dimmer and explained, and counts the labels', async () => {
    fake.entries[0] = { ...fake.entries[0], label: 'ok', labelFrom: 'user' };
    fake.entries[1] = { ...fake.entries[1], label: 'defect', labelFrom: 'folder' };
    const project = useProjectStore();
    await project.openDemo();
    const wrapper = mountGallery();
    await settle();
    const mark = (id: string) => row(wrapper, id).get('[data-testid="gallery-row-label"]');
    expect(mark('img/0000.png').attributes()).toMatchObject({ 'data-label': 'ok', 'data-from': 'user', title: 'OK: labelled by you' });
    expect(mark('img/0000.png').text()).toBe('OK');
    expect(mark('img/0001.png').attributes()).toMatchObject({ 'data-label': 'defect', 'data-from': 'folder' });
    expect(mark('img/0001.png').classes()).toContain('folder');
    expect(mark('img/0001.png').attributes('title')).toContain("from the folder's layout");
    expect(mark('img/0002.png').attributes('data-label')).toBe('none');
    expect(wrapper.get('[data-testid="label-counts"]').text()).toBe('OK 1 · defect 1 · unlabelled 3');
    wrapper.unmount();
  });

  it('Ctrl-click and Shift-click pick rows; a plain click lets go', async () => {
    const project = useProjectStore();
    await project.openDemo();
    const wrapper = mountGallery();
    await settle();
    await row(wrapper, 'img/0001.png').trigger('click');
    await row(wrapper, 'img/0003.png').trigger('click', { ctrlKey: true });
    expect(project.picked).toEqual(['img/0001.png', 'img/0003.png']);
    expect(project.currentId).toBe('img/0001.png');
    expect(row(wrapper, 'img/0003.png').attributes('data-picked')).toBe('true');
    expect(wrapper.get('[data-testid="picked-count"]').text()).toBe('2 selected');
    await row(wrapper, 'img/0004.png').trigger('click', { shiftKey: true });
    expect(project.picked).toEqual(['img/0003.png', 'img/0004.png']);
    await row(wrapper, 'img/0000.png').trigger('click', { metaKey: true });
    expect(project.picked).toEqual(['img/0000.png', 'img/0003.png', 'img/0004.png']);
    await row(wrapper, 'img/0002.png').trigger('click');
    expect(project.picked).toEqual([]);
    expect(project.currentId).toBe('img/0002.png');
    expect(wrapper.find('[data-testid="picked-bar"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('sorts the most uncertain first from the sort control', async () => {
    fake.entries = fake.entries.map((e, i) => ({ ...e, score: [0.9, 0.52, null, 0.3, 0.45][i] }));
    const project = useProjectStore();
    await project.openDemo();
    const wrapper = mountGallery();
    await settle();
    await wrapper.get('[data-testid="sort-select"]').setValue('uncertainty');
    await settle();
    expect(project.sort).toBe('uncertainty');
    expect(wrapper.findAll('[role="option"]').map((r) => r.attributes('data-id'))).toEqual(['img/0001.png', 'img/0004.png', 'img/0003.png', 'img/0000.png', 'img/0002.png']);
    wrapper.unmount();
  });
});

describe('train dialog', () => {
  async function openDialog(ok: number, defect: number) {
    fake.entries = fake.entries.map((e, i) => ({ ...e, label: i < ok ? 'ok' : i < ok + defect ? 'defect' : null, labelFrom: i < ok + defect ? 'user' : null }));
    fake.minimum = { ok: 2, defect: 2 };
    await useProjectStore().openDemo();
    const training = useTrainingStore();
    training.open = true;
    const wrapper = mount(TrainingPanel, { global: { stubs: { TrainingChart: true } } });
    await settle();
    return { wrapper, training };
  }

  it('trains from the folder\'s labels by default: no path to type, what it will use, and Start below the minimum is off', async () => {
    const { wrapper } = await openDialog(3, 1);
    expect((wrapper.get('[data-testid="train-source-project"]').element as HTMLInputElement).checked).toBe(true);
    expect(wrapper.find('#train-data').exists()).toBe(false);
    expect(wrapper.find('#train-out').exists()).toBe(false);
    expect(wrapper.get('[data-testid="train-set-summary"]').text()).toBe(
      'Trains on 3 OK and 1 defect images. 0 images with a reviewed mask are kept aside to measure the model.',
    );
    expect(wrapper.get('[data-testid="train-set-warning"]').text()).toContain('at least 2 OK and 2 defect images');
    expect(wrapper.get('[data-testid="training-start"]').attributes('disabled')).toBeDefined();
    // The time budget and its estimate stay; the width waits under Advanced.
    expect(wrapper.get('[data-testid="training-estimate"]').text()).toMatch(/^Ends by /);
    expect(wrapper.get('[data-testid="training-advanced"]').find('#train-width').exists()).toBe(true);
  });

  it('with enough labels Start starts a training of the project', async () => {
    const { wrapper } = await openDialog(2, 2);
    expect(wrapper.find('[data-testid="train-set-warning"]').exists()).toBe(false);
    const start = wrapper.get('[data-testid="training-start"]');
    expect(start.attributes('disabled')).toBeUndefined();
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.calls.startTraining).toHaveLength(1);
    expect(fake.calls.startTraining![0]).not.toHaveProperty('data');
  });

  it('offers to learn from the training part\'s reviewed masks, on when there are any, and says so in the request', async () => {
    // The three defect images have a reviewed mask: one measures, two can teach.
    fake.entries = fake.entries.map((e, i) => (i >= 2 ? { ...e, state: 'accepted' } : e));
    const { wrapper, training } = await openDialog(2, 3);
    const box = wrapper.get('[data-testid="train-masks"]');
    expect(box.element.parentElement!.textContent!.trim()).toBe('Learn from 2 reviewed masks');
    expect((box.element as HTMLInputElement).checked).toBe(true);
    expect(wrapper.get('[data-testid="train-set-summary"]').text()).toContain('1 image with a reviewed mask is kept aside');
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.calls.startTraining![0]).toMatchObject({ masks: true });
    await box.setValue(false);
    expect(training.form.masks).toBe(false);
    expect(training.form.source).toBe('project');
  });

  it('has nothing to offer without reviewed masks, and asks for none', async () => {
    const { wrapper } = await openDialog(2, 2);
    expect(wrapper.find('[data-testid="train-masks"]').exists()).toBe(false);
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.calls.startTraining![0]).toMatchObject({ masks: false });
  });

  it('the other source keeps the dataset and destination fields', async () => {
    const { wrapper, training } = await openDialog(0, 0);
    await wrapper.get('[data-testid="train-source-folder"]').setValue(true);
    expect(training.form.source).toBe('folder');
    expect(wrapper.find('[data-testid="train-set-summary"]').exists()).toBe(false);
    await wrapper.get('#train-data').setValue('/data/set');
    await wrapper.get('#train-out').setValue('/models/out');
    expect(wrapper.get('[data-testid="training-start"]').attributes('disabled')).toBeUndefined();
  });
});

describe('model section', () => {
  it('shows the last quality measurement from the project info, and measures again', async () => {
    fake.quality = { model: '/models/fake-model', images: 7, method: 'layercam', layer: 'layer3', pixelAuroc: 0.9512, miou: null, measuredAt: '2025-03-04T05:06:07.000Z' };
    fake.entries[0] = { ...fake.entries[0], state: 'accepted' };
    const model = useModelStore();
    await model.refreshEngine();
    await useProjectStore().openDemo();
    const wrapper = mount(ModelSection);
    await settle();
    const figures = wrapper.get('[data-testid="model-quality"]');
    expect(figures.attributes('data-measured')).toBe('true');
    expect(figures.text()).toContain('Pixel AUROC 0.951 · mIoU –');
    expect(figures.text()).toContain('7 images the model did not train on · LayerCAM, layer3');
    await wrapper.get('[data-testid="model-quality-measure"]').trigger('click');
    await settle();
    expect(fake.count('startQualityCheck')).toBe(1);
    useJobsStore().receive({ jobId: 'quality-1', kind: 'quality', state: 'running', done: 2, total: 7, etaSeconds: null, message: '' });
    await nextTick();
    const measure = wrapper.get('[data-testid="model-quality-measure"]');
    expect(measure.text()).toBe('Measuring… 2 / 7');
    expect(measure.attributes('disabled')).toBeDefined();
  });

  it('shows the replaced model\'s figures beside the current ones: what the last training bought', async () => {
    fake.quality = { model: '/models/fake-model', images: 4, method: 'layercam', layer: 'fused', pixelAuroc: 0.912, miou: 0.455, measuredAt: '2025-03-04T05:06:07.000Z' };
    fake.previousQuality = { model: '/models/labels-only', images: 4, method: 'layercam', layer: 'fused', pixelAuroc: 0.701, miou: 0.2, measuredAt: '2025-03-03T05:06:07.000Z' };
    await useModelStore().refreshEngine();
    await useProjectStore().openDemo();
    const wrapper = mount(ModelSection);
    await settle();
    expect(wrapper.get('[data-testid="model-quality"]').text()).toContain('Pixel AUROC 0.912 · mIoU 0.455');
    expect(wrapper.get('[data-testid="model-quality-before"]').text()).toBe('Before (labels-only): pixel AUROC 0.701 · mIoU 0.200');
  });

  it('says there is no measurement yet, and switches to a previous model of the folder', async () => {
    fake.previousModels = ['/models/older'];
    await useModelStore().refreshEngine();
    await useProjectStore().openDemo();
    const wrapper = mount(ModelSection);
    await settle();
    expect(wrapper.get('[data-testid="model-quality"]').attributes('data-measured')).toBe('false');
    expect(wrapper.get('[data-testid="model-quality"]').text()).toContain('Not measured yet');
    await wrapper.get('[data-testid="model-previous"]').setValue('/models/older');
    await settle();
    expect(fake.calls.useProjectModel).toEqual([{ path: '/models/older' }]);
    expect(wrapper.get('[data-testid="model-name"]').text()).toBe('older');
    expect((wrapper.get('[data-testid="model-previous"]').element as HTMLSelectElement).value).toBe('');
  });
});

describe('status bar', () => {
  it('names onnxruntime, with its threads, where it computes the maps, and the tfjs backend only where tfjs does', async () => {
    await useModelStore().refreshEngine();
    const wrapper = mount(StatusBar);
    await settle();
    const engine = wrapper.get('[data-testid="status-backend"]');
    expect(engine.text()).toBe('Engine: onnxruntime 1.30.0, 2 threads');
    expect(engine.attributes('title')).toBeUndefined();
    fake.mapsEngine = { name: 'tfjs', version: '4.22.0', threads: 1, label: 'tfjs wasm SIMD 4.22.0, 1 thread', fallback: "Cannot find package 'onnxruntime-node'" };
    await useModelStore().refreshEngine();
    await nextTick();
    expect(engine.text()).toBe('Engine: tfjs wasm SIMD 4.22.0, 1 thread');
    expect(engine.attributes('title')).toBe("onnxruntime was not used: Cannot find package 'onnxruntime-node'");
  });

  it('shows the progress of a re-scoring', async () => {
    const wrapper = mount(StatusBar);
    useJobsStore().receive({ jobId: 'score-1', kind: 'score', state: 'running', done: 3, total: 12, etaSeconds: 9, message: '' });
    await nextTick();
    expect(wrapper.get('[data-testid="status-job"]').text()).toContain('Scoring 3/12');
  });
});

describe('help overlay', () => {
  it('lists every shortcut of the UX spec', () => {
    const text = mount(HelpOverlay).text();
    for (const key of ['← / →', '2 / 3 / 4 / F', 'A', 'R', 'O', 'D', 'Delete', 'Ctrl+click / Shift+click', 'B / E', '[ / ]', 'Ctrl+Z / Ctrl+Shift+Z', '?']) expect(text).toContain(key);
  });
});

// The canvas needs a real 2D context: it is exercised in Chromium by the e2e tests.
describe('keyboard shortcuts in the app', () => {
  const press = (key: string, init: KeyboardEventInit = {}) => window.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, ...init }));

  it('drive layers, tools, brush size, review and help', async () => {
    const wrapper = mount(App, { attachTo: document.body, global: { stubs: { MapCanvas: true, TrainingChart: true } } });
    const project = useProjectStore();
    const review = useReviewStore();
    const viewer = useViewerStore();
    await project.openDemo();
    await settle();
    expect(review.loaded).toBe(true);

    press('3');
    expect(review.params.layer).toBe('layer3');
    press('f');
    expect(review.params.layer).toBe('fused');
    press('b');
    expect(viewer.tool).toBe('brush');
    press('e');
    expect(viewer.tool).toBe('eraser');
    press('e');
    expect(viewer.tool).toBe('pan');
    const size = viewer.brushSize;
    press(']');
    expect(viewer.brushSize).toBeGreaterThan(size);
    press('[');
    press('[');
    expect(viewer.brushSize).toBeLessThan(size);
    press('ArrowRight');
    await settle();
    expect(project.currentId).toBe('img/0001.png');
    press('ArrowLeft');
    await settle();
    expect(project.currentId).toBe('img/0000.png');
    press('a');
    await settle();
    expect(fake.calls.saveReview?.at(-1)).toMatchObject({ id: 'img/0000.png', state: 'accepted' });
    expect(project.currentId).toBe('img/0001.png');
    press('Z', { ctrlKey: true, shiftKey: true });
    press('?');
    await nextTick();
    expect(document.querySelector('[data-testid="help-overlay"]')).not.toBeNull();
    press('Escape');
    await nextTick();
    expect(document.querySelector('[data-testid="help-overlay"]')).toBeNull();
    wrapper.unmount();
  });

  it('D labels defect and moves on; O and D label every picked image; Delete clears; Esc lets go', async () => {
    const wrapper = mount(App, { attachTo: document.body, global: { stubs: { MapCanvas: true, TrainingChart: true } } });
    const project = useProjectStore();
    const review = useReviewStore();
    await project.openDemo();
    await settle();
    expect(review.loaded).toBe(true);

    press('d');
    await settle();
    expect(fake.calls.setLabels).toEqual([{ ids: ['img/0000.png'], label: 'defect' }]);
    expect(project.currentId).toBe('img/0001.png');
    expect(document.querySelector('[data-testid="label-counts"]')?.textContent?.trim()).toBe('OK 0 · defect 1 · unlabelled 4');

    project.togglePick('img/0002.png');
    project.togglePick('img/0003.png');
    press('o');
    await settle();
    expect(fake.calls.setLabels?.at(-1)).toEqual({ ids: ['img/0001.png', 'img/0002.png', 'img/0003.png'], label: 'ok' });
    expect(fake.count('saveReview')).toBe(0);
    expect(document.querySelector('[data-testid="label-counts"]')?.textContent?.trim()).toBe('OK 3 · defect 1 · unlabelled 1');

    // The range starts at the image last Ctrl-clicked.
    project.pickRange('img/0000.png');
    await nextTick();
    expect(document.querySelector('[data-testid="picked-note"]')?.textContent).toContain('4 images selected');
    press('Escape');
    expect(project.picked).toEqual([]);

    press('Delete');
    await settle();
    expect(fake.calls.setLabels?.at(-1)).toEqual({ ids: ['img/0001.png'], label: null });
    expect(project.current?.label).toBeNull();
    wrapper.unmount();
  });

  it('the label buttons act like their keys', async () => {
    const wrapper = mount(App, { attachTo: document.body, global: { stubs: { MapCanvas: true, TrainingChart: true } } });
    const project = useProjectStore();
    await project.openDemo();
    await settle();
    await wrapper.get('[data-testid="label-defect"]').trigger('click');
    await settle();
    expect(fake.calls.setLabels).toEqual([{ ids: ['img/0000.png'], label: 'defect' }]);
    expect(project.currentId).toBe('img/0001.png');
    await wrapper.get('[data-testid="mark-ok"]').trigger('click');
    await settle();
    expect(fake.calls.saveReview?.at(-1)).toMatchObject({ id: 'img/0001.png', state: 'ok' });
    project.select('img/0000.png');
    await settle();
    expect(wrapper.get('[data-testid="current-label"]').attributes('data-label')).toBe('defect');
    await wrapper.get('[data-testid="label-clear"]').trigger('click');
    await settle();
    expect(fake.calls.setLabels?.at(-1)).toEqual({ ids: ['img/0000.png'], label: null });
    expect(wrapper.get('[data-testid="label-clear"]').attributes('disabled')).toBeDefined();
    wrapper.unmount();
  });

  it('typing a number in a field does not switch layers', async () => {
    const wrapper = mount(App, { attachTo: document.body, global: { stubs: { MapCanvas: true, TrainingChart: true } } });
    const project = useProjectStore();
    const review = useReviewStore();
    await project.openDemo();
    await settle();
    const input = document.querySelector<HTMLInputElement>('[data-testid="min-area"]')!;
    input.dispatchEvent(new KeyboardEvent('keydown', { key: '4', bubbles: true }));
    expect(review.params.layer).toBe('fused');
    wrapper.unmount();
  });

  it('shows the empty state that teaches what to do first', async () => {
    const wrapper = mount(App, { attachTo: document.body, global: { stubs: { MapCanvas: true, TrainingChart: true } } });
    await settle();
    expect(wrapper.get('[data-testid="empty-state"]').text()).toContain('Open a folder of images (Ctrl+O) or try the demo set');
    await wrapper.get('[data-testid="open-demo"]').trigger('click');
    await settle();
    expect(fake.count('openDemo')).toBe(1);
    expect(wrapper.find('[data-testid="empty-state"]').exists()).toBe(false);
    wrapper.unmount();
  });
});
