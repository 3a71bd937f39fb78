import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef } from 'vue';
import type { CamMethodName, EngineInfo, ExplainResponse, MapScaleName, ModelSummary } from '../../../electron/api.ts';
import { api } from '../api/index.ts';
import { t } from '../i18n/index.ts';
import { useJobsStore } from './jobs.ts';
import { messageOf, useNoticesStore } from './notices.ts';
import { useProjectStore } from './project.ts';

/** Maps of this many (image, method) pairs stay in memory: going back a few images is instant. */
const CACHE_SIZE = 12;

const keyOf = (id: string, method: CamMethodName, scale: MapScaleName) => `${scale}\u0000${method}\u0000${id}`;

/**
 * The engine, the loaded model (with an open folder: the folder's model), the maps it computed,
 * fetched once per image and method, and the measurement of how well it localises.
 */
export const useModelStore = defineStore('model', () => {
  const notices = useNoticesStore();
  const jobs = useJobsStore();
  const project = useProjectStore();
  const engine = ref<EngineInfo | null>(null);
  const loading = ref(false);
  const startingQuality = ref(false);
  // Insertion order is recency order: a hit is re-inserted, the oldest entry is evicted.
  const cache = shallowRef(new Map<string, ExplainResponse>());
  const pending = new Map<string, Promise<ExplainResponse | null>>();
  const computing = ref(new Set<string>());
  const lastElapsedMs = ref<number | null>(null);
  // Bumped when the maps are dropped (a new model): whoever shows a map fetches it again.
  const generation = ref(0);

  const model = computed<ModelSummary | null>(() => engine.value?.model ?? null);
  /** The model's default mask thresholds on its map scale; null: its maps are per image. */
  const mapThresholds = computed(() => model.value?.mapThresholds ?? null);
  /** Where the model calls an image defective: its calibrated decision threshold, else 0.5. */
  const decisionThreshold = computed(() => model.value?.decisionThreshold ?? 0.5);
  // Started here or by the back end after a re-scoring: either way the figures are on their way.
  const qualityJob = computed(() => jobs.running.find((e) => e.kind === 'quality') ?? null);
  const measuring = computed(() => startingQuality.value || qualityJob.value !== null);

  jobs.onEvent((event) => {
    // Only the back end knows whether a training was the project's, which switches the model itself.
    if (event.kind === 'train' && (event.state === 'done' || event.state === 'cancelled')) void followEngine();
  });

  async function refreshEngine(): Promise<void> {
    try {
      engine.value = await api().engineInfo({});
    } catch (err) {
      notices.error(t.errors.engineFailed(messageOf(err)));
    }
  }

  /** The engine as it is now; the maps of a model it no longer runs are dropped. */
  async function followEngine(): Promise<void> {
    const before = model.value?.path;
    await refreshEngine();
    if (model.value?.path !== before) clearMaps();
  }

  /** With a folder open the model becomes the folder's (the one before joins its previous models). */
  async function loadModel(path: string): Promise<boolean> {
    loading.value = true;
    try {
      const forProject = project.isOpen;
      const summary = forProject ? await api().useProjectModel({ path }) : await api().loadModel({ path });
      engine.value = engine.value ? { ...engine.value, model: summary } : await api().engineInfo({});
      clearMaps();
      if (forProject) await project.refreshInfo();
      return true;
    } catch (err) {
      notices.error(t.errors.modelFailed(path, messageOf(err)));
      return false;
    } finally {
      loading.value = false;
    }
  }

  /** Measures the model on the reviewed masks it never trained on; the figures come with the project info when done. */
  async function measureQuality(): Promise<boolean> {
    if (measuring.value) return false;
    startingQuality.value = true;
    try {
      await api().startQualityCheck({});
      return true;
    } catch (err) {
      notices.error(t.errors.qualityFailed(messageOf(err)));
      return false;
    } finally {
      startingQuality.value = false;
    }
  }

  function clearMaps(): void {
    cache.value = new Map();
    pending.clear();
    generation.value++;
  }

  function cached(id: string, method: CamMethodName, scale: MapScaleName = 'model'): ExplainResponse | null {
    return cache.value.get(keyOf(id, method, scale)) ?? null;
  }

  function isComputing(id: string, method: CamMethodName, scale: MapScaleName = 'model'): boolean {
    return computing.value.has(keyOf(id, method, scale));
  }

  function remember(key: string, response: ExplainResponse): void {
    const next = new Map(cache.value);
    next.delete(key);
    next.set(key, markRaw(response));
    while (next.size > CACHE_SIZE) next.delete(next.keys().next().value as string);
    cache.value = next;
  }

  /**
   * The maps of one image for one method on one scale (the model's where it has one, the
   * response says): from the cache, or from one explain call (concurrent callers share it).
   * Null when it failed; the failure names the file in a notice.
   */
  function explain(id: string, method: CamMethodName, name = id, scale: MapScaleName = 'model'): Promise<ExplainResponse | null> {
    const key = keyOf(id, method, scale);
    const hit = cache.value.get(key);
    if (hit) {
      remember(key, hit);
      return Promise.resolve(hit);
    }
    const inFlight = pending.get(key);
    if (inFlight) return inFlight;
    // Without a model there is nothing to compute; the viewer says so once, not per image.
    if (engine.value && !engine.value.model) return Promise.resolve(null);
    computing.value = new Set(computing.value).add(key);
    const request = api()
      .explain({ id, methods: [method], scale })
      .then((response) => {
        if (pending.get(key) === request) remember(key, response);
        lastElapsedMs.value = response.elapsedMs;
        // The model changed behind the UI's back (the menu, another window): show the new one.
        if (engine.value && engine.value.model?.name !== response.modelName) void refreshEngine();
        return response;
      })
      .catch((err: unknown) => {
        notices.error(t.errors.explainFailed(name, messageOf(err)));
        return null;
      })
      .finally(() => {
        if (pending.get(key) === request) pending.delete(key);
        const next = new Set(computing.value);
        next.delete(key);
        computing.value = next;
      });
    pending.set(key, request);
    return request;
  }

  return {
    engine, model, mapThresholds, decisionThreshold, loading, lastElapsedMs, generation, qualityJob, measuring,
    refreshEngine, loadModel, measureQuality, clearMaps, cached, isComputing, explain,
  };
});
