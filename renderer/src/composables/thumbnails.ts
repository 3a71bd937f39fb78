import { onBeforeUnmount, ref, watch, type Ref } from 'vue';
import { api } from '../api/index.ts';

export const THUMBNAIL_SIZE = 96;
/** Object URLs kept: a few screens of rows either way, so scrolling back costs nothing. */
const KEEP = 600;
/** Requests in flight at once; rows scrolled past before their turn are never fetched. */
const CONCURRENCY = 4;

const urls = new Map<string, string>();
const waiting: { id: string; resolve: (url: string | null) => void }[] = [];
const inFlight = new Map<string, Promise<string | null>>();
let active = 0;

function remember(id: string, url: string): void {
  urls.set(id, url);
  while (urls.size > KEEP) {
    const [oldId, oldUrl] = urls.entries().next().value as [string, string];
    urls.delete(oldId);
    URL.revokeObjectURL(oldUrl);
  }
}

function pump(): void {
  while (active < CONCURRENCY && waiting.length > 0) {
    // Newest request first: the rows the inspector is looking at now.
    const job = waiting.pop()!;
    active++;
    api()
      .getThumbnail({ id: job.id, size: THUMBNAIL_SIZE })
      .then((pixels) => {
        const url = URL.createObjectURL(new Blob([pixels.png as Uint8Array<ArrayBuffer>], { type: 'image/png' }));
        remember(job.id, url);
        job.resolve(url);
      })
      .catch(() => job.resolve(null))
      .finally(() => {
        active--;
        inFlight.delete(job.id);
        pump();
      });
  }
}

function request(id: string): Promise<string | null> {
  const known = urls.get(id);
  if (known) return Promise.resolve(known);
  let pending = inFlight.get(id);
  if (!pending) {
    pending = new Promise((resolve) => waiting.push({ id, resolve }));
    inFlight.set(id, pending);
    pump();
  }
  return pending;
}

function forget(id: string): void {
  const i = waiting.findIndex((w) => w.id === id);
  if (i < 0) return;
  const [job] = waiting.splice(i, 1);
  inFlight.delete(id);
  job.resolve(null);
}

/** The thumbnail of an image as an object URL (null until loaded, or if it failed); unneeded requests are dropped. */
export function useThumbnail(id: Ref<string>): Ref<string | null> {
  const url = ref<string | null>(null);
  watch(
    id,
    (next, previous) => {
      if (previous !== undefined && previous !== next) forget(previous);
      url.value = urls.get(next) ?? null;
      if (url.value) return;
      void request(next).then((u) => {
        if (id.value === next) url.value = u;
      });
    },
    { immediate: true },
  );
  onBeforeUnmount(() => forget(id.value));
  return url;
}
