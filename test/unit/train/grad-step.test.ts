import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../../electron/engine/backend.ts';
import { GradientAccumulator, TfjsGradients, updateRunningStats } from '../../../electron/engine/train/grad-step.ts';
import type { GradientEngine } from '../../../electron/engine/train/gradient-engine.ts';
import { OnnxGradients } from '../../../electron/engine/onnx/onnx-training.ts';
import { flattenNet, ParamLayout } from '../../../electron/engine/train/param-layout.ts';
import { Sgd } from '../../../electron/engine/train/sgd.ts';
import { backendsUnderTest, maxRelativeError, onnxRuntimeInstalled } from '../helpers/backends.ts';
import { expectedTensor, loadTinyFixture } from '../helpers/fixture.ts';
import { tinyNet } from '../helpers/tiny-model.ts';

const fixture = await loadTinyFixture();
const backends = await backendsUnderTest();
const GRAD_CHECKS = ['conv1.weight', 'bn1.weight', 'layer1.0.conv1.weight', 'layer3.0.conv2.weight', 'layer3.0.downsample.0.weight', 'layer4.2.bn3.bias', 'fc.weight', 'fc.bias'];

/** PyTorch's gradient in tfjs layout, to compare with the flat buffer's slot. */
function torchToTfLayout(name: string, t: { shape: number[]; data: Float32Array }): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor(t.data, t.shape);
    const y = t.shape.length === 4 ? tf.transpose(x, [2, 3, 1, 0]) : name === 'fc.weight' ? tf.transpose(x) : x;
    return y.dataSync() as Float32Array;
  });
}

/**
 * One training step of the fixture's batch of three against PyTorch's: loss, gradients and
 * running statistics; then the same batch as micro-batches of 1 + 2 images.
 */
async function expectPytorchStep(engine: (layout: ParamLayout) => Promise<GradientEngine>): Promise<void> {
  const layout = new ParamLayout(fixture.spec);
  const gradients = await engine(layout);
  const net = tinyNet(fixture);
  const params = await flattenNet(layout, net);
  net.dispose();
  const input = expectedTensor(fixture, 'train.input');
  const labels = Int32Array.from(expectedTensor(fixture, 'train.labels').data);
  const [n, h, w, c] = input.shape;

  const whole = new GradientAccumulator(layout, gradients);
  const x = tf.tensor4d(input.data, [n, h, w, c]);
  const r = await whole.add(params, x, labels, n);
  x.dispose();
  expect(r.lossSum / n).toBeCloseTo(expectedTensor(fixture, 'train.loss').data[0], 4);
  for (const name of GRAD_CHECKS) {
    const want = torchToTfLayout(name, expectedTensor(fixture, `train.grad.${name}`));
    expect(maxRelativeError(layout.view(whole.grads, name), want), name).toBeLessThan(1e-3);
  }
  const after = Float32Array.from(params);
  updateRunningStats(layout, after, whole.batchStatistics());
  for (const name of ['bn1.running_mean', 'bn1.running_var', 'layer4.2.bn3.running_var']) {
    expect(maxRelativeError(layout.view(after, name), expectedTensor(fixture, `train.after.${name}`).data), name).toBeLessThan(1e-4);
  }

  // Micro-batches of 1 + 2 images: BatchNorm statistics differ, so only the head's gradient
  // direction is comparable; but the accumulated loss is the mean over all three images.
  const split = new GradientAccumulator(layout, gradients);
  let lossSum = 0;
  for (const [from, to] of [[0, 1], [1, 3]]) {
    const part = tf.tensor4d(input.data.slice(from * h * w * c, to * h * w * c), [to - from, h, w, c]);
    lossSum += (await split.add(params, part, labels.slice(from, to), n)).lossSum;
    part.dispose();
  }
  expect(Number.isFinite(lossSum)).toBe(true);
  expect(split.grads.some((g) => g !== 0)).toBe(true);
  gradients.dispose();
}

describe.skipIf(!(await onnxRuntimeInstalled()))('a training step against PyTorch on onnxruntime', () => {
  it('gives PyTorch loss, gradients and running statistics, also when split into micro-batches', async () => {
    await expectPytorchStep((layout) => OnnxGradients.create(layout, 1));
  });
});

describe.each(backends)('a training step against PyTorch on %s', (backend) => {
  it('gives PyTorch loss, gradients and running statistics, also when split into micro-batches', async () => {
    await useBackend(backend);
    await expectPytorchStep(async (layout) => new TfjsGradients(layout));
  });

  it('SGD with momentum and weight decay follows PyTorch\'s update rule', () => {
    const layout = new ParamLayout(fixture.spec);
    const sgd = new Sgd(layout, { momentum: 0.9, weightDecay: 0.1 });
    const params = new Float32Array(layout.size).fill(1);
    const grads = new Float32Array(layout.size).fill(0.5);
    sgd.step(params, grads, 0.1);
    sgd.step(params, grads, 0.1);
    const conv = layout.slot('conv1.weight').offset;
    const bias = layout.slot('fc.bias').offset;
    // conv: v1 = 0.5 + 0.1*1 = 0.6, p1 = 0.94; v2 = 0.9*0.6 + 0.5 + 0.094 = 1.134, p2 = 0.8266
    expect(params[conv]).toBeCloseTo(0.8266, 5);
    // bias (no decay): v1 = 0.5, p1 = 0.95; v2 = 0.95, p2 = 0.855
    expect(params[bias]).toBeCloseTo(0.855, 5);
    const stat = layout.slot('bn1.running_var').offset;
    expect(params[stat]).toBe(1);
  });
});
