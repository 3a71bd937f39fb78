import type { Command } from 'commander';
import { benchEngine } from '../bench/engine.ts';
import { peakRssMiB } from '../bench/timing.ts';
import { initBackend } from '../engine/backend.ts';

/** PyTorch 1.13 on this machine class, 2 threads (shared/FACTS.md): the long-run bar. */
const PYTORCH_MS = { forward_224: 54, forward_512: 266, layercam_layer3_224: 71, layercam_layer3_512: 320 };

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure the engine on this machine and print one JSON line')
    .option('--runs <n>', 'timed runs per figure', (v) => Number.parseInt(v, 10), 5)
    .option('--sizes <list>', 'input sizes', (v) => v.split(',').map(Number), [224, 512])
    .action(async (opts: { runs: number; sizes: number[] }) => {
      const backend = await initBackend();
      const engine = await benchEngine(opts.sizes, opts.runs);
      const ratios: Record<string, number> = {};
      for (const size of opts.sizes) {
        const fwd = PYTORCH_MS[`forward_${size}` as keyof typeof PYTORCH_MS];
        const cam = PYTORCH_MS[`layercam_layer3_${size}` as keyof typeof PYTORCH_MS];
        if (fwd) ratios[`forward_${size}_vs_pytorch`] = round2(engine[`forward_${size}_ms`] / fwd);
        if (cam) ratios[`explain3_${size}_vs_pytorch_layercam_layer3`] = round2(engine[`explain3_${size}_ms`] / cam);
      }
      const line = { backend: backend.name, version: backend.version, threads: backend.threads, simd: backend.simd, ...engine, ...ratios, peak_rss_mib: peakRssMiB() };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    });
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
