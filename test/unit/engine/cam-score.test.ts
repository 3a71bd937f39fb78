import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../electron/engine/backend.ts';
import { positionMargins, TfjsEvidence } from '../../../electron/engine/cam/evidence.ts';
import { layerCam } from '../../../electron/engine/cam/layercam.ts';
import { CAM_SCORES } from '../../../electron/engine/cam/types.ts';
import { initialiseResNet } from '../../../electron/engine/init-weights.ts';
import { parseManifest } from '../../../electron/engine/manifest.ts';
import { classScoreMap, FoldedResNet } from '../../../electron/engine/resnet50.ts';
import { CAM_LAYERS, resnetSpec } from '../../../electron/engine/resnet-spec.ts';
import { Rng } from '../../../electron/data/synth/rng.ts';
import { backendsUnderTest } from '../helpers/backends.ts';

const backends = await backendsUnderTest();
const [P, C, K] = [12, 4, 3];
const rng = new Rng(11);
const random = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
const features = random(P * C);
const weight = random(C * K);
const bias = random(K);

/** The positions' positive margins and their gradient, loop by loop: W[t] - W[strongest other] where s_t wins. */
function reference(target: number): { value: number; grad: Float32Array; voting: number } {
  const grad = new Float32Array(P * C);
  let value = 0;
  let voting = 0;
  for (let p = 0; p < P; p++) {
    const s = Array.from({ length: K }, (_, k) => bias[k] + Array.from({ length: C }, (_, c) => features[p * C + c] * weight[c * K + k]).reduce((a, b) => a + b, 0));
    let other = -1;
    for (let k = 0; k < K; k++) if (k !== target && (other < 0 || s[k] > s[other])) other = k;
    const margin = s[target] - s[other];
    if (margin <= 0) continue;
    value += margin;
    voting++;
    for (let c = 0; c < C; c++) grad[p * C + c] = weight[c * K + target] - weight[c * K + other];
  }
  return { value, grad, voting };
}

describe.each(backends)('the positions\' margins on %s', (backend) => {
  it.each([0, 1, 2])('sum the target\'s positive margins, with the gradient of each voting position (target %i)', async (target) => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const want = reference(target);
    const x = tf.tensor4d(features, [1, 3, 4, C]);
    const w = tf.tensor2d(weight, [C, K]);
    const b = tf.tensor1d(bias);
    const value = tf.tidy(() => positionMargins(classScoreMap(x, w, b), target));
    expect((await value.data())[0]).toBeCloseTo(want.value, 5);
    const grad = tf.tidy(() => tf.grad((f: tf.Tensor) => positionMargins(classScoreMap(f as tf.Tensor4D, w, b), target))(x));
    const g = (await grad.data()) as Float32Array;
    g.forEach((v, i) => expect(v).toBeCloseTo(want.grad[i], 5));
    // The seeded features leave some positions voting and some not, so both branches are checked.
    expect(want.voting).toBeGreaterThan(0);
    expect(want.voting).toBeLessThan(P);
    tf.dispose([x, w, b, value, grad]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** A tiny two-class network whose fc bias decides every position's vote, and its tfjs evidence. */
async function votingNet(bias: [number, number]): Promise<{ evidence: TfjsEvidence; dispose: () => void }> {
  await useBackend('wasm');
  const spec = resnetSpec({ numClasses: 2, inChannels: 1, width: 4, blocks: [1, 1, 1, 1], pooling: { kind: 'topk', fraction: 1 / 16 } });
  const net = initialiseResNet(spec, 3);
  const old = net.params.get('fc.bias')!;
  net.params.set('fc.bias', tf.tensor1d(bias));
  old.dispose();
  const folded = FoldedResNet.fold(net);
  const evidence = new TfjsEvidence(folded);
  return { evidence, dispose: () => [evidence, folded, net].forEach((o) => o.dispose()) };
}

describe('maps of an image on which no position votes for the target', () => {
  let voting: Awaited<ReturnType<typeof votingNet>>;

  // Class 0 wins every position by a wide margin: an image the model calls OK everywhere.
  beforeAll(async () => {
    voting = await votingNet([50, -50]);
  });

  afterAll(() => voting.dispose());

  it('are the logit\'s maps: no position adds its margin', async () => {
    const x = tf.randomUniform([1, 64, 64, 1], -2, 2, 'float32', 4) as tf.Tensor4D;
    const maps: Record<string, Float32Array[]> = {};
    for (const score of CAM_SCORES) {
      const pass = await voting.evidence.gather(x, CAM_LAYERS, 1, score);
      maps[score] = [];
      for (const e of pass.evidence) {
        const map = layerCam(e);
        maps[score].push((await map.data()) as Float32Array);
        map.dispose();
      }
      tf.dispose([pass.logits, ...pass.evidence.flatMap((e) => [e.activations, e.gradients])]);
    }
    x.dispose();
    expect(maps.logit.every((m) => m.some((v) => v > 0))).toBe(true);
    expect(maps['logit-and-position-margins']).toEqual(maps.logit);
  });
});

describe('maps of an image on which positions vote for the target', () => {
  it('reach beyond the top-k positions the logit\'s gradient is confined to', async () => {
    // Class 1 wins every position: all 16 layer4 cells vote, the top-k head pools one of them.
    const voting = await votingNet([-50, 50]);
    const x = tf.abs(tf.randomUniform([1, 128, 128, 1], -2, 2, 'float32', 5)) as tf.Tensor4D;
    const reached: Record<string, number> = {};
    for (const score of CAM_SCORES) {
      const pass = await voting.evidence.gather(x, ['layer4'], 1, score);
      const gradient = (await pass.evidence[0].gradients.data()) as Float32Array;
      const channels = pass.evidence[0].gradients.shape[3];
      reached[score] = Array.from({ length: gradient.length / channels }, (_, p) => gradient.subarray(p * channels, (p + 1) * channels).some((v) => v !== 0)).filter(Boolean).length;
      tf.dispose([pass.logits, ...pass.evidence.flatMap((e) => [e.activations, e.gradients])]);
    }
    x.dispose();
    voting.dispose();
    expect(reached.logit).toBe(1);
    expect(reached['logit-and-position-margins']).toBe(16);
  });
});

describe('the manifest\'s camScore', () => {
  it('is read from models/default, and an unknown score is refused where it stands', async () => {
    const raw = JSON.parse(await readFile('models/default/manifest.json', 'utf8'));
    expect(parseManifest(raw, 'models/default/manifest.json').camScore).toBe('logit-and-position-margins');
    const { camScore: _, ...older } = raw;
    expect(parseManifest(older, 'older.json').camScore).toBeUndefined();
    expect(() => parseManifest({ ...raw, camScore: 'softmax' }, 'bad.json')).toThrow(/bad\.json[\s\S]*camScore/);
  });
});
