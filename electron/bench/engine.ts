import * as tf from '@tensorflow/tfjs-core';
import { Explainer } from '../engine/explain.ts';
import { initialiseResNet } from '../engine/init-weights.ts';
import { MANIFEST_SCHEMA_VERSION, IMAGENET_MEAN, IMAGENET_STD, type Manifest } from '../engine/manifest.ts';
import { FoldedResNet } from '../engine/resnet50.ts';
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
 * A full-width ResNet50 (23.5 M parameters, 2 classes), seeded weights: forward and explain
 * (LayerCAM on layer2, layer3 and layer4 in one pass) medians at 224 and 512.
 */
export async function benchEngine(sizes = [224, 512], runs = 5): Promise<Record<string, number>> {
  const spec = resnetSpec(resnet50Config(2, 3));
  const net = initialiseResNet(spec, 1);
  const folded = FoldedResNet.fold(net);
  const out: Record<string, number> = {};
  for (const size of sizes) {
    const explainer = new Explainer(benchManifest(size), { net });
    const x = tf.randomUniform([1, size, size, 3], -2, 2, 'float32', 7) as tf.Tensor4D;
    const image = { width: size, height: size, channels: 3 as const, bitDepth: 8 as const, data: (await tf.randomUniform([size * size * 3], 0, 1, 'float32', 3).data()) as Float32Array };
    const forward = async () => {
      const logits = tf.tidy(() => folded.forward(x).logits);
      await logits.data();
      logits.dispose();
    };
    const explain = () => explainer.explain(image, { methods: ['layercam'], layers: ['layer2', 'layer3', 'layer4'] });
    await forward();
    await explain();
    out[`forward_${size}_ms`] = median(await timeIt(forward, runs));
    out[`explain3_${size}_ms`] = median(await timeIt(explain, Math.max(2, Math.floor(runs / 2) + 1)));
    x.dispose();
    explainer.dispose();
  }
  folded.dispose();
  net.dispose();
  return out;
}
