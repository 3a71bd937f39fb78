import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { TrainingParams } from '../../../electron/api.ts';
import { api } from '../api/index.ts';
import { t } from '../i18n/index.ts';
import { useJobsStore } from './jobs.ts';
import { useModelStore } from './model.ts';
import { messageOf, useNoticesStore } from './notices.ts';

/** `length`: end within `minutes` (the trainer plans its schedule to fit) or after `epochs`. */
export type TrainingForm = Omit<TrainingParams, 'init' | 'minutes'> & { init: string; length: 'minutes' | 'epochs'; minutes: number };

/** An operator's shift has room for this; on a 2-core workstation it trains the default recipe to a usable model. */
const DEFAULT_MINUTES = 45;

const DEFAULT_FORM: TrainingForm = {
  data: '', out: '', defectLabel: 'defect', length: 'minutes', minutes: DEFAULT_MINUTES, epochs: 15, batch: 16, lr: 0.001, inputSize: 512, init: '', seed: 0,
};

/** The training panel: parameters, the running job with its curve, cancel, and the switch to its model. */
export const useTrainingStore = defineStore('training', () => {
  const jobs = useJobsStore();
  const model = useModelStore();
  const notices = useNoticesStore();

  const open = ref(false);
  const form = ref<TrainingForm>({ ...DEFAULT_FORM });
  const jobId = ref<string | null>(null);
  const starting = ref(false);

  // After a reload the panel picks up a training that is still running.
  const activeId = computed(() => jobId.value ?? Object.values(jobs.latest).find((e) => e.kind === 'train' && e.state === 'running')?.jobId ?? null);
  const job = computed(() => (activeId.value === null ? null : jobs.latest[activeId.value] ?? null));
  const curve = computed(() => (activeId.value === null ? [] : jobs.metrics[activeId.value] ?? []));
  const running = computed(() => job.value?.state === 'running');
  const canStart = computed(() => form.value.data.trim() !== '' && form.value.out.trim() !== '' && !starting.value && !running.value);
  /**
   * Where the job put its model: the folder it reports (a cancelled run still writes what it
   * learnt so far), else, once done, the folder asked for.
   */
  const modelPath = computed(() => {
    const state = job.value?.state;
    const reported = job.value?.result?.modelDir;
    if (typeof reported === 'string' && (state === 'done' || state === 'cancelled')) return reported;
    return state === 'done' ? form.value.out : null;
  });

  async function start(): Promise<boolean> {
    if (!canStart.value) return false;
    starting.value = true;
    const { init, length, minutes, ...rest } = form.value;
    try {
      const handle = await api().startTraining({
        ...rest, data: rest.data.trim(), out: rest.out.trim(), ...(init.trim() ? { init: init.trim() } : {}), ...(length === 'minutes' ? { minutes } : {}),
      });
      jobId.value = handle.jobId;
      return true;
    } catch (err) {
      notices.error(t.errors.trainingFailed(messageOf(err)));
      return false;
    } finally {
      starting.value = false;
    }
  }

  async function cancel(): Promise<void> {
    if (activeId.value === null) return;
    try {
      await api().cancelJob({ jobId: activeId.value });
    } catch (err) {
      notices.error(t.errors.cancelFailed(messageOf(err)));
    }
  }

  async function useNewModel(): Promise<boolean> {
    const path = modelPath.value;
    if (path === null) return false;
    const ok = await model.loadModel(path);
    if (ok && model.model) notices.info(t.training.switched(model.model.name));
    return ok;
  }

  return { open, form, jobId, job, curve, running, canStart, modelPath, start, cancel, useNewModel };
});
