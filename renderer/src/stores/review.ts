import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import {
  DEFAULT_MASK_PARAMS, maskParamsSchema, scaleOfParams, type ImageLabel, type MapLayer, type MapScaleName, type MaskParams, type ReviewState, type WireMask,
} from '../../../electron/api.ts';
import { maskFromMap } from '../../../electron/annotate/cleanup.ts';
import { defaultMaskDrawn, FALLBACK_THRESHOLD, modelDefaultThreshold, resolveThreshold } from '../../../electron/annotate/mask-threshold.ts';
import { createMask } from '../../../electron/annotate/mask.ts';
import type { Mask, ScoreMap } from '../../../electron/annotate/types.ts';
import { api } from '../api/index.ts';
import { t } from '../i18n/index.ts';
import { paintSegment, type BrushPoint } from '../lib/brush.ts';
import { nextUnreviewed } from '../lib/gallery-order.ts';
import { maskStats } from '../lib/mask-stats.ts';
import { UndoStack } from '../lib/undo-stack.ts';
import { useModelStore } from './model.ts';
import { messageOf, useNoticesStore } from './notices.ts';
import { useProjectStore } from './project.ts';

const WORKING_PARAMS = 'kizu.params';
/** Slider drags and brush strokes are saved this long after the last change; reviews at once. */
export const SAVE_DEBOUNCE_MS = 300;
/** Changes of one control this close together are one undo step (a slider drag). */
const COALESCE_MS = 800;

interface Snapshot {
  params: MaskParams;
  manualMask: Mask | null;
  state: ReviewState;
}

const cloneParams = (p: MaskParams): MaskParams => JSON.parse(JSON.stringify(p)) as MaskParams;
const copyMask = (m: Mask): Mask => ({ width: m.width, height: m.height, data: m.data.slice() });
const toWire = (m: Mask): WireMask => ({ width: m.width, height: m.height, data: new Uint8Array(m.data) });

function loadWorkingParams(): MaskParams {
  try {
    const parsed = maskParamsSchema.safeParse(JSON.parse(localStorage.getItem(WORKING_PARAMS) ?? 'null'));
    // Settings saved before maps had the model's scale were chosen on per-image maps: start afresh.
    if (parsed.success && parsed.data.scale !== undefined) return parsed.data;
  } catch {
    // Unreadable settings from an older version: fall back to the defaults.
  }
  return cloneParams(DEFAULT_MASK_PARAMS);
}

/**
 * The review of the image on screen: how its mask is made (method, layer, threshold,
 * clean-up), hand edits, its state, undo/redo, and autosave of every change.
 *
 * A mask is either derived from the map by the saved parameters (`manualMask` null; the export
 * re-derives it with the same annotate/ code) or painted by hand (`manualMask` is sent).
 */
export const useReviewStore = defineStore('review', () => {
  const project = useProjectStore();
  const model = useModelStore();
  const notices = useNoticesStore();

  const id = ref<string | null>(null);
  const loaded = ref(false);
  const params = ref<MaskParams>(loadWorkingParams());
  // The parameters a never-reviewed image opens with: the last ones the inspector chose.
  const workingParams = ref<MaskParams>(cloneParams(params.value));
  const state = ref<ReviewState>('unreviewed');
  const manualMask = shallowRef<Mask | null>(null);
  const lastSavedAt = ref<Date | null>(null);
  const saving = ref(false);

  const history = new UndoStack<Snapshot>();
  // The load open() is waiting for: a verdict given while it runs waits for it instead of being lost.
  let opening: Promise<void> = Promise.resolve();
  const historyVersion = ref(0);
  let lastChange = { key: '', at: 0 };
  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  let saveChain: Promise<void> = Promise.resolve();
  let stroke: BrushPoint | null = null;

  const name = computed(() => project.current?.name ?? id.value ?? '');
  /** The scale asked for: the model's (the default), or each map stretched to its own range. */
  const scale = computed<MapScaleName>(() => scaleOfParams(params.value));
  const explained = computed(() => (id.value === null ? null : model.cached(id.value, params.value.method, scale.value)));
  const computing = computed(() => id.value !== null && model.isComputing(id.value, params.value.method, scale.value));
  /** The scale the maps on screen are on: per image where the model has no map scale. */
  const mapScale = computed<MapScaleName>(() => explained.value?.scale ?? (model.mapThresholds ? scale.value : 'per-image'));

  function mapFor(layer: MapLayer): ScoreMap | null {
    return explained.value?.maps[params.value.method]?.[layer] ?? null;
  }

  /** The model's default threshold for a map as shown; null where it has none (per-image maps). */
  function modelDefault(layer: MapLayer): number | null {
    return modelDefaultThreshold(model.mapThresholds, params.value.method, layer, mapScale.value);
  }

  /** The model's default mask is left empty here: the model calls the image OK and drew its thresholds for the images it calls defective. */
  const defaultWithheld = computed(() => !defaultMaskDrawn(params.value.threshold, mapScale.value, model.model?.masksOnCalledDefect ?? false, explained.value?.defectProbability ?? null, model.decisionThreshold));

  /** The mask the current parameters make of one layer's map: the export's very computation (worker/export-run.ts). */
  function derive(map: ScoreMap, layer: MapLayer = params.value.layer): { mask: Mask; threshold: number } {
    const p = params.value;
    const cut = maskFromMap(map, { threshold: resolveThreshold(p.threshold, modelDefault(layer)), cleanup: p.cleanup });
    return defaultWithheld.value ? { mask: createMask(cut.mask.width, cut.mask.height), threshold: cut.threshold } : cut;
  }

  /** What "Reset" goes back to on the map on screen: the model's default, or 0.5 on per-image maps. */
  const defaultThreshold = computed<{ value: number; fromModel: boolean }>(() => {
    const fitted = modelDefault(params.value.layer);
    return { value: fitted ?? FALLBACK_THRESHOLD, fromModel: fitted !== null };
  });

  const map = computed(() => mapFor(params.value.layer));
  const derived = computed(() => (map.value ? derive(map.value) : null));
  const mask = computed<Mask | null>(() => manualMask.value ?? derived.value?.mask ?? null);
  const threshold = computed<number | null>(() => {
    if (derived.value) return derived.value.threshold;
    const th = params.value.threshold;
    return th.kind === 'value' ? th.value : null;
  });
  const stats = computed(() => (mask.value ? maskStats(mask.value) : null));
  const canUndo = computed(() => historyVersion.value >= 0 && history.canUndo);
  const canRedo = computed(() => historyVersion.value >= 0 && history.canRedo);

  watch(() => project.currentId, (next) => void open(next), { immediate: true });
  watch(workingParams, (p) => localStorage.setItem(WORKING_PARAMS, JSON.stringify(p)), { deep: true });
  // Maps come once per image and method (and model); a method switch fetches that method's maps.
  watch([id, () => params.value.method, scale, loaded, () => model.generation], ([imageId, method, mapsScale, ready]) => {
    if (imageId !== null && ready) void fetchMaps(imageId, method, mapsScale);
  });

  async function fetchMaps(imageId: string, method: MaskParams['method'], mapsScale: MapScaleName): Promise<void> {
    const response = await model.explain(imageId, method, name.value, mapsScale);
    if (!response) return;
    project.setScore(imageId, response.defectProbability);
    // Warm the cache for the image a reviewer most likely opens next.
    const next = nextUnreviewed(project.ordered, imageId);
    if (next !== null && id.value === imageId) void model.explain(next, method, next, mapsScale);
  }

  function open(nextId: string | null): Promise<void> {
    opening = load(nextId);
    return opening;
  }

  async function load(nextId: string | null): Promise<void> {
    void flush();
    id.value = nextId;
    loaded.value = false;
    manualMask.value = null;
    state.value = project.current?.state ?? 'unreviewed';
    params.value = cloneParams(workingParams.value);
    history.clear();
    historyVersion.value++;
    if (nextId === null) return;
    // Start the likely map now rather than after the review record arrives.
    void model.explain(nextId, params.value.method, name.value, scale.value);
    try {
      const record = await api().getReview({ id: nextId });
      if (id.value !== nextId) return;
      state.value = record.state;
      if (record.updatedAt !== null) params.value = record.params;
      manualMask.value = record.mask ? { width: record.mask.width, height: record.mask.height, data: record.mask.data } : null;
    } catch (err) {
      if (id.value !== nextId) return;
      notices.error(t.errors.reviewFailed(name.value, messageOf(err)));
    }
    loaded.value = true;
  }

  function snapshot(): Snapshot {
    return { params: cloneParams(params.value), manualMask: manualMask.value ? copyMask(manualMask.value) : null, state: state.value };
  }

  function record(key: string): void {
    const now = Date.now();
    const coalesce = key !== '' && key === lastChange.key && now - lastChange.at < COALESCE_MS;
    lastChange = { key, at: now };
    if (coalesce) return;
    history.record(snapshot());
    historyVersion.value++;
  }

  /**
   * Changes how the mask is made. A hand-edited mask is replaced by the derived one (undo
   * brings it back); a reviewed image becomes "edited" since its mask is no longer the one
   * that was reviewed.
   */
  function setParams(patch: Partial<MaskParams>, undoKey = ''): void {
    const next: MaskParams = { ...cloneParams(params.value), ...patch };
    if (JSON.stringify(next) === JSON.stringify(params.value)) return;
    workingParams.value = cloneParams(next);
    if (id.value === null || !loaded.value) {
      params.value = next;
      return;
    }
    record(undoKey);
    params.value = next;
    manualMask.value = null;
    if (state.value !== 'unreviewed') state.value = 'edited';
    scheduleSave();
  }

  function setThreshold(value: number): void {
    setParams({ threshold: { kind: 'value', value: Math.min(1, Math.max(0, value)) } }, 'threshold');
  }

  /** Back to the model's default for whichever map is shown (it follows a layer switch). */
  function resetThreshold(): void {
    setParams({ threshold: { kind: 'model-default' } }, '');
  }

  /** Stretch each map to its own range (faint structure shows; a threshold then means something else on each image), or back to the model's scale. */
  function setStretch(stretch: boolean): void {
    setParams({ scale: stretch ? 'per-image' : 'model' }, '');
  }

  function setCleanup(patch: Partial<MaskParams['cleanup']>, undoKey = ''): void {
    setParams({ cleanup: { ...params.value.cleanup, ...patch } }, undoKey);
  }

  /** Starts a brush stroke at an image point; false when there is no mask to edit yet. */
  function beginStroke(at: BrushPoint, radius: number, erase: boolean): boolean {
    const current = mask.value;
    if (id.value === null || !loaded.value || current === null) return false;
    record('');
    lastChange = { key: '', at: 0 };
    manualMask.value = copyMask(current);
    stroke = at;
    paintTo(at, radius, erase);
    return true;
  }

  function paintTo(at: BrushPoint, radius: number, erase: boolean): void {
    const target = manualMask.value;
    if (stroke === null || target === null) return;
    paintSegment(target, stroke, at, radius, erase ? 0 : 1);
    stroke = at;
    // Painted in place; a new wrapper tells the views and the statistics.
    manualMask.value = { width: target.width, height: target.height, data: target.data };
  }

  function endStroke(): void {
    if (stroke === null) return;
    stroke = null;
    state.value = 'edited';
    scheduleSave();
  }

  function restore(s: Snapshot): void {
    params.value = s.params;
    workingParams.value = cloneParams(s.params);
    manualMask.value = s.manualMask;
    state.value = s.state;
    historyVersion.value++;
    lastChange = { key: '', at: 0 };
    scheduleSave();
  }

  function undo(): void {
    const previous = history.undo(snapshot());
    if (previous) restore(previous);
  }

  function redo(): void {
    const next = history.redo(snapshot());
    if (next) restore(next);
  }

  /** Accept, reject or mark OK: saved at once, then on to the next unreviewed image. */
  async function review(verdict: 'accepted' | 'rejected' | 'ok'): Promise<void> {
    const at = id.value;
    if (at === null) return;
    if (!loaded.value) await opening;
    if (id.value !== at || !loaded.value) return;
    state.value = verdict;
    const saved = save();
    if (!project.selectNextUnreviewed()) notices.info(t.review.allDone);
    await saved;
  }

  /**
   * O, D and clearing the label. Several picked images are labelled at once (O too: marking each
   * one OK would save a review of masks nobody looked at). The image on screen: O reviews it as OK,
   * which labels it; D labels it defect and moves on like O, leaving its mask to review later
   * (so with no other image unreviewed it is not "all done": it goes to the next one in the list).
   */
  async function label(next: ImageLabel | null): Promise<void> {
    const picked = project.picked;
    if (picked.length > 0) {
      // Let go now, not when the save returns: a selection made meanwhile is the next one.
      project.clearPicks();
      await project.setLabels(picked, next);
      return;
    }
    if (next === 'ok') return review('ok');
    const imageId = id.value;
    if (imageId === null) return;
    if (next === 'defect' && !project.selectNextUnreviewed()) project.step(1);
    await project.setLabels([imageId], next);
  }

  function scheduleSave(): void {
    if (id.value === null) return;
    project.setState(id.value, state.value);
    if (saveTimer !== null) clearTimeout(saveTimer);
    saveTimer = setTimeout(() => void save(), SAVE_DEBOUNCE_MS);
  }

  /** Saves now whatever is pending (before switching image, on page hide). */
  function flush(): Promise<void> {
    return saveTimer === null ? saveChain : save();
  }

  /** Queues a save of the current review; saves run in order, so the last change wins on disk. */
  function save(): Promise<void> {
    if (saveTimer !== null) clearTimeout(saveTimer);
    saveTimer = null;
    const imageId = id.value;
    if (imageId === null) return saveChain;
    const imageName = name.value;
    // An accepted mask is stored as it was accepted: a later model must not redraw what the
    // inspector approved, and only a stored mask can measure that model (the model panel).
    const kept = manualMask.value ?? (state.value === 'accepted' ? mask.value : null);
    const request = {
      id: imageId,
      state: state.value,
      params: cloneParams(params.value),
      mask: kept ? toWire(kept) : null,
    };
    project.setState(imageId, request.state);
    saveChain = saveChain.then(async () => {
      saving.value = true;
      try {
        await api().saveReview(request);
        lastSavedAt.value = new Date();
      } catch (err) {
        notices.error(t.errors.saveFailed(imageName, messageOf(err)));
      } finally {
        saving.value = false;
      }
    });
    return saveChain;
  }

  return {
    id, loaded, params, state, manualMask, lastSavedAt, saving,
    name, explained, computing, map, mask, threshold, stats, canUndo, canRedo, scale, mapScale, defaultThreshold, defaultWithheld,
    mapFor, derive, open, setParams, setThreshold, resetThreshold, setStretch, setCleanup,
    beginStroke, paintTo, endStroke, undo, redo, review, label, save, flush,
  };
});
