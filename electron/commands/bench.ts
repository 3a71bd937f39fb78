import type { Command } from 'commander';
import { benchEngine } from '../bench/engine.ts';
import { benchThreshold } from '../bench/threshold.ts';
import { peakRssMiB } from '../bench/timing.ts';
import { benchTraining } from '../bench/training.ts';
import { initBackend } from '../engine/backend.ts';

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
    .option('--no-training', 'skip the training-step figure (the slowest part)')
    .action(async (opts: { runs: number; sizes: number[]; training: boolean }) => {
      const backend = await initBackend();
      const engine = await benchEngine(opts.sizes, opts.runs);
      const threshold = await benchThreshold();
      const training = opts.training ? await benchTraining({ backend: backend.name }) : {};
      const ratios: Record<string, number> = {};
      for (const size of opts.sizes) {
        const fwd = PYTORCH_MS[`forward_${size}` as keyof typeof PYTORCH_MS];
        const cam = PYTORCH_MS[`layercam_layer3_${size}` as keyof typeof PYTORCH_MS];
        if (fwd) ratios[`forward_${size}_vs_pytorch`] = round2(engine[`forward_${size}_ms`] / fwd);
        if (cam) ratios[`explain3_${size}_vs_pytorch_layercam_layer3`] = round2(engine[`explain3_${size}_ms`] / cam);
      }
      if (training.train_224_images_per_s) ratios.train_224_vs_pytorch = round2(PYTORCH_TRAIN_224_IMAGES_PER_S / training.train_224_images_per_s);
      const line = { backend: backend.name, version: backend.version, threads: backend.threads, simd: backend.simd, ...engine, ...threshold, ...training, ...ratios, peak_rss_mib: peakRssMiB() };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    });
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
