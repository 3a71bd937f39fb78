import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { ExportFormat } from '../../../electron/api.ts';
import { api } from '../api/index.ts';
import { t } from '../i18n/index.ts';
import { useJobsStore } from './jobs.ts';
import { messageOf, useNoticesStore } from './notices.ts';
import { useReviewStore } from './review.ts';

const PREFS = 'kizu.export';

/** The export dialog: format, destination and which images; the job it started. */
export const useExportStore = defineStore('export', () => {
  const jobs = useJobsStore();
  const notices = useNoticesStore();
  const review = useReviewStore();
  const saved = JSON.parse(localStorage.getItem(PREFS) ?? '{}') as { format?: ExportFormat; outDir?: string };

  const open = ref(false);
  const format = ref<ExportFormat>(saved.format ?? 'coco');
  const outDir = ref(saved.outDir ?? '');
  /** 'queue': every image as one batch on the configured work queue (EngineInfo.queue). */
  const which = ref<'accepted' | 'defective' | 'queue'>('accepted');
  const jobId = ref<string | null>(null);
  const starting = ref(false);

  const job = computed(() => (jobId.value === null ? null : jobs.latest[jobId.value] ?? null));
  const canStart = computed(() => outDir.value.trim() !== '' && !starting.value && job.value?.state !== 'running');

  async function start(): Promise<boolean> {
    if (!canStart.value) return false;
    starting.value = true;
    try {
      // Pending edits first, so the export sees every change on screen.
      await review.flush();
      localStorage.setItem(PREFS, JSON.stringify({ format: format.value, outDir: outDir.value }));
      const handle = await api().startExport({
        format: format.value,
        outDir: outDir.value.trim(),
        which: which.value === 'queue' ? 'defective' : which.value,
        params: review.params,
        ...(which.value === 'queue' ? { queue: true } : {}),
      });
      jobId.value = handle.jobId;
      return true;
    } catch (err) {
      notices.error(t.errors.exportFailed(messageOf(err)));
      return false;
    } finally {
      starting.value = false;
    }
  }

  return { open, format, outDir, which, jobId, job, starting, canStart, start };
});
