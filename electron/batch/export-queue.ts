import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { FlowProducer, Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { EXPORT_FORMATS, type ExportFormat } from '../annotate/formats/index.ts';
import { exportSettingsSchema, modelDigest, type ExportSettings } from './export-settings.ts';
import { readManifest } from './image-manifest.ts';
import { chunkRanges } from './shard.ts';

/*
 * A batch on the work queue is a BullMQ flow: one job per chunk of the manifest (its part),
 * and a merge job as their parent, which BullMQ starts only once every chunk has completed.
 * Workers on any machine take jobs; the manifest's images, the parts folder and the output
 * folder are paths every worker reaches (a shared file system), as they are for array engines.
 */

export const QUEUE_NAME = 'kizu-export';

export const chunkJobSchema = z.object({
  batch: z.string(),
  manifest: z.string(),
  /** Where the workers find the manifest's images, when not at its own root. */
  root: z.string().optional(),
  range: z.object({ start: z.number().int().nonnegative(), end: z.number().int().positive() }),
  parts: z.string(),
  model: z.string(),
  modelDigest: z.string(),
  settings: exportSettingsSchema,
});
export type ChunkJob = z.infer<typeof chunkJobSchema>;

export const mergeJobSchema = z.object({
  batch: z.string(),
  parts: z.string(),
  format: z.enum(EXPORT_FORMATS),
  out: z.string(),
  images: z.number().int().nonnegative(),
  chunks: z.number().int().positive(),
  submittedAt: z.number(),
});
export type MergeJob = z.infer<typeof mergeJobSchema>;

/** What a chunk job returns: how many of its images it exported, and when it ran. */
export const chunkResultSchema = z.object({
  images: z.number().int().nonnegative(),
  exported: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  startedAt: z.number(),
  finishedAt: z.number(),
  /** Of the job's time, what the engine step took: the rest is the queue's and the part's. */
  engineMs: z.number().nonnegative().optional(),
});
export type ChunkResult = z.infer<typeof chunkResultSchema>;

export interface SubmitOptions {
  manifest: string;
  root?: string;
  chunk: number;
  parts: string;
  format: ExportFormat;
  out: string;
  model: string;
  settings: ExportSettings;
  batch?: string;
}

/** A failed chunk is tried again (it carries on from its part); a stalled one (its worker gone) goes back to the queue. */
const CHUNK_ATTEMPTS = 3;

export function newBatchId(): string {
  return `batch-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
}

/**
 * Checks the manifest and model here, then queues the batch as one flow in one transaction:
 * either every job is queued or none is.
 */
export async function submitBatch(connection: Redis, opts: SubmitOptions): Promise<{ batch: string; chunks: number; images: number }> {
  const manifestPath = resolve(opts.manifest);
  const manifest = await readManifest(manifestPath);
  if (manifest.ids.length === 0) throw new Error(`manifest ${opts.manifest}: lists no images`);
  const model = resolve(opts.model);
  const digest = await modelDigest(model);
  const batch = opts.batch ?? newBatchId();
  if (!/^[\w.-]+$/.test(batch)) throw new Error(`--batch must be letters, digits, ".", "_" or "-", not "${batch}"`);
  const queue = new Queue(QUEUE_NAME, { connection });
  try {
    if (await queue.getJob(batch)) throw new Error(`queue: a batch "${batch}" is already queued; give another --batch`);
  } finally {
    await queue.close();
  }
  const parts = resolve(opts.parts);
  const ranges = chunkRanges(manifest.ids.length, opts.chunk);
  const merge: MergeJob = { batch, parts, format: opts.format, out: resolve(opts.out), images: manifest.ids.length, chunks: ranges.length, submittedAt: Date.now() };
  const flow = new FlowProducer({ connection });
  try {
    await flow.add({
      name: 'merge',
      queueName: QUEUE_NAME,
      data: merge,
      opts: { jobId: batch, attempts: CHUNK_ATTEMPTS, backoff: { type: 'exponential', delay: 5000 } },
      children: ranges.map((range) => ({
        name: 'chunk',
        queueName: QUEUE_NAME,
        data: { batch, manifest: manifestPath, root: opts.root ? resolve(opts.root) : undefined, range, parts, model, modelDigest: digest, settings: opts.settings } satisfies ChunkJob,
        opts: { jobId: `${batch}.${range.start}`, attempts: CHUNK_ATTEMPTS, backoff: { type: 'exponential', delay: 5000 }, failParentOnFailure: true },
      })),
    });
  } finally {
    await flow.close();
  }
  return { batch, chunks: ranges.length, images: manifest.ids.length };
}

export interface BatchStatus {
  batch: string;
  state: string;
  images: number;
  imagesDone: number;
  chunks: number;
  chunksDone: number;
  chunksRunning: number;
  chunksFailed: number;
  /** Images per second since the first chunk started, once one has finished. */
  rate?: number;
  etaSeconds?: number;
  merge: MergeJob;
  /** The merge job's result or failure, once it has one. */
  result?: string;
}

/** The newest batch's progress (or the named one's), from the jobs themselves. */
export async function batchStatus(connection: Redis, batch?: string, now = Date.now()): Promise<BatchStatus> {
  const queue = new Queue(QUEUE_NAME, { connection });
  try {
    const id = batch ?? (await newestBatch(queue))?.id;
    // The state is read before the job: a merge that finishes in between then shows as still
    // running, never as completed with the result its stale copy did not yet hold.
    const state = id === undefined ? 'unknown' : await queue.getJobState(id);
    const parent = id === undefined ? undefined : await queue.getJob(id);
    if (!parent) throw new Error(batch ? `queue: no batch "${batch}" on this Redis` : 'queue: no batch on this Redis; submit one with kizu queue submit');
    const merge = mergeJobSchema.parse(parent.data);
    let imagesDone = 0;
    let startedAt = Number.POSITIVE_INFINITY;
    const processed = await processedChildren(parent);
    for (const value of processed) {
      const r = chunkResultSchema.safeParse(typeof value === 'string' ? JSON.parse(value) : value);
      if (!r.success) continue;
      imagesDone += r.data.images;
      startedAt = Math.min(startedAt, r.data.startedAt);
    }
    let running = 0;
    for (const job of await queue.getActive()) {
      if (job.name !== 'chunk' || job.parentKey !== parentKeyOf(parent)) continue;
      running++;
      if (typeof job.progress === 'number') imagesDone += job.progress;
      if (job.processedOn) startedAt = Math.min(startedAt, job.processedOn);
    }
    const failed = (await parent.getDependenciesCount({ failed: true })).failed ?? 0;
    const status: BatchStatus = {
      batch: parent.id!,
      state,
      images: merge.images,
      imagesDone: state === 'completed' ? merge.images : imagesDone,
      chunks: merge.chunks,
      chunksDone: processed.length,
      chunksRunning: running,
      chunksFailed: failed,
      merge,
    };
    if (processed.length > 0 && Number.isFinite(startedAt) && now > startedAt && state !== 'completed') {
      status.rate = imagesDone / ((now - startedAt) / 1000);
      if (status.rate > 0) status.etaSeconds = (merge.images - imagesDone) / status.rate;
    }
    if (state === 'completed') status.result = String(parent.returnvalue?.summary ?? 'done');
    if (state === 'failed') status.result = parent.failedReason;
    return status;
  } finally {
    await queue.close();
  }
}

/** Every completed chunk's return value: Redis hands a large batch's over in pages, which may repeat a child. */
export async function processedChildren(parent: Job): Promise<unknown[]> {
  const values = new Map<string, unknown>();
  let cursor = 0;
  do {
    const page = await parent.getDependencies({ processed: { cursor, count: 1000 } });
    for (const [key, value] of Object.entries(page.processed ?? {})) values.set(key, value);
    cursor = page.nextProcessedCursor ?? 0;
  } while (cursor !== 0);
  return [...values.values()];
}

function parentKeyOf(parent: Job): string {
  return `${parent.queueQualifiedName}:${parent.id}`;
}

async function newestBatch(queue: Queue): Promise<Job | undefined> {
  const jobs = await queue.getJobs(['waiting-children', 'waiting', 'active', 'completed', 'failed', 'prioritized', 'delayed'], 0, -1);
  return jobs.filter((j) => j.name === 'merge').sort((a, b) => b.timestamp - a.timestamp)[0];
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function formatStatus(s: BatchStatus): string {
  const pct = s.images ? ((100 * s.imagesDone) / s.images).toFixed(1) : '100.0';
  const rate = s.rate !== undefined ? `; ${s.rate.toFixed(2)} images/s, ETA ${s.etaSeconds !== undefined ? formatDuration(s.etaSeconds) : 'unknown'}` : '';
  const merge =
    s.state === 'completed' ? `merged as ${s.merge.format} in ${s.merge.out}: ${s.result}` :
    s.state === 'failed' ? `failed: ${s.result}` :
    s.state === 'waiting-children' ? 'merge waits for the chunks' : `merge ${s.state}`;
  return `${s.batch}: ${s.imagesDone.toLocaleString('en-US')}/${s.images.toLocaleString('en-US')} images (${pct} %), ${s.chunksDone}/${s.chunks} chunks done, ${s.chunksRunning} running, ${s.chunksFailed} failed${rate}; ${merge}`;
}
