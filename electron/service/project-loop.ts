import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { trainingParamsSchema, type JobEvent, type KizuHandlers, type ModelSummary, type ProjectInfo, type TrainingParams } from '../api.ts';
import { writeFileAtomic } from '../data/atomic-write.ts';
import { withModel, withQuality } from '../data/project-settings.ts';
import { planProjectTraining, trainedPaths, TRAINING_MINIMUM, writeTrainingSet, summarisePlan, type ProjectImage } from '../data/project-training-set.ts';
import type { EngineOps } from '../worker/protocol.ts';
import { ApiError } from '../api-error.ts';
import type { JobRegistry } from './jobs.ts';
import { measureQuality, type QualityItem } from './model-quality.ts';
import type { OpenProject } from './open-project.ts';

/**
 * The operator's loop over the open project: label images, train from those labels, make the
 * new model the project's, re-score the gallery, measure the maps on reviewed masks the model
 * never saw. The pieces of KizuService that this loop adds.
 */

export interface LoopDeps {
  jobs: JobRegistry;
  project: () => OpenProject;
  /** Is this still the open project? Work for one that was closed meanwhile stops writing. */
  isCurrent: (p: OpenProject) => boolean;
  engine: {
    call<O extends 'classify' | 'explain' | 'status'>(op: O, args: EngineOps[O]['args'], options?: { signal?: AbortSignal }): Promise<EngineOps[O]['result']>;
  };
  /** Loads a model into the engine, with a bad model's message as a 400. */
  loadModel: (path: string) => Promise<ModelSummary>;
  train: (args: EngineOps['train']['args'], ctx: { signal: AbortSignal; progress: (u: { done: number; total?: number; message?: string }) => void }) => Promise<Record<string, unknown>>;
  log: (line: string) => void;
}

type LoopHandlers = Pick<KizuHandlers, 'setLabels' | 'projectInfo' | 'trainingSet' | 'useProjectModel' | 'startScoring' | 'startQualityCheck'>;

export interface ProjectLoop {
  handlers: LoopHandlers;
  /** startTraining without a dataset folder: the project's labels, or (resume) its stopped run. */
  trainFromProject: (params: TrainingParams) => Promise<{ jobId: string }>;
  /** ProjectInfo with what only the disk knows: a stopped training to resume. */
  info: (p: OpenProject) => Promise<ProjectInfo>;
}

function projectImages(p: OpenProject): ProjectImage[] {
  return p.images().map((image) => {
    const { state, hasMask } = p.summary(image.id);
    return { id: image.id, path: image.path, label: p.labelOf(image.id).label, reviewedMask: hasMask && (state === 'accepted' || state === 'edited') };
  });
}

/** The images with their reviewed masks' files, for the training set's CSV to name. */
async function withMaskPaths(p: OpenProject, images: ProjectImage[]): Promise<ProjectImage[]> {
  return Promise.all(images.map(async (image) => {
    if (!image.reviewedMask) return image;
    const { sidecar } = await p.store.read(image.id);
    return sidecar.mask ? { ...image, maskPath: p.store.maskPath(image.id, sidecar.mask.file) } : image;
  }));
}

/** What a project training was started with, beside its checkpoint, so closing the app does not lose how to go on. */
const REQUEST_FILE = 'train-request.json';

const exists = (path: string) => stat(path).then(() => true, () => false);

/**
 * The newest project training that has a checkpoint but no model: the app was closed (or the
 * worker killed) before it finished. A cancelled run writes its model, so it is not one.
 */
async function findResumable(p: OpenProject): Promise<{ out: string; step: number } | null> {
  const models = join(p.store.dir, 'models');
  const names = (await readdir(models).catch(() => [] as string[])).sort().reverse();
  for (const name of names) {
    const out = join(models, name);
    if (await exists(join(out, 'manifest.json')) || !(await exists(join(out, REQUEST_FILE)))) continue;
    const latest = await readFile(join(out, 'checkpoint', 'latest.json'), 'utf8').catch(() => null);
    const step = latest === null ? NaN : Number(/step-(\d+)/.exec(latest)?.[1]);
    if (Number.isFinite(step)) return { out, step };
  }
  return null;
}

/** A folder name that sorts by time and is valid on every file system. */
function runName(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, '').replace(/:/g, '-');
}

export function createProjectLoop(deps: LoopDeps): ProjectLoop {
  const { jobs, project, engine } = deps;

  /** Reviewed masks `model` can be measured on: never an image it learnt from. */
  const measurable = async (p: OpenProject, model: string): Promise<QualityItem[]> => {
    const trained = await trainedPaths(model);
    const items: QualityItem[] = [];
    for (const image of projectImages(p)) {
      if (!image.reviewedMask || trained.has(image.path)) continue;
      const { sidecar } = await p.store.read(image.id);
      if (!sidecar.mask) continue;
      items.push({
        id: image.id, path: image.path, modifiedAt: p.image(image.id).modifiedAt, params: sidecar.params,
        mask: { path: p.store.maskPath(image.id, sidecar.mask.file), width: sidecar.mask.width, height: sidecar.mask.height },
      });
    }
    return items;
  };

  const currentModel = async (): Promise<ModelSummary> => {
    const model = (await engine.call('status', {})).model;
    if (!model) throw new ApiError(409, 'no model is loaded: train one from this folder or load one');
    return model;
  };

  const startQuality = async (p: OpenProject): Promise<{ jobId: string; done: Promise<JobEvent> }> => {
    const model = await currentModel();
    const items = await measurable(p, model.path);
    if (items.length === 0) {
      throw new ApiError(409, 'nothing to measure on: accept or edit the mask of an image this model did not train on');
    }
    return jobs.start('quality', items.length, `measuring ${model.name} on ${items.length} reviewed mask(s)`, async (ctx) => {
      const quality = await measureQuality(model.path, items, {
        explain: (args) => engine.call('explain', args, { signal: ctx.signal }),
        mapThresholds: model.mapThresholds,
        signal: ctx.signal,
        progress: (done, total, what) => ctx.progress({ done, total, message: what }),
      });
      if (deps.isCurrent(p) && p.settings.model === model.path) await p.saveSettings(withQuality(p.settings, quality));
      return { quality };
    });
  };

  const startScore = (p: OpenProject): { jobId: string; done: Promise<JobEvent> } => {
    const images = p.images();
    return jobs.start('score', images.length, `scoring ${images.length} image(s)`, async (ctx) => {
      const failures: { file: string; message: string }[] = [];
      let model = '';
      for (const [n, image] of images.entries()) {
        if (ctx.signal.aborted || !deps.isCurrent(p)) throw Object.assign(new Error('cancelled'), { cancelled: true });
        try {
          const r = await engine.call('classify', { path: image.path, modifiedAt: image.modifiedAt }, { signal: ctx.signal });
          model = r.modelName;
          p.record(await p.store.saveScore(image.id, r.defectProbability, r.modelName));
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          // One unreadable image must not stop the rest of the gallery.
          failures.push({ file: image.path, message: (err as Error).message });
        }
        ctx.progress({ done: n + 1, message: image.id, ...(failures.length ? { failures: [...failures] } : {}) });
      }
      return { images: images.length - failures.length, model, failures: failures.length };
    });
  };

  /** After training: the model is the project's, the gallery is re-scored, then the maps are measured where they can be. */
  const adopt = async (p: OpenProject, modelDir: string): Promise<ModelSummary> => {
    const summary = await deps.loadModel(modelDir);
    if (deps.isCurrent(p)) await p.saveSettings(withModel(p.settings, modelDir));
    return summary;
  };

  const followUp = (p: OpenProject): void => {
    void startScore(p).done.then(async (event) => {
      if (event.state !== 'done' || !deps.isCurrent(p)) return;
      await startQuality(p).catch((err: unknown) => {
        // No reviewed mask to measure on yet is the usual case, not a failure.
        if (!(err instanceof ApiError && err.status === 409)) deps.log(`kizu: quality check after scoring: ${(err as Error).message}`);
      });
    });
  };

  const runTraining = (p: OpenProject, request: EngineOps['train']['args'], message: string): { jobId: string } => {
    const { jobId } = jobs.start('train', 0, message, async (ctx) => {
      const result = await deps.train(request, ctx);
      const written = typeof result.modelDir === 'string' && typeof result.steps === 'number' && result.steps > 0;
      // A run the operator stopped is theirs to adopt or not (the Train panel offers it); a finished one becomes the project's.
      if (!written || ctx.signal.aborted || !deps.isCurrent(p)) return { ...result, project: p.root };
      const model = await adopt(p, request.out);
      followUp(p);
      return { ...result, project: p.root, model: model.name };
    });
    return { jobId };
  };

  async function resumeFromProject(p: OpenProject): Promise<{ jobId: string }> {
    const stopped = await findResumable(p);
    if (!stopped) throw new ApiError(409, 'no stopped training to resume in this folder');
    const saved = trainingParamsSchema.safeParse(JSON.parse(await readFile(join(stopped.out, REQUEST_FILE), 'utf8')));
    if (!saved.success || saved.data.data === undefined) throw new ApiError(409, `${join(stopped.out, REQUEST_FILE)}: not a training request this Kizu can resume`);
    const request = { ...saved.data, data: saved.data.data, out: stopped.out, resume: true };
    return runTraining(p, request, `resuming the training of ${p.root} from step ${stopped.step}`);
  }

  async function trainFromProject(params: TrainingParams): Promise<{ jobId: string }> {
    const p = project();
    if (params.resume) return resumeFromProject(p);
    const plan = planProjectTraining(await withMaskPaths(p, projectImages(p)));
    const summary = summarisePlan(plan);
    if (!summary.enough) {
      throw new ApiError(409, `training needs at least ${TRAINING_MINIMUM.ok} OK and ${TRAINING_MINIMUM.defect} defect images; this folder has ${summary.ok} OK and ${summary.defect} defect labelled for training`);
    }
    const out = params.out ?? join(p.store.dir, 'models', runName(new Date()));
    await mkdir(out, { recursive: true });
    const data = await writeTrainingSet(out, plan);
    const request = { ...params, data, out, defectLabel: 'defect' };
    await writeFileAtomic(join(out, REQUEST_FILE), `${JSON.stringify(request, null, 2)}\n`);
    const masks = request.masks ? `, learning from ${summary.masks} reviewed mask(s)` : '';
    return runTraining(p, request, `training on ${summary.ok} OK and ${summary.defect} defect image(s) of ${p.root}${masks}`);
  }

  const info = async (p: OpenProject): Promise<ProjectInfo> => ({ ...p.info(), resumableTraining: await findResumable(p) });

  const handlers: LoopHandlers = {
    async setLabels({ ids, label }) {
      const p = project();
      for (const id of ids) p.image(id);
      for (const id of ids) p.record(await p.store.saveLabel(id, label));
      return { entries: ids.map((id) => p.entry(p.image(id))), labels: p.labelCounts() };
    },

    projectInfo: async () => info(project()),

    trainingSet: async () => summarisePlan(planProjectTraining(projectImages(project()))),

    async useProjectModel({ path }) {
      return adopt(project(), path);
    },

    startScoring: async () => ({ jobId: startScore(project()).jobId }),

    startQualityCheck: async () => ({ jobId: (await startQuality(project())).jobId }),
  };

  return { handlers, trainFromProject, info };
}
