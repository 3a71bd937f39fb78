import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { describeIssues } from '../annotate/formats/common.ts';
import { chunkJobSchema, chunkResultSchema, mergeJobSchema, QUEUE_NAME, type ChunkJob, type ChunkResult } from './export-queue.ts';
import { canonicalSettings, modelDigest } from './export-settings.ts';
import { readManifest, withRoot, type ImageManifest } from './image-manifest.ts';
import { MaskExporter } from './mask-exporter.ts';
import { mergeParts } from './part-merge.ts';
import { PART_FORMAT, type PartHeader } from './part-store.ts';
import { exportRange } from './range-export.ts';

/** A job's data as its schema says, or a failure no retry can mend (a job of another Kizu version, or not Kizu's). */
function jobData<T>(schema: z.ZodType<T>, job: Job): T {
  const parsed = schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(describeIssues(`job ${job.id} (${job.name})`, parsed.error.issues));
  return parsed.data;
}

/** How often a running chunk tells Redis how far it is (kizu queue status's images and ETA). */
const PROGRESS_EVERY_MS = 5000;

export interface WorkerOptions {
  /** How long a job stays this worker's without a sign of life; after that another worker takes it over. */
  lockMs: number;
  /** Where this machine finds the batch's images, when not where the manifest says. */
  root?: string;
  log: (line: string) => void;
}

/**
 * One worker: one job at a time in this process, the engine opened once and kept while the
 * jobs use the same model and settings. A job whose worker dies (killed, its machine gone)
 * keeps its lock only until lockMs passes; the stalled check of any other worker then puts it
 * back in the queue, and its next run carries on from the part the first one wrote.
 */
export class QueueWorker {
  private exporter: { key: string; exporter: MaskExporter } | undefined;
  private readonly manifests = new Map<string, ImageManifest>();
  private readonly digests = new Map<string, string>();
  private readonly worker: Worker;

  constructor(connection: Redis, private readonly options: WorkerOptions) {
    this.worker = new Worker(QUEUE_NAME, (job) => this.process(job), {
      connection,
      concurrency: 1,
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
      // A job may outlive several dead workers; each run resumes, so stalls cost little.
      maxStalledCount: 10,
      name: `${hostname()}:${process.pid}`,
    });
    this.worker.on('failed', (job, err) => options.log(`${job?.id ?? 'a job'} failed: ${err.message}`));
    this.worker.on('error', (err) => options.log(`worker: ${err.message}`));
  }

  private async process(job: Job): Promise<unknown> {
    if (job.name === 'chunk') return this.chunk(job, jobData(chunkJobSchema, job));
    if (job.name === 'merge') {
      const merge = jobData(mergeJobSchema, job);
      this.options.log(`${job.id}: merging ${merge.chunks} part(s) as ${merge.format} into ${merge.out}`);
      const report = await mergeParts([merge.parts], merge.format, merge.out);
      for (const line of report.failures) this.options.log(`${job.id}: left out, failed in its chunk: ${line}`);
      return { annotated: report.annotated, failed: report.failures, summary: `${report.annotated} annotated image(s)${report.failures.length ? `, ${report.failures.length} failed and left out` : ''}` };
    }
    throw new UnrecoverableError(`unknown job kind "${job.name}"`);
  }

  private async chunk(job: Job, data: ChunkJob): Promise<ChunkResult> {
    // Keyed by the file's identity too: a model replaced in place while the worker runs is hashed again.
    const { mtimeMs, size } = await stat(data.model);
    const digest = await this.cached(this.digests, `${data.model}:${mtimeMs}:${size}`, () => modelDigest(data.model));
    if (digest !== data.modelDigest) {
      throw new UnrecoverableError(`the model at ${data.model} on ${hostname()} is not the one the batch was submitted with (sha256 ${digest.slice(0, 12)}, not ${data.modelDigest.slice(0, 12)})`);
    }
    const manifest = withRoot(await this.cached(this.manifests, data.manifest, () => readManifest(data.manifest)), this.options.root ?? data.root);
    const settings = canonicalSettings(data.settings);
    const exporter = await this.engine(data.model, settings);
    // From here: the engine is open (a one-time cost a plain export has too).
    const startedAt = Date.now();
    const header: PartHeader = {
      format: PART_FORMAT,
      version: 1,
      manifest: { digest: manifest.digest, images: manifest.ids.length },
      range: data.range,
      model: { name: exporter.modelName, digest },
      settings,
    };
    const images = data.range.end - data.range.start;
    let lastProgress = 0;
    const result = await exportRange(exporter, manifest, data.parts, header, {
      // Every few seconds, not per image: a Redis round trip per image cost as much as appending the part.
      onImage: (_id, done) => {
        const now = Date.now();
        if (now - lastProgress < PROGRESS_EVERY_MS && done < images) return;
        lastProgress = now;
        return job.updateProgress(done);
      },
      onFailure: (line) => this.options.log(`${job.id}: ${line}`),
    });
    const finishedAt = Date.now();
    const ms = (v: number) => `${Math.round(v)} ms`;
    const engineShare = ` ${((finishedAt - startedAt) / 1000).toFixed(1)} s: engine ${ms(result.engineMs)}, part ${ms(result.partMs)}, progress ${ms(result.hookMs)}`;
    this.options.log(`${job.id}: images ${data.range.start}..${data.range.end - 1} done (${result.exported} exported, ${result.skipped} done before${result.failed ? `, ${result.failed} failed` : ''};${engineShare})`);
    return chunkResultSchema.parse({ images, exported: result.exported, skipped: result.skipped, failed: result.failed, startedAt, finishedAt, engineMs: result.engineMs });
  }

  private async engine(model: string, settings: ChunkJob['settings']): Promise<MaskExporter> {
    const key = JSON.stringify([model, settings]);
    if (this.exporter?.key !== key) {
      this.exporter?.exporter.dispose();
      this.exporter = undefined;
      this.exporter = { key, exporter: await MaskExporter.open(model, settings) };
      this.options.log(`engine: ${this.exporter.exporter.modelName} on ${this.exporter.exporter.engine}`);
    }
    return this.exporter.exporter;
  }

  private async cached<T>(map: Map<string, T>, key: string, make: () => Promise<T>): Promise<T> {
    let value = map.get(key);
    if (value === undefined) {
      value = await make();
      map.set(key, value);
    }
    return value;
  }

  /** Finishes the job in hand, then stops taking jobs. */
  async close(): Promise<void> {
    await this.worker.close();
    this.exporter?.exporter.dispose();
  }
}
