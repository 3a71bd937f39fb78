import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { DEFAULT_TRAINING_MINUTES, type ApiRequest, type TrainingParams, type TrainingSetSummary } from '../../../electron/api.ts';
import { api } from '../api/index.ts';
import { t } from '../i18n/index.ts';
import { useJobsStore } from './jobs.ts';
import { useModelStore } from './model.ts';
import { messageOf, useNoticesStore } from './notices.ts';
import { useProjectStore } from './project.ts';

/** Where the images come from: the open folder's labelled images, or a dataset folder (or CSV) on disk. */
export type TrainingSource = 'project' | 'folder';

/**
 * `length`: end within `minutes` (the trainer plans its schedule to fit) or after `epochs`.
 * `data`, `out` and `defectLabel` are the dataset folder's; `width` is '' for the recipe's own.
 * A new training never resumes (`resume` keeps the schema's default); resume() goes on with
 * the folder's stopped run, with the options it was started with.
 */
export type TrainingForm = Omit<TrainingParams, 'data' | 'out' | 'init' | 'minutes' | 'width' | 'resume'> & {
  source: TrainingSource; data: string; out: string; init: string; length: 'minutes' | 'epochs'; minutes: number; width: number | '';
};

const DEFAULT_FORM: TrainingForm = {
  source: 'project', data: '', out: '', defectLabel: 'defect', length: 'minutes', minutes: DEFAULT_TRAINING_MINUTES, epochs: 15,
  batch: 16, lr: 0.001, inputSize: 512, init: '', width: '', seed: 0, pretextOnly: false, masks: false,
};

/**
 * The training panel: where the images come from (with what the open folder's labels would give),
 * parameters, the running job with its curve, cancel, and the switch to its model.
 */
export const useTrainingStore = defineStore('training', () => {
  const jobs = useJobsStore();
  const model = useModelStore();
  const project = useProjectStore();
  const notices = useNoticesStore();

  const open = ref(false);
  const form = ref<TrainingForm>({ ...DEFAULT_FORM });
  const jobId = ref<string | null>(null);
  const jobSource = ref<TrainingSource | null>(null);
  const starting = ref(false);
  const summary = ref<TrainingSetSummary | null>(null);
  let summarySerial = 0;

  // After a reload the panel picks up a training that is still running.
  const activeId = computed(() => jobId.value ?? Object.values(jobs.latest).find((e) => e.kind === 'train' && e.state === 'running')?.jobId ?? null);
  const job = computed(() => (activeId.value === null ? null : jobs.latest[activeId.value] ?? null));
  const curve = computed(() => (activeId.value === null ? [] : jobs.metrics[activeId.value] ?? []));
  const running = computed(() => job.value?.state === 'running');
  const sourceReady = computed(() => {
    const f = form.value;
    if (f.source === 'project') return project.isOpen && summary.value?.enough === true;
    return f.data.trim() !== '' && f.out.trim() !== '';
  });
  const canStart = computed(() => sourceReady.value && !starting.value && !running.value);
  /**
   * Where the job put its model: the folder it reports (a cancelled run still writes what it
   * learnt so far), else, once done, the folder asked for (a training from the project asks for none).
   */
  const modelPath = computed(() => {
    const state = job.value?.state;
    const reported = job.value?.result?.modelDir;
    if (typeof reported === 'string' && (state === 'done' || state === 'cancelled')) return reported;
    return state === 'done' && jobSource.value !== 'project' && form.value.out.trim() !== '' ? form.value.out.trim() : null;
  });
  /**
   * A training from the project that wrote a model leaves it in use (the back end switches to
   * it); a job picked up after a reload is known by its model being the one the engine runs.
   */
  const modelInUse = computed(() => {
    if (jobSource.value === 'project') return job.value?.state === 'done' || modelPath.value !== null;
    return modelPath.value !== null && modelPath.value === model.model?.path;
  });

  watch(open, (isOpen) => {
    if (isOpen) void refreshSummary();
  });
  // Labels and reviewed masks decide what training from the folder would use.
  watch(
    () => `${project.info?.root ?? ''}\u0000${project.labelCounts.ok}/${project.labelCounts.defect}/${project.reviewedCount}`,
    () => {
      if (open.value) void refreshSummary();
    },
  );

  async function refreshSummary(): Promise<void> {
    const serial = ++summarySerial;
    if (!project.isOpen) {
      summary.value = null;
      return;
    }
    try {
      const next = await api().trainingSet({});
      if (serial !== summarySerial) return;
      // Learning from reviewed masks is on when there are any; a change of count asks again, a refresh with the same count keeps the operator's choice.
      if (next.masks !== summary.value?.masks) form.value.masks = next.masks > 0;
      summary.value = next;
    } catch (err) {
      if (serial === summarySerial) summary.value = null;
      notices.error(t.errors.trainingSetFailed(messageOf(err)));
    }
  }

  function request(): ApiRequest<'startTraining'> {
    const { source, data, out, defectLabel, init, length, minutes, width, pretextOnly, masks, ...rest } = form.value;
    return {
      ...rest,
      // No data and no out: the back end trains on the open folder's labels, into the folder's models.
      ...(source === 'folder' ? { data: data.trim(), out: out.trim(), defectLabel, pretextOnly } : { masks: masks && (summary.value?.masks ?? 0) > 0 }),
      ...(init.trim() ? { init: init.trim() } : {}),
      ...(length === 'minutes' ? { minutes } : {}),
      ...(width === '' ? {} : { width }),
    };
  }

  /** Starts a training job; its failure is a notice, the panel's state the job's. */
  async function launch(params: ApiRequest<'startTraining'>, source: TrainingSource): Promise<boolean> {
    starting.value = true;
    try {
      const handle = await api().startTraining(params);
      jobId.value = handle.jobId;
      jobSource.value = source;
      return true;
    } catch (err) {
      notices.error(t.errors.trainingFailed(messageOf(err)));
      return false;
    } finally {
      starting.value = false;
    }
  }

  async function start(): Promise<boolean> {
    if (!canStart.value) return false;
    return launch(request(), form.value.source);
  }

  /** The folder's training that stopped when Kizu closed (the back end keeps its checkpoint). */
  const resumable = computed(() => project.info?.resumableTraining ?? null);

  async function resume(): Promise<boolean> {
    if (resumable.value === null || starting.value || running.value) return false;
    const started = await launch({ resume: true }, 'project');
    if (started) await project.refreshInfo();
    return started;
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

  return {
    open, form, jobId, job, curve, running, summary, canStart, modelPath, modelInUse, resumable,
    refreshSummary, start, resume, cancel, useNewModel,
  };
});
