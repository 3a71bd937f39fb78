import { join } from 'node:path';
import type { ExportFormat, MaskParams } from '../api.ts';
import { batchStatus, formatStatus, newBatchId, submitBatch } from '../batch/export-queue.ts';
import { canonicalSettings, type ExportSettings } from '../batch/export-settings.ts';
import { manifestDigest, writeManifest } from '../batch/image-manifest.ts';
import { connectRedis, redactedUrl } from '../batch/redis-connection.ts';
import { KIZU_DIR } from '../data/project-store.ts';
import { modelDefaults } from '../engine/model-defaults.ts';
import type { JobContext } from './jobs.ts';

/** The work queue the app sends batches to: KIZU_REDIS_URL in the app's environment, as kizu worker reads it. */
export function configuredQueue(env: NodeJS.ProcessEnv = process.env): { url: string } | null {
  const url = env.KIZU_REDIS_URL;
  return url ? { url } : null;
}

export interface QueueExportRequest {
  redisUrl: string;
  /** The project's folder and its images (relative to it, in the gallery's order). */
  root: string;
  imageIds: string[];
  model: string;
  format: ExportFormat;
  outDir: string;
  params: MaskParams;
  /** Seconds between two looks at the batch's progress. */
  pollSeconds?: number;
}

/** Images per queue job, as kizu queue submit's default. */
const CHUNK = 256;

/**
 * The dialog's mask params as a batch's settings: its threshold, or the model's default for the
 * map where it asks for that; images annotated where the model's score reaches its decision
 * threshold, as `kizu export` decides without --min-score.
 */
export async function queueSettings(model: string, params: MaskParams): Promise<ExportSettings> {
  const defaults = await modelDefaults(model, params.method, params.layer);
  return canonicalSettings({
    method: params.method,
    layer: params.layer,
    threshold: params.threshold.kind === 'model-default' ? { kind: 'value', value: defaults.threshold } : params.threshold,
    minArea: params.cleanup.minArea,
    open: params.cleanup.openRadius,
    close: params.cleanup.closeRadius,
    fillHoles: params.cleanup.fillHoles,
    minScore: defaults.minScore,
    all: false,
  });
}

/**
 * Sends every image of the project to the work queue as one batch, then follows it until its
 * merge has written the export. The manifest and the parts live in the project's own folder,
 * which the workers reach since they read its images. Cancelling stops following; the batch
 * goes on on the queue (`kizu queue status` still shows it).
 */
export async function runQueueExport(req: QueueExportRequest, ctx: JobContext): Promise<Record<string, unknown>> {
  const settings = await queueSettings(req.model, req.params);
  const redis = await connectRedis(req.redisUrl);
  try {
    const batch = newBatchId();
    const dir = join(req.root, KIZU_DIR, 'queue', batch);
    const manifest = join(dir, 'list.jsonl');
    await writeManifest(manifest, { root: req.root, ids: req.imageIds, digest: manifestDigest(req.imageIds) });
    await submitBatch(redis, { manifest, chunk: CHUNK, parts: join(dir, 'parts'), format: req.format, out: req.outDir, model: req.model, settings, batch });
    ctx.progress({ done: 0, total: req.imageIds.length, message: `${batch} queued on ${redactedUrl(req.redisUrl)}: waiting for kizu worker` });
    for (;;) {
      const status = await batchStatus(redis, batch);
      ctx.progress({ done: status.imagesDone, total: status.images, etaSeconds: status.etaSeconds ?? null, message: formatStatus(status) });
      if (status.state === 'completed') return { outDir: req.outDir, format: req.format, batch, images: status.images, summary: status.result };
      if (status.state === 'failed') throw new Error(`${batch}: ${status.result ?? 'failed on the queue'}`);
      if (ctx.signal.aborted) return { batch, followed: false };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, (req.pollSeconds ?? 2) * 1000);
        ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  } finally {
    redis.disconnect();
  }
}
