import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextTick, ref } from 'vue';
import { setApi } from '../../../renderer/src/api/index.ts';
import { useImageBitmap } from '../../../renderer/src/composables/image-bitmap.ts';
import { FakeApi } from './fake-api.ts';

/** A bitmap that records being closed, as the browser's would become unusable. */
class FakeBitmap {
  closed = false;
  close(): void {
    this.closed = true;
  }
}

describe('decoded images for the viewer', () => {
  let release: Array<() => void> = [];

  beforeEach(() => {
    setActivePinia(createPinia());
    const fake = new FakeApi();
    const getImage = fake.getImage.bind(fake);
    // Every image's pixels arrive only when the test says so: in any order, as a slow disk gives them.
    fake.getImage = (r) => new Promise((resolve) => release.push(() => void getImage(r).then(resolve)));
    setApi(fake);
    vi.stubGlobal('createImageBitmap', async () => new FakeBitmap());
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    release = [];
  });

  it('never closes the bitmap on screen, even when decodes of images left behind finish after it', async () => {
    const id = ref<string | null>('img/a.png');
    const { image } = useImageBitmap(id, ref('a'));
    // The inspector moves on through five images before any of their pixels arrive.
    for (const next of ['img/b.png', 'img/c.png', 'img/d.png', 'img/e.png', 'img/f.png']) {
      id.value = next;
      await nextTick();
    }
    const flush = async () => {
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    // The one on screen arrives first; then all those left behind, which fill the cache past its size.
    release.at(-1)!();
    await flush();
    const shown = image.value!;
    expect(shown.id).toBe('img/f.png');
    for (const go of release.slice(0, -1)) go();
    await flush();
    expect(image.value).toBe(shown);
    expect((shown.bitmap as unknown as FakeBitmap).closed).toBe(false);
  });
});
