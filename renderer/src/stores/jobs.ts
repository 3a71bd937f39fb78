import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { JobEvent } from '../../../electron/api.ts';
import { api } from '../api/index.ts';

export type JobMetrics = NonNullable<JobEvent['metrics']>;

/**
 * Background work (export, training, evaluation, re-scoring, quality checks): the latest event
 * of each job, training curves, and the stores that act on what a job did (`onEvent`).
 */
export const useJobsStore = defineStore('jobs', () => {
  const latest = ref<Record<string, JobEvent>>({});
  const metrics = ref<Record<string, JobMetrics[]>>({});
  const listeners = new Set<(event: JobEvent) => void>();
  let unsubscribe: (() => void) | null = null;

  const running = computed(() => Object.values(latest.value).filter((e) => e.state === 'running'));

  function record(event: JobEvent): void {
    latest.value = { ...latest.value, [event.jobId]: event };
    if (event.metrics) {
      const series = metrics.value[event.jobId] ?? [];
      metrics.value = { ...metrics.value, [event.jobId]: [...series, event.metrics] };
    }
  }

  function receive(event: JobEvent): void {
    record(event);
    for (const listener of listeners) listener(event);
  }

  /** Called with every live event, after `latest` has it. */
  function onEvent(listener: (event: JobEvent) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /**
   * Listens for job events and picks up jobs that were already running (after a reload). Those
   * are history, not news: what they did is already in what the app fetches when it starts.
   */
  async function connect(): Promise<void> {
    unsubscribe ??= api().onJobEvent(receive);
    const known = await api().listJobs({});
    for (const event of known) if (!latest.value[event.jobId]) record(event);
  }

  function disconnect(): void {
    unsubscribe?.();
    unsubscribe = null;
  }

  return { latest, metrics, running, receive, onEvent, connect, disconnect };
});
