import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { LABEL_OF_REVIEW, type ImageEntry, type ImageLabel, type JobEvent, type ProjectInfo, type ReviewState } from '../../../electron/api.ts';
import { api } from '../api/index.ts';
import { t } from '../i18n/index.ts';
import { countByState, countLabels, neighbour, nextUnreviewed, orderImages, type SortKey, type StateFilter } from '../lib/gallery-order.ts';
import { useJobsStore } from './jobs.ts';
import { messageOf, useNoticesStore } from './notices.ts';

const LAST_PROJECT = 'kizu.lastProject';
const LAUNCHED = 'kizu.launched';
const currentKey = (root: string) => `kizu.current:${root}`;
/** While the images are re-scored, the gallery fetches the new scores at most this often. */
export const SCORE_REFRESH_MS = 2000;

type EntryPatch = Partial<Pick<ImageEntry, 'state' | 'score' | 'label' | 'labelFrom'>>;

/**
 * The open folder, its images with their review states, labels and scores, which one is on
 * screen, and which several are picked for labelling at once.
 */
export const useProjectStore = defineStore('project', () => {
  const notices = useNoticesStore();
  const jobs = useJobsStore();
  const info = ref<ProjectInfo | null>(null);
  // 10,000 entries: replaced whole on change rather than deeply reactive.
  const entries = shallowRef<ImageEntry[]>([]);
  const filter = ref<StateFilter>('all');
  const sort = ref<SortKey>('name');
  const currentId = ref<string | null>(null);
  const opening = ref(false);
  const picks = shallowRef<ReadonlySet<string>>(new Set());
  // Where a Shift-click range starts: the last image clicked.
  let anchor: string | null = null;
  let scoreTimer: ReturnType<typeof setTimeout> | null = null;

  const ordered = computed(() => orderImages(entries.value, filter.value, sort.value));
  const counts = computed(() => countByState(entries.value));
  const labelCounts = computed(() => countLabels(entries.value));
  const reviewedCount = computed(() => entries.value.length - counts.value.unreviewed);
  const byId = computed(() => new Map(entries.value.map((e) => [e.id, e])));
  const current = computed(() => (currentId.value === null ? null : byId.value.get(currentId.value) ?? null));
  const isOpen = computed(() => info.value !== null);
  /** The picked images in list order; hidden ones (another filter) are left out of what O and D label. */
  const picked = computed(() => (picks.value.size < 2 ? [] : ordered.value.filter((e) => picks.value.has(e.id)).map((e) => e.id)));
  const pickedSet = computed(() => new Set(picked.value));

  jobs.onEvent(followJob);

  /** Shows a project the back end opened (a dialog, the menu, drag-and-drop or this store). */
  async function adopt(project: ProjectInfo): Promise<void> {
    info.value = project;
    picks.value = new Set();
    for (const problem of project.problems ?? []) notices.error(t.errors.projectProblem(problem.file, problem.message));
    localStorage.setItem(LAST_PROJECT, project.root);
    await refresh();
    const remembered = localStorage.getItem(currentKey(project.root));
    const first = ordered.value[0]?.id ?? null;
    select(remembered !== null && byId.value.has(remembered) ? remembered : first);
  }

  async function refresh(): Promise<void> {
    try {
      entries.value = await api().listImages({});
    } catch (err) {
      notices.error(t.errors.listFailed(messageOf(err)));
    }
  }

  /** Label counts, the project's model and its last quality measurement, as the back end has them now. */
  async function refreshInfo(): Promise<void> {
    if (!info.value) return;
    try {
      info.value = await api().projectInfo({});
    } catch (err) {
      notices.error(t.errors.projectInfoFailed(messageOf(err)));
    }
  }

  /** New scores from a re-scoring; states and labels stay as on screen, where a save may still be on its way. */
  async function refreshScores(): Promise<void> {
    try {
      const fresh = await api().listImages({});
      patch(new Map(fresh.map((e) => [e.id, { score: e.score }])));
    } catch (err) {
      notices.error(t.errors.listFailed(messageOf(err)));
    }
  }

  function followJob(event: JobEvent): void {
    if (event.kind === 'score') followScoring(event);
    if (event.state === 'failed' && (event.kind === 'score' || event.kind === 'quality')) {
      notices.error(t.errors.jobFailed(t.status.jobKinds[event.kind], event.message));
    }
    // A training from the project changes its model and previous models; a quality check, its figures.
    const ended = event.state === 'done' || event.state === 'cancelled';
    if (ended && (event.kind === 'train' || event.kind === 'quality')) void refreshInfo();
  }

  function followScoring(event: JobEvent): void {
    if (event.state === 'running') {
      scoreTimer ??= setTimeout(() => {
        scoreTimer = null;
        void refreshScores();
      }, SCORE_REFRESH_MS);
      return;
    }
    if (scoreTimer !== null) clearTimeout(scoreTimer);
    scoreTimer = null;
    void refreshScores();
  }

  async function openFolder(path: string): Promise<boolean> {
    opening.value = true;
    try {
      await adopt(await api().openFolder({ path }));
      return true;
    } catch (err) {
      notices.error(t.errors.openFailed(path, messageOf(err)));
      return false;
    } finally {
      opening.value = false;
    }
  }

  async function openDemo(): Promise<boolean> {
    opening.value = true;
    try {
      await adopt(await api().openDemo({}));
      return true;
    } catch (err) {
      notices.error(t.errors.demoFailed(messageOf(err)));
      return false;
    } finally {
      opening.value = false;
    }
  }

  /**
   * On start: reopen the last folder (its state comes back from the sidecars on disk); on the
   * very first launch, open the demo set so there is something to look at.
   */
  async function restore(): Promise<void> {
    const last = localStorage.getItem(LAST_PROJECT);
    const firstLaunch = localStorage.getItem(LAUNCHED) === null;
    localStorage.setItem(LAUNCHED, '1');
    if (last === null) {
      if (firstLaunch) await openDemo();
      return;
    }
    opening.value = true;
    try {
      await adopt(await api().openFolder({ path: last }));
    } catch {
      // The folder was moved or deleted since: start from the empty state, quietly.
      localStorage.removeItem(LAST_PROJECT);
    } finally {
      opening.value = false;
    }
  }

  /** Shows one image; a picked set is let go, as a plain click does in a file manager. */
  function select(id: string | null): void {
    currentId.value = id;
    anchor = id;
    if (picks.value.size) picks.value = new Set();
    if (id !== null && info.value) localStorage.setItem(currentKey(info.value.root), id);
  }

  // A set of one is no set: O and D then act on the image on screen, as they look like they do.
  function setPicks(next: Set<string>): void {
    picks.value = next.size > 1 ? next : new Set();
  }

  /** Ctrl/Cmd-click: adds or removes one image; the first one added joins the image on screen. */
  function togglePick(id: string): void {
    const next = new Set(picks.value.size ? picks.value : currentId.value !== null ? [currentId.value] : []);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    anchor = id;
    setPicks(next);
  }

  /** Shift-click: every image in the list from the last one clicked to this one. */
  function pickRange(id: string): void {
    const order = ordered.value;
    const to = order.findIndex((e) => e.id === id);
    const from = anchor === null ? -1 : order.findIndex((e) => e.id === anchor);
    if (to < 0) return;
    const [a, b] = from < 0 ? [to, to] : [Math.min(from, to), Math.max(from, to)];
    setPicks(new Set(order.slice(a, b + 1).map((e) => e.id)));
  }

  function clearPicks(): void {
    picks.value = new Set();
  }

  /** Labels images (null: clears what the operator said; the folder's label, if any, shows again). */
  async function setLabels(ids: readonly string[], label: ImageLabel | null): Promise<boolean> {
    if (ids.length === 0) return false;
    try {
      const result = await api().setLabels({ ids: [...ids], label });
      // Only the labels: a review of one of these images may be saving its state right now.
      patch(new Map(result.entries.map((e) => [e.id, { label: e.label, labelFrom: e.labelFrom }])));
      return true;
    } catch (err) {
      const what = ids.length === 1 ? (byId.value.get(ids[0])?.name ?? ids[0]) : t.labels.images(ids.length);
      notices.error(t.errors.labelFailed(what, messageOf(err)));
      return false;
    }
  }

  function step(delta: number): void {
    select(neighbour(ordered.value, currentId.value, delta));
  }

  /** Moves on to the next unreviewed image; false when every image in the list is reviewed. */
  function selectNextUnreviewed(): boolean {
    const next = nextUnreviewed(ordered.value, currentId.value);
    if (next === null) return false;
    select(next);
    return true;
  }

  /** Changes some images' fields in one new list, or leaves the list as it is when nothing differs. */
  function patch(changes: ReadonlyMap<string, EntryPatch>): void {
    let next: ImageEntry[] | null = null;
    for (const [i, old] of entries.value.entries()) {
      const change = changes.get(old.id);
      if (!change || (Object.keys(change) as (keyof EntryPatch)[]).every((k) => change[k] === old[k])) continue;
      next ??= entries.value.slice();
      next[i] = { ...old, ...change };
    }
    if (next === null) return;
    entries.value = next;
    const reviewed = entries.value.length - countByState(next).unreviewed;
    if (info.value && info.value.reviewedCount !== reviewed) info.value = { ...info.value, reviewedCount: reviewed };
  }

  function setState(id: string, state: ReviewState): void {
    // saveReview labels the image too; shown at once rather than after a refetch.
    const label = LABEL_OF_REVIEW[state];
    patch(new Map([[id, label ? { state, label, labelFrom: 'user' as const } : { state }]]));
  }

  function setScore(id: string, score: number): void {
    patch(new Map([[id, { score }]]));
  }

  return {
    info, entries, filter, sort, currentId, opening,
    ordered, counts, labelCounts, reviewedCount, current, isOpen, picked, pickedSet,
    adopt, openFolder, openDemo, restore, refresh, refreshInfo, select, step, selectNextUnreviewed, setState, setScore,
    togglePick, pickRange, clearPicks, setLabels,
  };
});
