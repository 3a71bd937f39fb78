import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import {
  DEFAULT_MASK_PARAMS, type EngineInfo, type ImagePixels, type KizuHandlers, type ParsedRequest, type ReviewRecord,
} from '../api.ts';
import { redactedUrl } from '../batch/redis-connection.ts';
import { probeImage } from '../data/image-io.ts';
import { KIZU_DIR, type Sidecar } from '../data/project-store.ts';
import { EngineCallError, type CallOptions } from '../worker/engine-client.ts';
import type { EngineOp, EngineOps, EngineStatus, ExportPlanItem } from '../worker/protocol.ts';
import { ApiError } from '../api-error.ts';
import { displayPng } from './display-image.ts';
import { imageFileSet, scanImageFolder, type ImageSet } from '../data/image-folder.ts';
import { JobRegistry } from './jobs.ts';
import { Lru } from './lru.ts';
import { OpenProject } from './open-project.ts';
import { isInside } from '../data/path-guard.ts';
import { createProjectLoop } from './project-loop.ts';
import { configuredQueue, runQueueExport } from './queue-export.ts';

/** The engine as the service uses it: EngineClient, or anything with the same calls. */
export interface EnginePort {
  start(): Promise<EngineStatus>;
  call<O extends Exclude<EngineOp, 'init'>>(op: O, args: EngineOps[O]['args'], options?: CallOptions): Promise<EngineOps[O]['result']>;
}

/** Runs one long operation in a worker of its own (training, evaluation). */
export type IsolatedRunner = <O extends 'train' | 'evaluate'>(
  op: O, args: EngineOps[O]['args'], options: CallOptions & { terminateOnAbort?: boolean },
) => Promise<EngineOps[O]['result']>;

export interface ServiceOptions {
  engine: EnginePort;
  runIsolated: IsolatedRunner;
  /** Where the first-launch demo images are made, and how many classes and pixels (tests make a small one). */
  demoDir: string;
  demo?: { classes?: number; size?: number };
  appVersion: string;
  log?: (line: string) => void;
}

export interface KizuService {
  handlers: KizuHandlers;
  jobs: JobRegistry;
  /** The open project, for the shell (window title, drag-and-drop). */
  project(): OpenProject | null;
}

const THUMBNAIL_CACHE_ENTRIES = 4000;

function absolute(path: string, field: string): string {
  if (!isAbsolute(path)) throw new ApiError(400, `${field}: "${path}" must be an absolute path`, field);
  return resolve(path);
}

async function existingFolder(path: string, field: string): Promise<string> {
  const abs = absolute(path, field);
  const s = await stat(abs).catch(() => null);
  if (!s) throw new ApiError(404, `${field}: "${path}" does not exist`, field);
  if (!s.isDirectory()) throw new ApiError(400, `${field}: "${path}" is not a folder`, field);
  return abs;
}

/** Engine failures that are the caller's to fix keep their status; the rest are 500s with the engine's words. */
async function engineCall<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof EngineCallError && (err.status === 409 || err.status === 501)) throw new ApiError(err.status, err.message);
    throw err;
  }
}

function reviewRecord(id: string, sidecar: Sidecar, mask: ReviewRecord['mask']): ReviewRecord {
  return { id, state: sidecar.state, params: sidecar.params, mask, score: sidecar.score, updatedAt: sidecar.updatedAt };
}

/** KizuHandlers over the project store, the engine worker and the job registry. */
export function createKizuService(opts: ServiceOptions): KizuService {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const jobs = new JobRegistry();
  const thumbnails = new Lru<string, ImagePixels>(THUMBNAIL_CACHE_ENTRIES);
  const sizes = new Lru<string, { width: number; height: number }>(THUMBNAIL_CACHE_ENTRIES);
  let current: OpenProject | null = null;

  const project = (): OpenProject => {
    if (!current) throw new ApiError(409, 'no folder is open: open a folder of images (or the demo set) first');
    return current;
  };

  const loadModelAt = async (path: string) => {
    try {
      return await opts.engine.call('loadModel', { path });
    } catch (err) {
      // A model that does not load is the file's fault, and the message says which tensor or field.
      if (err instanceof EngineCallError && err.status === undefined) throw new ApiError(400, err.message, 'path');
      throw err;
    }
  };

  const open = async (set: ImageSet) => {
    const p = await OpenProject.open(set, log);
    current = p;
    thumbnails.clear();
    // A project comes back with the model it was trained to or set to use.
    const remembered = p.settings.model;
    if (remembered !== null && (await opts.engine.call('status', {})).model?.path !== remembered) {
      await loadModelAt(remembered).catch((err: unknown) => p.report({ file: remembered, message: `the project's model does not load (${(err as Error).message}); the current model stays` }, log));
    }
    return loop.info(p);
  };

  const loop = createProjectLoop({
    jobs,
    project,
    isCurrent: (p) => current === p,
    engine: opts.engine,
    loadModel: loadModelAt,
    train: (args, ctx) => engineCall(opts.runIsolated('train', args, { signal: ctx.signal, onProgress: (u) => ctx.progress(u) })),
    log,
  });

  const imageSize = async (path: string, modifiedAt: number) => {
    const key = `${modifiedAt}\u0000${path}`;
    let size = sizes.get(key);
    if (!size) {
      const info = await probeImage(path);
      size = { width: info.width, height: info.height };
      sizes.set(key, size);
    }
    return size;
  };

  const exportPlan = async (p: OpenProject, which: 'accepted' | 'defective', fallback: ParsedRequest<'startExport'>['params']) => {
    const items: ExportPlanItem[] = [];
    for (const image of p.images()) {
      const { state } = p.summary(image.id);
      const reviewedDefect = state === 'accepted' || state === 'edited';
      if (!reviewedDefect && !(which === 'defective' && state === 'unreviewed')) continue;
      const { path } = await p.pathOf(image.id);
      const { sidecar, problem } = await p.store.read(image.id);
      if (problem) p.report(problem, log);
      items.push({
        id: image.id, path, modifiedAt: image.modifiedAt, reviewedDefect, score: sidecar.score,
        mask: sidecar.mask ? { path: p.store.maskPath(image.id, sidecar.mask.file), width: sidecar.mask.width, height: sidecar.mask.height } : null,
        params: sidecar.updatedAt !== null ? sidecar.params : fallback ?? DEFAULT_MASK_PARAMS,
      });
    }
    return items;
  };

  const handlers: KizuHandlers = {
    async engineInfo(): Promise<EngineInfo> {
      const status = await opts.engine.call('status', {});
      const queue = configuredQueue();
      return { backend: status.backend, mapsEngine: status.mapsEngine, model: status.model, version: opts.appVersion, ...(queue ? { queue: { url: redactedUrl(queue.url) } } : {}) };
    },

    openFolder: async ({ path }) => open(await scanImageFolder(absolute(path, 'path'))),

    openImages: async ({ paths }) => open(await imageFileSet(paths.map((p, i) => absolute(p, `paths.${i}`)))),

    async openDemo() {
      const { dir } = await opts.engine.call('makeDemo', { dir: opts.demoDir, ...opts.demo });
      return open(await scanImageFolder(dir));
    },

    listImages: async () => project().entries(),

    async getImage({ id }) {
      const { path } = await project().pathOf(id);
      return displayPng(path);
    },

    async getThumbnail({ id, size }) {
      const { image, path } = await project().pathOf(id);
      const key = `${image.modifiedAt}\u0000${size}\u0000${path}`;
      let thumb = thumbnails.get(key);
      if (!thumb) {
        thumb = await displayPng(path, size);
        thumbnails.set(key, thumb);
      }
      return thumb;
    },

    async explain({ id, methods, scale }) {
      const p = project();
      const { image, path } = await p.pathOf(id);
      const result = await engineCall(opts.engine.call('explain', { path, modifiedAt: image.modifiedAt, methods, scale }));
      if (p.summary(id).score !== result.defectProbability) {
        p.record(await p.store.saveScore(id, result.defectProbability, result.modelName));
      }
      const { modelName, targetClass, probabilities, defectProbability, calibrated, maps, scale: mapScale, elapsedMs } = result;
      return { id, modelName, targetClass, probabilities, defectProbability, calibrated, maps, scale: mapScale, elapsedMs };
    },

    async getReview({ id }) {
      const p = project();
      await p.pathOf(id);
      const { sidecar, mask, problem } = await p.store.loadReview(id);
      if (problem) p.report(problem, log);
      return reviewRecord(id, sidecar, mask);
    },

    async saveReview({ id, state, params, mask }) {
      const p = project();
      const { image, path } = await p.pathOf(id);
      if (mask) {
        const size = await imageSize(path, image.modifiedAt);
        if (mask.width !== size.width || mask.height !== size.height) {
          throw new ApiError(400, `saveReview: the mask is ${mask.width}x${mask.height} but ${id} is ${size.width}x${size.height}`, 'mask');
        }
      }
      const sidecar = await p.store.saveReview(id, { state, params, mask });
      p.record(sidecar);
      return reviewRecord(id, sidecar, mask);
    },

    async startExport({ format, outDir, which, params, queue }) {
      const p = project();
      const out = absolute(outDir, 'outDir');
      if (isInside(resolve(p.root, KIZU_DIR), out)) throw new ApiError(400, `outDir: "${outDir}" is inside the project's own ${KIZU_DIR} folder`, 'outDir');
      if (queue) {
        const configured = configuredQueue();
        if (!configured) throw new ApiError(409, 'queue: no work queue is configured (start Kizu with KIZU_REDIS_URL set)', 'queue');
        const model = (await opts.engine.call('status', {})).model;
        if (!model) throw new ApiError(409, 'queue: no model is loaded to send with the batch');
        const imageIds = p.images().map((i) => i.id);
        const request = { redisUrl: configured.url, root: p.root, imageIds, model: model.path, format, outDir: out, params: params ?? DEFAULT_MASK_PARAMS };
        return { jobId: jobs.start('export', imageIds.length, `sending ${imageIds.length} image(s) to the work queue`, (ctx) => runQueueExport(request, ctx)).jobId };
      }
      const items = await exportPlan(p, which, params);
      if (items.length === 0) {
        throw new ApiError(409, which === 'accepted' ? 'nothing to export: no image is accepted yet' : 'nothing to export: every image is marked OK or rejected');
      }
      const { jobId } = jobs.start('export', items.length, `exporting ${items.length} image(s) as ${format}`, async (ctx) => {
        const result = await opts.engine.call('export', { format, outDir: out, items }, { signal: ctx.signal, onProgress: (u) => ctx.progress(u) });
        for (const s of result.scores) if (current === p) p.record(await p.store.saveScore(s.id, s.score, s.model));
        return { outDir: result.outDir, format: result.format, images: result.images, skippedAsOk: result.skippedAsOk, files: result.files.length };
      });
      return { jobId };
    },

    ...loop.handlers,

    async useProjectModel({ path }) {
      return loop.handlers.useProjectModel({ path: absolute(path, 'path') });
    },

    async startTraining(params) {
      if (params.data === undefined) {
        if (params.pretextOnly) throw new ApiError(400, 'pretextOnly: pretraining reads a folder of OK images; name it in data', 'data');
        return loop.trainFromProject({ ...params, ...(params.out ? { out: absolute(params.out, 'out') } : {}) });
      }
      const data = await existingFolder(params.data, 'data');
      if (params.out === undefined) throw new ApiError(400, 'out: where to write the model is needed when training on a dataset folder', 'out');
      const out = absolute(params.out, 'out');
      const { jobId } = jobs.start('train', 0, `training on ${data}`, (ctx) =>
        engineCall(opts.runIsolated('train', { ...params, data, out }, { signal: ctx.signal, onProgress: (u) => ctx.progress(u) })));
      return { jobId };
    },

    async startEvaluation({ data, model }) {
      const folder = await existingFolder(data, 'data');
      const modelPath = model ? absolute(model, 'model') : (await opts.engine.call('status', {})).model?.path;
      if (!modelPath) throw new ApiError(409, 'no model to evaluate: load one first or name one', 'model');
      const { jobId } = jobs.start('evaluate', 0, `evaluating ${modelPath} on ${folder}`, (ctx) =>
        engineCall(opts.runIsolated('evaluate', { data: folder, model: modelPath }, { signal: ctx.signal, onProgress: (u) => ctx.progress(u), terminateOnAbort: true })));
      return { jobId };
    },

    cancelJob: async ({ jobId }) => ({ cancelled: jobs.cancel(jobId) }),

    listJobs: async () => jobs.list(),

    loadModel: async ({ path }) => loadModelAt(absolute(path, 'path')),
  };

  return { handlers, jobs, project: () => current };
}
