import type { Command } from 'commander';
import { benchEngine } from '../bench/engine.ts';
import { benchLongRun } from '../bench/long-run.ts';
import { formatProfile, profileExplain, profileOnnxTrainingStep, profileTrainingStep, type WorkProfile } from '../bench/profile.ts';
import { benchPytorch } from '../bench/pytorch.ts';
import { benchQueue } from '../bench/queue-run.ts';
import { benchRefine } from '../bench/refine.ts';
import { benchThreshold } from '../bench/threshold.ts';
import { peakRssMiB } from '../bench/timing.ts';
import { benchTraining } from '../bench/training.ts';
import { initBackend } from '../engine/backend.ts';
import { chooseTrainingEngine } from '../engine/onnx/onnx-training.ts';
import { positiveInt } from './cli-options.ts';
import { terminalProgress } from './progress.ts';

/** Images in the default run's batch explain + export figure: enough to pass the model's first-call costs. */
const BATCH_IMAGES = 40;

/** PyTorch 1.13 on this machine class, 2 threads (shared/FACTS.md): the long-run bar. */
const PYTORCH_MS = { forward_224: 54, forward_512: 266, layercam_layer3_224: 71, layercam_layer3_512: 320 };
/** PyTorch, full-width ResNet50 training step, batch 8 at 224: 1,664 ms. */
const PYTORCH_TRAIN_224_IMAGES_PER_S = 8 / 1.664;

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure the engine on this machine and print one JSON line')
    .option('--runs <n>', 'timed runs per figure', (v) => Number.parseInt(v, 10), 5)
    .option('--sizes <list>', 'input sizes', (v) => v.split(',').map(Number), [224, 512])
    .option('--no-training', 'skip the training-step figures (the slowest part)')
    .option('--no-pytorch', 'skip PyTorch\'s figures for the same work (measured where Debian\'s python3-torch is installed)')
    .option('--profile', 'instead: where an explain (224 and 512 px) and a training micro-batch (the default recipe\'s and full width, on onnxruntime and on tfjs) spend their time, kernel by kernel, as Markdown tables (--json: one JSON line)')
    .option('--json', 'with --profile: the profile as one JSON line')
    .option('--long [images]', 'instead: the long run, a batch explain + COCO export of this many images (default 1000) through the app\'s engine, with memory at 100 and at the end', positiveInt('--long'))
    .option('--long-size <px>', 'with --long or --queue: the images\' side', positiveInt('--long-size'), 512)
    .option('--queue [images]', 'instead: batch export of this many images (default 1000) as a plain kizu export, on the work queue with one worker and with two (a Redis of its own on loopback), and as one shard with its memory at 100 images and 10 before the end', positiveInt('--queue'))
    .option('--queue-chunk <n>', 'with --queue: images per job', positiveInt('--queue-chunk'), 64)
    .action(async (opts: { runs: number; sizes: number[]; training: boolean; pytorch: boolean; long?: number | true; longSize: number; queue?: number | true; queueChunk: number; profile?: boolean; json?: boolean }) => {
      if (opts.queue !== undefined) {
        const images = opts.queue === true ? 1000 : opts.queue;
        const r = await benchQueue({ images, size: opts.longSize, chunk: opts.queueChunk, checkpoints: [...new Set([Math.min(100, images), Math.max(1, images - 10)])], onStage: (stage) => process.stderr.write(`kizu bench --queue: ${stage}\n`) });
        const perS = (seconds: number) => round2(r.images / seconds);
        const [first, last] = [r.shardRss[0], r.shardRss.at(-1)];
        process.stdout.write(`${JSON.stringify({
          queue_images: r.images, queue_size: r.size, queue_chunk: opts.queueChunk, queue_model: r.model,
          // Wall clock, each run's start-up, model load, submit and merge included:
          plain_export_images_per_s: perS(r.plainSeconds), queue_1_worker_images_per_s: perS(r.queueOneWorkerSeconds), queue_2_workers_images_per_s: perS(r.queueTwoWorkersSeconds), shard_images_per_s: perS(r.shardSeconds),
          queue_wall_overhead_pct: round2((100 * (r.queueOneWorkerSeconds - r.plainSeconds)) / r.plainSeconds),
          // Steady rates, first image written to last (a shard is the plain export writing its part as it goes):
          steady_shard_images_per_s: round2(r.shardRate), steady_queue_1_worker_images_per_s: round2(r.queueOneWorkerRate), steady_queue_2_workers_images_per_s: round2(r.queueTwoWorkersRate),
          // One worker's chunks, start to end, against the time in their engine steps (all a plain export spends per image):
          queue_overhead_pct: r.queueOverhead === null ? null : round2(100 * r.queueOverhead),
          shard_rss: r.shardRss, shard_rss_growth_mib: first && last ? round2(last.rssMiB - first.rssMiB) : null,
        })}\n`);
        return;
      }
      const backend = await initBackend();
      if (opts.profile) {
        const profiles: WorkProfile[] = [];
        for (const size of opts.sizes) profiles.push(await profileExplain(size));
        // The default recipe's configuration (width 16, 512 px, micro-batch 4), then full width at 224: on onnxruntime where it loads (training's engine), and on tfjs.
        const configurations = [{ inputSize: 512, width: 16, microBatch: 4 }, { inputSize: 224, width: 64, microBatch: 4 }];
        if ((await chooseTrainingEngine()).name === 'onnxruntime') for (const c of configurations) profiles.push(await profileOnnxTrainingStep(c));
        for (const c of configurations) profiles.push(await profileTrainingStep(c));
        if (opts.json) process.stdout.write(`${JSON.stringify({ backend: backend.name, version: backend.version, threads: backend.threads, profiles })}\n`);
        else process.stdout.write(`backend: ${backend.name} ${backend.version}, ${backend.threads} thread(s)\n\n${profiles.map((p) => formatProfile(p)).join('\n\n')}\n`);
        return;
      }
      if (opts.long !== undefined) {
        const images = opts.long === true ? 1000 : opts.long;
        const progress = terminalProgress(images, 'long run');
        const run = await benchLongRun({ images, size: opts.longSize, checkpoints: [...new Set([Math.min(100, images), images])], onProgress: (done) => done > 0 && progress.tick(`${done}`) });
        progress.stop();
        const [first, last] = [run.samples[0], run.samples.at(-1)!];
        const line = {
          backend: backend.name, version: backend.version, threads: backend.threads, explain_engine: run.engine, long_images: run.images, long_size: run.size, long_model: run.model,
          long_seconds: run.seconds, long_images_per_s: round2(run.images / run.seconds), long_exported: run.exported,
          long_num_tensors_growth: last.numTensors - first.numTensors, long_rss_growth_mib: round2(last.rssMiB - first.rssMiB),
          long_samples: run.samples, peak_rss_mib: peakRssMiB(),
        };
        process.stdout.write(`${JSON.stringify(line)}\n`);
        return;
      }
      const { figures: engine, engine: explainEngine } = await benchEngine(opts.sizes, opts.runs);
      const threshold = await benchThreshold();
      const refine = await benchRefine();
      // The batch path (explain every image, make its mask, one COCO export) at the size that matters; --long runs it at length.
      const batch = await benchLongRun({ images: BATCH_IMAGES, size: 512, checkpoints: [BATCH_IMAGES] });
      const batchFigures = { batch_512_images: batch.images, batch_512_images_per_s: round2(batch.images / batch.seconds) };
      // Full width at 224, and the default recipe's configuration as `kizu train` runs it; on tfjs too where that is the fallback.
      const trainEngine = await chooseTrainingEngine();
      const training: Record<string, number> = {};
      if (opts.training) {
        const engines = trainEngine.name === 'tfjs' ? (['tfjs'] as const) : (['onnxruntime', 'tfjs'] as const);
        for (const engine of engines) {
          const suffix = engine === trainEngine.name ? '' : `_${engine}`;
          Object.assign(training, await benchTraining({ engine, backend: backend.name, name: `224${suffix}` }));
          Object.assign(training, await benchTraining({ engine, backend: backend.name, inputSize: 512, width: 16, batch: 16, microBatch: 4, name: `default${suffix}` }));
        }
      }
      const torch = opts.pytorch ? await benchPytorch(2, { runs: Math.max(2, Math.min(opts.runs, 5)), sizes: opts.sizes }) : { figures: null, reason: 'skipped (--no-pytorch)' };
      const ratios: Record<string, number> = {};
      for (const size of opts.sizes) {
        const fwd = PYTORCH_MS[`forward_${size}` as keyof typeof PYTORCH_MS];
        const cam = PYTORCH_MS[`layercam_layer3_${size}` as keyof typeof PYTORCH_MS];
        if (fwd) ratios[`forward_${size}_vs_pytorch`] = round2(engine[`forward_${size}_ms`] / fwd);
        if (cam) ratios[`explain3_${size}_vs_pytorch_layercam_layer3`] = round2(engine[`explain3_${size}_ms`] / cam);
      }
      if (training.train_224_images_per_s) ratios.train_224_vs_pytorch = round2(PYTORCH_TRAIN_224_IMAGES_PER_S / training.train_224_images_per_s);
      // Measured in this run: what issue 13's targets are stated in.
      const live = torch.figures;
      if (live) {
        for (const size of opts.sizes) {
          const one = live[`pytorch_layercam1_${size}_ms`];
          if (typeof one === 'number') ratios[`explain3_${size}_over_pytorch_layercam1`] = round2(engine[`explain3_${size}_ms`] / one);
        }
        for (const name of ['224', 'default']) {
          const theirs = live[`pytorch_train_${name}_images_per_s`];
          const ours = training[`train_${name}_images_per_s`];
          if (typeof theirs === 'number' && ours) ratios[`train_${name}_share_of_pytorch`] = round2(ours / theirs);
        }
      }
      const line = {
        backend: backend.name, version: backend.version, threads: backend.threads, simd: backend.simd, explain_engine: explainEngine, train_engine: trainEngine.name, ...engine, ...threshold, ...refine, ...batchFigures, ...training,
        ...(live ?? { pytorch: torch.reason ?? 'not measured' }), ...ratios, peak_rss_mib: peakRssMiB(),
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    });
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
