import * as tf from '@tensorflow/tfjs-core';
import type { ExplainEngineName } from '../engine/cam/evidence-source.ts';
import { Explainer } from '../engine/explain.ts';
import { initialiseResNet } from '../engine/init-weights.ts';
import { MANIFEST_SCHEMA_VERSION, IMAGENET_MEAN, IMAGENET_STD, type Manifest } from '../engine/manifest.ts';
import { resnet50Config, resnetSpec } from '../engine/resnet-spec.ts';
import { median, timeIt } from './timing.ts';

export function benchManifest(size: number): Manifest {
  return {
    format: 'kizu-model', schemaVersion: MANIFEST_SCHEMA_VERSION, name: 'bench',
    architecture: { name: 'resnet50', width: 64, blocks: [3, 4, 6, 3] },
    classes: ['ok', 'defect'], defectClass: 1, inputChannels: 3,
    inputSize: { policy: 'fixed', height: size, width: size },
    normalization: { mean: IMAGENET_MEAN, std: IMAGENET_STD },
    weights: { file: 'none', dtype: 'float32' },
    provenance: { createdAt: new Date(0).toISOString(), createdBy: 'kizu bench', notes: [] },
    metrics: {},
  };
}

/**
 * A full-width ResNet50 (23.5 M parameters, 2 classes), seeded weights: forward (classify) and
 * explain (LayerCAM on layer2, layer3 and layer4 in one pass) medians at 224 and 512, on the
 * engine the app uses here and, where that is onnxruntime, on tfjs too (the fallback's figures).
 */
export async function benchEngine(sizes = [224, 512], runs = 5): Promise<{ figures: Record<string, number>; engine: ExplainEngineName }> {
  const spec = resnetSpec(resnet50Config(2, 3));
  const net = initialiseResNet(spec, 1);
  const figures: Record<string, number> = {};
  let engine: ExplainEngineName = 'tfjs';
  for (const size of sizes) {
    const pixels = tf.randomUniform([size * size * 3], 0, 1, 'float32', 3);
    const image = { width: size, height: size, channels: 3 as const, bitDepth: 8 as const, data: (await pixels.data()) as Float32Array };
    pixels.dispose();
    const main = new Explainer(benchManifest(size), { net });
    engine = (await main.engine()).name;
    const variants: [string, Explainer][] = [['', main]];
    if (engine !== 'tfjs') variants.push(['_tfjs', new Explainer(benchManifest(size), { net }, { engine: 'tfjs' })]);
    for (const [suffix, explainer] of variants) {
      const forward = () => explainer.classify(image);
      const explain = () => explainer.explain(image, { methods: ['layercam'], layers: ['layer2', 'layer3', 'layer4'] });
      await forward();
      await explain();
      figures[`forward_${size}${suffix}_ms`] = median(await timeIt(forward, runs));
      figures[`explain3_${size}${suffix}_ms`] = median(await timeIt(explain, Math.max(2, Math.floor(runs / 2) + 1)));
      explainer.dispose();
    }
  }
  net.dispose();
  return { figures, engine };
}
