import { ref, shallowRef, watch, type Ref } from 'vue';
import { api } from '../api/index.ts';
import { t } from '../i18n/index.ts';
import { messageOf, useNoticesStore } from '../stores/notices.ts';

export interface LoadedImage {
  id: string;
  width: number;
  height: number;
  bitmap: ImageBitmap;
}

/** Decoded images kept for going back and forth between neighbours. */
const KEEP = 4;
const cache = new Map<string, LoadedImage>();
/**
 * The image on screen is never evicted: decodes started for images the inspector has already
 * left can finish after the current one and would otherwise push it out, closing a bitmap the
 * viewer is still drawing.
 */
let onScreen: string | null = null;

function evictBeyondKeep(): void {
  for (const [oldId, old] of cache) {
    if (cache.size <= KEEP) return;
    if (oldId === onScreen) continue;
    cache.delete(oldId);
    old.bitmap.close();
  }
}

async function decode(id: string): Promise<LoadedImage> {
  const hit = cache.get(id);
  if (hit) {
    cache.delete(id);
    cache.set(id, hit);
    return hit;
  }
  const pixels = await api().getImage({ id });
  const bitmap = await createImageBitmap(new Blob([pixels.png as Uint8Array<ArrayBuffer>], { type: 'image/png' }));
  const loaded = { id, width: pixels.width, height: pixels.height, bitmap };
  cache.set(id, loaded);
  evictBeyondKeep();
  return loaded;
}

/** The decoded pixels of the image on screen; a failure names the file and leaves the others working. */
export function useImageBitmap(id: Ref<string | null>, name: Ref<string>): { image: Ref<LoadedImage | null>; loading: Ref<boolean> } {
  const notices = useNoticesStore();
  const image = shallowRef<LoadedImage | null>(null);
  const loading = ref(false);
  watch(
    id,
    async (next) => {
      onScreen = next;
      if (next === null) {
        image.value = null;
        return;
      }
      if (image.value?.id !== next) image.value = cache.get(next) ?? null;
      if (image.value) return;
      loading.value = true;
      try {
        const loaded = await decode(next);
        if (id.value === next) image.value = loaded;
      } catch (err) {
        if (id.value === next) notices.error(t.errors.imageFailed(name.value, messageOf(err)));
      } finally {
        if (id.value === next) loading.value = false;
      }
    },
    { immediate: true },
  );
  return { image, loading };
}
