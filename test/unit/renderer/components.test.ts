import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextTick } from 'vue';
import { setApi } from '../../../renderer/src/api/index.ts';
import App from '../../../renderer/src/App.vue';
import GalleryPanel from '../../../renderer/src/components/GalleryPanel.vue';
import HelpOverlay from '../../../renderer/src/components/HelpOverlay.vue';
import ThresholdSection from '../../../renderer/src/components/ThresholdSection.vue';
import { useProjectStore } from '../../../renderer/src/stores/project.ts';
import { useReviewStore } from '../../../renderer/src/stores/review.ts';
import { useViewerStore } from '../../../renderer/src/stores/viewer.ts';
import { FakeApi } from './fake-api.ts';

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
});

describe('help overlay', () => {
  it('lists every shortcut of the UX spec', () => {
    const text = mount(HelpOverlay).text();
    for (const key of ['← / →', '2 / 3 / 4 / F', 'A', 'R', 'O', 'B / E', '[ / ]', 'Ctrl+Z / Ctrl+Shift+Z', '?']) expect(text).toContain(key);
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
