import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDataset } from '../data/synth/generate.ts';
import { defaultWorkerCount } from '../data/synth/worker-pool.ts';

/**
 * Synthetic dataset throughput: 100 images of 512 x 512 (2 classes x 50, a third defective)
 * written to a temporary folder on every core, worker start-up included.
 */
export async function benchDataset(): Promise<Record<string, number | string>> {
  const dir = await mkdtemp(join(tmpdir(), 'kizu-bench-dataset-'));
  try {
    const workers = defaultWorkerCount();
    const r = await generateDataset({
      out: join(dir, 'ds'), classes: 2, trainClean: 20, trainDefect: 10, testClean: 14, testDefect: 6, size: 512, seed: 1, workers,
    });
    return {
      dataset_images: r.images,
      dataset_workers: workers,
      dataset_seconds: Math.round(r.seconds * 100) / 100,
      dataset_images_per_s: Math.round((r.images / r.seconds) * 10) / 10,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
