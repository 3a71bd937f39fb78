import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchLongRun } from '../../../electron/bench/long-run.ts';
import { initBackend } from '../../../electron/engine/backend.ts';
import { Explainer } from '../../../electron/engine/explain.ts';
import { loadModel } from '../../../electron/engine/model-loader.ts';
import { CAM_LAYERS } from '../../../electron/engine/resnet-spec.ts';
import { FIXTURE_DIR } from '../helpers/fixture.ts';

/*
 * Long runs keep memory flat: what the 1,000-image benchmark (`kizu bench --long`) measures,
 * checked here on the tiny fixture model, by count and never by time.
 */

const model = join(FIXTURE_DIR, 'weights.safetensors');

describe('long runs', () => {
  it('50 explains of every method and layer leave no tensor behind', async () => {
    await initBackend();
    const loaded = await loadModel(model);
    const explainer = Explainer.fromModel(loaded);
    loaded.net.dispose();
    const image = { width: 48, height: 40, channels: 3 as const, bitDepth: 8 as const, data: new Float32Array(48 * 40 * 3) };
    const explain = async (seed: number) => {
      for (let i = 0; i < image.data.length; i++) image.data[i] = ((i * 7919 + seed * 104729) % 1000) / 1000;
      return explainer.explain(image, { methods: ['layercam', 'gradcam', 'gradcampp'], layers: CAM_LAYERS, fused: true });
    };
    await explain(0);
    const before = tf.memory().numTensors;
    for (let k = 1; k <= 50; k++) {
      const result = await explain(k);
      expect(result.maps.layercam!.fused!.data.length).toBe(48 * 40);
    }
    expect(tf.memory().numTensors).toBe(before);
    explainer.dispose();
  });

  it("the app's batch path (engine host, map cache, export run) keeps tensors flat and its cache within budget", async () => {
    const budget = 1024 * 1024;
    const run = await benchLongRun({ images: 40, size: 64, checkpoints: [10, 40], model, cacheBytes: budget });
    expect(run.exported).toBe(40);
    expect(run.samples.map((s) => s.images)).toEqual([10, 40]);
    const [early, late] = run.samples;
    expect(late.numTensors).toBe(early.numTensors);
    expect(late.tensorMiB).toBe(early.tensorMiB);
    // 64 x 64 x 4 maps of float32 per image: 16 fit in 1 MiB; the cache stops growing there.
    expect(early.cachedImages).toBe(10);
    expect(late.cachedImages).toBe(16);
    expect(late.cacheMiB).toBeLessThanOrEqual(1);
    // What the export holds until it writes grows, but deflated: under a tenth of 40 raw 64 x 64 masks.
    expect(late.heldExportKiB).toBeGreaterThan(early.heldExportKiB);
    expect(late.heldExportKiB).toBeLessThan((40 * 64 * 64) / 1024 / 10);
  });
});
