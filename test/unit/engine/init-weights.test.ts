import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../electron/engine/backend.ts';
import { initialiseResNet } from '../../../electron/engine/init-weights.ts';
import { RESNET50_BLOCKS, resnetSpec } from '../../../electron/engine/resnet-spec.ts';

const spec = resnetSpec({ numClasses: 2, inChannels: 1, width: 4, blocks: [...RESNET50_BLOCKS], pooling: { kind: 'avg' } });

function weights(seed: number): Map<string, Float32Array> {
  const net = initialiseResNet(spec, seed);
  const out = new Map([...net.params].map(([name, t]) => [name, t.dataSync() as Float32Array]));
  net.dispose();
  return out;
}

describe('initialiseResNet', () => {
  beforeAll(async () => {
    await initBackend();
  });

  // Seed 0 is the trainer's default; tfjs treats a zero seed as "unseeded".
  it.each([0, 1, 7])('draws the same weights for seed %i every time', (seed) => {
    const a = weights(seed);
    const b = weights(seed);
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [name, values] of a) expect(values, name).toEqual(b.get(name));
  });

  it('draws other weights for another seed', () => {
    const a = weights(0).get('conv1.weight')!;
    const b = weights(1).get('conv1.weight')!;
    expect(a).not.toEqual(b);
  });

  it('leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    weights(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});
