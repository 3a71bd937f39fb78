import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../data/synth/rng.ts';
import { initialiseResNet } from '../engine/init-weights.ts';
import { RESNET50_BLOCKS, resnetSpec, type ResNetSpec } from '../engine/resnet-spec.ts';
import { DEFAULT_AUGMENT } from '../engine/train/augment.ts';
import { flattenNet, ParamLayout } from '../engine/train/param-layout.ts';
import { ThreadPool } from '../engine/train/shard-pool.ts';
import type { MicroBatchPlan, ShardConfig } from '../engine/train/shard.ts';
import type { TrainingEngineName } from '../engine/train/gradient-engine.ts';

/** Random grey images of `size` px in `dir`: training's input, with nothing for the net to learn, as the timing wants. */
export async function noiseImages(dir: string, count: number, size: number): Promise<string[]> {
  const rng = new Rng(1);
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const pixels = Buffer.alloc(size * size);
    for (let p = 0; p < pixels.length; p++) pixels[p] = rng.int(0, 255);
    const path = join(dir, `${i}.png`);
    await sharp(pixels, { raw: { width: size, height: size, channels: 1 } }).png().toFile(path);
    paths.push(path);
  }
  return paths;
}

/** The shard configuration benchmarks train with: the app's augmentation, no dense pretext, one engine thread per worker. */
export function benchShardConfig(spec: ResNetSpec, paths: string[], inputSize: number, engine: TrainingEngineName): ShardConfig {
  return {
    config: spec.config, paths, labels: paths.map((_, i) => i % 2), canvas: { height: inputSize, width: inputSize }, mean: [0.5], std: [0.25], augment: DEFAULT_AUGMENT, defectClass: 1, dense: null,
    engine: { name: engine, threads: 1 },
  };
}

/**
 * Training throughput as `kizu train` runs it: one optimiser step of `batch` images split
 * into micro-batches over `workers` threads, each with its own engine. The first step warms
 * up (image cache, kernels, onnxruntime's sessions and memory arena); the median of the next
 * `steps` is reported.
 */
export async function benchTraining(opts: { engine: TrainingEngineName; inputSize?: number; width?: number; batch?: number; microBatch?: number; workers?: number; steps?: number; backend?: string; name?: string }): Promise<Record<string, number>> {
  const { inputSize = 224, width = 64, batch = 16, microBatch = 4, workers = 2, steps = 4 } = opts;
  const name = opts.name ?? String(inputSize);
  const dir = await mkdtemp(join(tmpdir(), 'kizu-bench-train-'));
  try {
    const paths = await noiseImages(dir, batch, inputSize);
    const spec = resnetSpec({ numClasses: 2, inChannels: 1, width, blocks: [...RESNET50_BLOCKS] });
    const layout = new ParamLayout(spec);
    const net = initialiseResNet(spec, 1);
    const params = await flattenNet(layout, net);
    net.dispose();
    const pool = await ThreadPool.start(benchShardConfig(spec, paths, inputSize, opts.engine), layout.size, workers, opts.backend);
    pool.params.set(params);
    const plans: MicroBatchPlan[][] = Array.from({ length: workers }, () => []);
    for (let m = 0, k = 0; m < batch; m += microBatch, k++) {
      const indices = Array.from({ length: Math.min(microBatch, batch - m) }, (_, j) => m + j);
      plans[k % workers].push({ indices, seeds: indices });
    }
    const times: number[] = [];
    try {
      for (let s = 0; s <= steps; s++) {
        const t = performance.now();
        await pool.step(plans, batch);
        if (s > 0) times.push(performance.now() - t);
      }
    } finally {
      await pool.close();
    }
    times.sort((a, b) => a - b);
    const stepMs = times[Math.floor(times.length / 2)];
    return {
      [`train_step_${name}_b${batch}_ms`]: Math.round(stepMs),
      [`train_${name}_images_per_s`]: Math.round((batch / (stepMs / 1000)) * 100) / 100,
      [`train_${name}_workers`]: workers,
      [`train_${name}_width`]: width,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
