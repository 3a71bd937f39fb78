import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { ImageEntry, ProjectInfo, ReviewState } from '../../../electron/api.ts';
import { api } from '../api/index.ts';
import { t } from '../i18n/index.ts';
import { countByState, neighbour, nextUnreviewed, orderImages, type SortKey, type StateFilter } from '../lib/gallery-order.ts';
import { messageOf, useNoticesStore } from './notices.ts';

const LAST_PROJECT = 'kizu.lastProject';
const LAUNCHED = 'kizu.launched';
const currentKey = (root: string) => `kizu.current:${root}`;

/** The open folder, its images with their review states, and which one is on screen. */
export const useProjectStore = defineStore('project', () => {
  const notices = useNoticesStore();
  const info = ref<ProjectInfo | null>(null);
  // 10,000 entries: replaced whole on change rather than deeply reactive.
  const entries = shallowRef<ImageEntry[]>([]);
  const filter = ref<StateFilter>('all');
  const sort = ref<SortKey>('name');
  const currentId = ref<string | null>(null);
  const opening = ref(false);

  const ordered = computed(() => orderImages(entries.value, filter.value, sort.value));
  const counts = computed(() => countByState(entries.value));
  const reviewedCount = computed(() => entries.value.length - counts.value.unreviewed);
  const byId = computed(() => new Map(entries.value.map((e) => [e.id, e])));
  const current = computed(() => (currentId.value === null ? null : byId.value.get(currentId.value) ?? null));
  const isOpen = computed(() => info.value !== null);

  /** Shows a project the back end opened (a dialog, the menu, drag-and-drop or this store). */
  async function adopt(project: ProjectInfo): Promise<void> {
    info.value = project;
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

  function select(id: string | null): void {
    currentId.value = id;
    if (id !== null && info.value) localStorage.setItem(currentKey(info.value.root), id);
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

  function update(id: string, patch: Partial<Pick<ImageEntry, 'state' | 'score'>>): void {
    const i = entries.value.findIndex((e) => e.id === id);
    if (i < 0) return;
    const old = entries.value[i];
    if ((patch.state ?? old.state) === old.state && (patch.score === undefined || patch.score === old.score)) return;
    const next = entries.value.slice();
    next[i] = { ...old, ...patch };
    entries.value = next;
    if (info.value && patch.state !== undefined && patch.state !== old.state) {
      info.value = { ...info.value, reviewedCount: entries.value.length - countByState(next).unreviewed };
    }
  }

  function setState(id: string, state: ReviewState): void {
    update(id, { state });
  }

  function setScore(id: string, score: number): void {
    update(id, { score });
  }

  return {
    info, entries, filter, sort, currentId, opening,
    ordered, counts, reviewedCount, current, isOpen,
    adopt, openFolder, openDemo, restore, refresh, select, step, selectNextUnreviewed, setState, setScore,
  };
});
