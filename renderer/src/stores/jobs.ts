import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { JobEvent } from '../../../electron/api.ts';
import { api } from '../api/index.ts';

export type JobMetrics = NonNullable<JobEvent['metrics']>;

/** Background work (export, training, evaluation): the latest event of each job, and training curves. */
export const useJobsStore = defineStore('jobs', () => {
  const latest = ref<Record<string, JobEvent>>({});
  const metrics = ref<Record<string, JobMetrics[]>>({});
  let unsubscribe: (() => void) | null = null;

  const running = computed(() => Object.values(latest.value).filter((e) => e.state === 'running'));

  function receive(event: JobEvent): void {
    latest.value = { ...latest.value, [event.jobId]: event };
    if (event.metrics) {
      const series = metrics.value[event.jobId] ?? [];
      metrics.value = { ...metrics.value, [event.jobId]: [...series, event.metrics] };
    }
  }

  /** Listens for job events and picks up jobs that were already running (after a reload). */
  async function connect(): Promise<void> {
    unsubscribe ??= api().onJobEvent(receive);
    const known = await api().listJobs({});
    for (const event of known) if (!latest.value[event.jobId]) receive(event);
  }

  function disconnect(): void {
    unsubscribe?.();
    unsubscribe = null;
  }

  return { latest, metrics, running, receive, connect, disconnect };
});
