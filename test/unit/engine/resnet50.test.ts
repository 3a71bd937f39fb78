import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { FoldedResNet, ResNet50, forwardWithBatchNorm } from '../../../electron/engine/resnet50.ts';
import { STAGES } from '../../../electron/engine/resnet-spec.ts';
import { stateDictFromSafetensors } from '../../../electron/engine/state-dict.ts';
import { useBackend } from '../../../electron/engine/backend.ts';
import { backendsUnderTest, maxRelativeError } from '../helpers/backends.ts';
import { expectedTensor, loadTinyFixture } from '../helpers/fixture.ts';

const fixture = await loadTinyFixture();
const backends = await backendsUnderTest();

describe.each(backends)('ResNet50 known answers from torchvision on %s', (backend) => {
  const load = async () => {
    await useBackend(backend);
    return ResNet50.fromStateDict(fixture.spec, stateDictFromSafetensors(fixture.weights, fixture.spec).weights);
  };

  it.each(['a', 'b'])('folded inference matches logits and layer1..layer4 on input %s', async (key) => {
    const net = await load();
    const folded = FoldedResNet.fold(net);
    const input = expectedTensor(fixture, `${key}.input`);
    const x = tf.tensor4d(input.data, input.shape as [number, number, number, number]);
    const out = folded.forward(x);
    expect(maxRelativeError(await out.logits.data(), expectedTensor(fixture, `${key}.logits`).data)).toBeLessThan(1e-4);
    for (const stage of STAGES) {
      const want = expectedTensor(fixture, `${key}.${stage}`);
      expect(out.stages[stage].shape).toEqual(want.shape);
      expect(maxRelativeError(await out.stages[stage].data(), want.data), stage).toBeLessThan(1e-4);
    }
    tf.dispose([x, out.logits, ...Object.values(out.stages)]);
    folded.dispose();
    net.dispose();
  });

  it('explicit BatchNorm in eval mode equals the folded network', async () => {
    const net = await load();
    const input = expectedTensor(fixture, 'a.input');
    const logits = tf.tidy(() => forwardWithBatchNorm(net, tf.tensor4d(input.data, input.shape as [number, number, number, number]), false).logits);
    expect(maxRelativeError(await logits.data(), expectedTensor(fixture, 'a.logits').data)).toBeLessThan(1e-4);
    logits.dispose();
    net.dispose();
  });

  it('train mode normalises with batch statistics as PyTorch does', async () => {
    const net = await load();
    const input = expectedTensor(fixture, 'train.input');
    const logits = tf.tidy(() => forwardWithBatchNorm(net, tf.tensor4d(input.data, input.shape as [number, number, number, number]), true).logits);
    expect(maxRelativeError(await logits.data(), expectedTensor(fixture, 'train.logits').data)).toBeLessThan(1e-4);
    logits.dispose();
    net.dispose();
  });

  it('leaks no tensors over 20 forward passes', async () => {
    const net = await load();
    const folded = FoldedResNet.fold(net);
    const x = tf.randomNormal([1, 40, 40, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      const logits = tf.tidy(() => folded.forward(x).logits);
      await logits.data();
      logits.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    folded.dispose();
    net.dispose();
  });

  it('round-trips its parameters to a torchvision-layout state dict', async () => {
    const net = await load();
    const back = await net.toStateDict();
    const original = fixture.weights.tensors.get('layer3.2.conv2.weight')!;
    expect(back.get('layer3.2.conv2.weight')!.shape).toEqual(original.shape);
    expect(Array.from(back.get('layer3.2.conv2.weight')!.data)).toEqual(Array.from(original.toFloat32()));
    expect(Array.from(back.get('fc.weight')!.data)).toEqual(Array.from(fixture.weights.tensors.get('fc.weight')!.toFloat32()));
    net.dispose();
  });
});
