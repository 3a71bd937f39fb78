import type { Command } from 'commander';
import { EXPORT_FORMATS, type ExportFormat } from '../annotate/formats/index.ts';
import { batchStatus, formatStatus, submitBatch } from '../batch/export-queue.ts';
import { connectRedis, redactedUrl } from '../batch/redis-connection.ts';
import { choice, positiveInt } from './cli-options.ts';
import { addMaskOptions, settingsOf, type MaskCliOptions } from './export.ts';

/** --redis, else KIZU_REDIS_URL (which keeps a password out of the process list). */
export function redisUrlOf(opts: { redis?: string }): string {
  const url = opts.redis ?? process.env.KIZU_REDIS_URL;
  if (!url) throw new Error('give --redis URL or set KIZU_REDIS_URL (redis://[:password@]host:port, rediss:// for TLS)');
  return url;
}

interface SubmitCliOptions extends MaskCliOptions {
  redis?: string;
  manifest: string;
  images?: string;
  chunk: number;
  parts: string;
  format: ExportFormat;
  out: string;
  batch?: string;
}

interface StatusCliOptions {
  redis?: string;
  batch?: string;
  watch?: number;
}

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('batch export on a work queue (BullMQ on Redis) that kizu worker processes take from');
  const submit = queue
    .command('submit')
    .description('split a manifest into jobs of --chunk images, and a merge job that runs once they are all done')
    .option('--redis <url>', 'redis://[:password@]host:port or rediss:// (TLS); default KIZU_REDIS_URL')
    .requiredOption('--manifest <file>', 'the image list made by kizu manifest, at a path every worker reaches')
    .option('--images <dir>', 'where the workers find the images, when not at the manifest\'s root')
    .option('--chunk <n>', 'images per job', positiveInt('--chunk'), 256)
    .requiredOption('--parts <dir>', 'the parts folder, on storage every worker reaches')
    .requiredOption('--format <name>', `the merged export's format: ${EXPORT_FORMATS.join(', ')}`, choice('--format', EXPORT_FORMATS))
    .requiredOption('--out <dir>', 'the merged export\'s folder')
    .option('--batch <id>', 'a name for the batch (default: made from the time)');
  addMaskOptions(submit).action(async (opts: SubmitCliOptions) => {
    const url = redisUrlOf(opts);
    const redis = await connectRedis(url);
    try {
      const { batch, chunks, images } = await submitBatch(redis, {
        manifest: opts.manifest,
        root: opts.images,
        chunk: opts.chunk,
        parts: opts.parts,
        format: opts.format,
        out: opts.out,
        model: opts.model,
        settings: await settingsOf(opts),
        batch: opts.batch,
      });
      process.stdout.write(`${batch}\n`);
      process.stderr.write(`kizu queue: ${batch}: ${images} image(s) in ${chunks} job(s) of up to ${opts.chunk} on ${redactedUrl(url)}; start kizu worker on each machine, follow with kizu queue status --batch ${batch}\n`);
    } finally {
      redis.disconnect();
    }
  });

  queue
    .command('status')
    .description("a batch's progress: images and chunks done, rate and ETA, the merge")
    .option('--redis <url>', 'redis://[:password@]host:port or rediss:// (TLS); default KIZU_REDIS_URL')
    .option('--batch <id>', 'which batch (default: the newest)')
    .option('--watch <seconds>', 'print again every so many seconds until the batch has finished', positiveInt('--watch'))
    .action(async (opts: StatusCliOptions) => {
      const redis = await connectRedis(redisUrlOf(opts));
      try {
        for (;;) {
          const status = await batchStatus(redis, opts.batch);
          process.stdout.write(`${formatStatus(status)}\n`);
          if (status.state === 'failed') process.exitCode = 1;
          if (!opts.watch || status.state === 'completed' || status.state === 'failed') break;
          await new Promise((r) => setTimeout(r, opts.watch! * 1000));
        }
      } finally {
        redis.disconnect();
      }
    });
}
