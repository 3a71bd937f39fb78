import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { benchShardConfig, noiseImages } from '../../../electron/bench/training.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../electron/data/synth/rng.ts';
import { useBackend } from '../../../electron/engine/backend.ts';
import { initialiseResNet } from '../../../electron/engine/init-weights.ts';
import { chooseTrainingEngine, OnnxGradients } from '../../../electron/engine/onnx/onnx-training.ts';
import { resnetSpec, type HeadPooling } from '../../../electron/engine/resnet-spec.ts';
import { GradientAccumulator, TfjsGradients } from '../../../electron/engine/train/grad-step.ts';
import { parseTrainingEngine, type MicroBatchInput, type TrainingEngineName } from '../../../electron/engine/train/gradient-engine.ts';
import { flattenNet, ParamLayout } from '../../../electron/engine/train/param-layout.ts';
import { TrainingShard } from '../../../electron/engine/train/shard.ts';
import { stageCells, type SideHeadLayer } from '../../../electron/engine/train/side-heads.ts';
import { maxRelativeError, onnxRuntimeInstalled } from '../helpers/backends.ts';

/**
 * onnxruntime's training graph against tfjs's autodiff (which the PyTorch known-answer test in
 * grad-step.test.ts ties to PyTorch): both heads, the dense class-score-map term, the
 * training-only side heads at layer2 and layer3 (their own gradients, and theirs added into
 * the stages' backward), one and three
 * channels, non-square inputs and odd sizes (the transposed convs' output padding, the
 * filter gradients' strided taps), every trainable parameter and every BatchNorm statistic.
 */
interface Case {
  name: string;
  pooling: HeadPooling;
  channels: 1 | 3;
  height: number;
  width: number;
  n: number;
  dense: boolean;
  sideHeads?: SideHeadLayer[];
}

const TOPK: HeadPooling = { kind: 'topk', fraction: 1 / 16 };
const cases: Case[] = [
  { name: 'top-k head with the dense term, 1 channel, 64 px', pooling: TOPK, channels: 1, height: 64, width: 64, n: 3, dense: true },
  { name: 'average head, 3 channels, 72 px', pooling: { kind: 'avg' }, channels: 3, height: 72, width: 72, n: 2, dense: false },
  { name: 'average head with the dense term, 1 channel, 50 x 66 px', pooling: { kind: 'avg' }, channels: 1, height: 50, width: 66, n: 4, dense: true },
  { name: 'top-k head with side heads at layer2 and layer3, 3 channels, 56 x 40 px', pooling: TOPK, channels: 3, height: 56, width: 40, n: 3, dense: true, sideHeads: ['layer2', 'layer3'] },
  { name: 'average head with a side head at layer2, 1 channel, 45 px', pooling: { kind: 'avg' }, channels: 1, height: 45, width: 45, n: 2, dense: true, sideHeads: ['layer2'] },
];

function microBatch(c: Case, seed: number): MicroBatchInput {
  const rng = new Rng(seed);
  const pixels = Float32Array.from({ length: c.n * c.height * c.width * c.channels }, () => rng.next() * 2 - 1);
  const labels = Int32Array.from({ length: c.n }, (_, i) => i % 2);
  const targets = (stage: 'layer2' | 'layer3' | 'layer4') => Float32Array.from({ length: c.n * stageCells(c.height, stage) * stageCells(c.width, stage) }, () => (rng.chance(0.2) ? 1 : 0));
  const dense = c.dense
    ? {
      targets: targets('layer4'),
      weights: Float32Array.from({ length: c.n }, (_, i) => (i === 1 ? 0 : 1)),
      lossWeight: 1,
      positiveWeight: 10,
      sideTargets: Object.fromEntries((c.sideHeads ?? []).map((layer) => [layer, targets(layer)])),
    }
    : undefined;
  return { pixels, n: c.n, height: c.height, width: c.width, channels: c.channels, labels, stepSize: 16, dense };
}

describe.skipIf(!(await onnxRuntimeInstalled()))('training gradients on onnxruntime', () => {
  beforeAll(() => useBackend('cpu'));

  describe.each(cases)('$name', (c) => {
    const spec = resnetSpec({ numClasses: 2, inChannels: c.channels, width: 4, blocks: [2, 2, 2, 2], pooling: c.pooling });
    const layout = new ParamLayout(spec, c.sideHeads);
    let params: Float32Array;
    let onnx: OnnxGradients;

    beforeAll(async () => {
      const net = initialiseResNet(spec, 3);
      params = await flattenNet(layout, net, undefined, 3);
      net.dispose();
      onnx = await OnnxGradients.create(layout, 1);
    });
    afterAll(() => onnx.dispose());

    it('gives tfjs autodiff\'s loss, every gradient and every BatchNorm statistic', async () => {
      const input = microBatch(c, 5);
      const want = await new TfjsGradients(layout).compute(params, input);
      const got = await onnx.compute(params, input);
      expect(got.lossSum).toBeCloseTo(want.lossSum, 4);
      expect(got.correct).toBe(want.correct);
      layout.trainable.forEach((slot, i) => {
        expect(got.grads[i].length, slot.name).toBe(slot.size);
        expect(maxRelativeError(got.grads[i], want.grads[i]), slot.name).toBeLessThan(2e-3);
      });
      expect([...got.stats.keys()].sort()).toEqual([...want.stats.keys()].sort());
      for (const [bn, s] of want.stats) {
        expect(maxRelativeError(got.stats.get(bn)!.mean, s.mean), `${bn} mean`).toBeLessThan(1e-3);
        expect(maxRelativeError(got.stats.get(bn)!.variance, s.variance), `${bn} variance`).toBeLessThan(1e-3);
      }
    });
  });

  it('accumulates micro-batches into the step\'s mean without leaking a tensor', async () => {
    const c = cases[0];
    const spec = resnetSpec({ numClasses: 2, inChannels: 1, width: 4, blocks: [1, 1, 1, 1], pooling: c.pooling });
    const layout = new ParamLayout(spec);
    const net = initialiseResNet(spec, 4);
    const params = await flattenNet(layout, net);
    net.dispose();
    const onnx = await OnnxGradients.create(layout, 1);
    const tfjs = new TfjsGradients(layout);
    const sums = async (engine: OnnxGradients | TfjsGradients) => {
      const acc = new GradientAccumulator(layout, engine);
      let loss = 0;
      for (const seed of [1, 2, 3]) {
        const input = microBatch(c, seed);
        const x = tf.tensor4d(input.pixels, [input.n, input.height, input.width, input.channels]);
        loss += (await acc.add(params, x, input.labels, 9, input.dense)).lossSum;
        x.dispose();
      }
      return { loss, grads: acc.grads, stats: acc.batchStatistics() };
    };
    await sums(onnx);
    const before = tf.memory().numTensors;
    const got = await sums(onnx);
    expect(tf.memory().numTensors).toBe(before);
    const want = await sums(tfjs);
    expect(got.loss).toBeCloseTo(want.loss, 4);
    expect(maxRelativeError(got.grads, want.grads)).toBeLessThan(2e-3);
    expect(maxRelativeError(got.stats.get('bn1')!.variance, want.stats.get('bn1')!.variance)).toBeLessThan(1e-3);
    onnx.dispose();
  });
});

describe('KIZU_TRAIN_ENGINE', () => {
  it('names onnxruntime or tfjs, and says so when it names neither', () => {
    expect(parseTrainingEngine(undefined)).toBeUndefined();
    expect(parseTrainingEngine('tfjs')).toBe('tfjs');
    expect(parseTrainingEngine('onnxruntime')).toBe('onnxruntime');
    expect(() => parseTrainingEngine('torch')).toThrow(/KIZU_TRAIN_ENGINE must be onnxruntime or tfjs, not "torch"/);
  });

  it('picks onnxruntime where it is installed, tfjs when asked for', async () => {
    expect(await chooseTrainingEngine('tfjs')).toEqual({ name: 'tfjs', label: 'tfjs (asked for)' });
    const installed = await onnxRuntimeInstalled();
    expect((await chooseTrainingEngine()).name).toBe(installed ? 'onnxruntime' : 'tfjs');
  });
});

describe.skipIf(!(await onnxRuntimeInstalled()))('validation on onnxruntime', () => {
  it('gives the defect probabilities tfjs gives, from the running statistics', async () => {
    await useBackend('cpu');
    const dir = mkdtempSync(join(tmpdir(), 'kizu-ort-predict-'));
    try {
      const size = 48;
      const paths = await noiseImages(dir, 5, size);
      const spec = resnetSpec({ numClasses: 2, inChannels: 1, width: 4, blocks: [1, 1, 1, 1], pooling: TOPK });
      const layout = new ParamLayout(spec);
      const net = initialiseResNet(spec, 6);
      const params = await flattenNet(layout, net);
      net.dispose();
      const shard = (engine: TrainingEngineName) => new TrainingShard({ ...benchShardConfig(spec, paths, size, engine), engine: { name: engine, threads: 1 } });
      const indices = [4, 0, 2, 1, 3];
      const onnx = await shard('onnxruntime').predict(params, indices);
      const tfjs = await shard('tfjs').predict(params, indices, 2);
      expect(onnx).toHaveLength(5);
      onnx.forEach((p, i) => expect(p).toBeCloseTo(tfjs[i], 4));
      expect(new Set(onnx.map((p) => p.toFixed(4))).size).toBeGreaterThan(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
