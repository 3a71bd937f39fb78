import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../electron/engine/backend.ts';
import { TfjsEvidence } from '../../../electron/engine/cam/evidence.ts';
import { CAM_SCORES } from '../../../electron/engine/cam/types.ts';
import { parseExplainEngine } from '../../../electron/engine/cam/evidence-source.ts';
import { initialiseResNet } from '../../../electron/engine/init-weights.ts';
import { OnnxEvidence } from '../../../electron/engine/onnx/onnx-evidence.ts';
import { FoldedResNet, type ResNet50 } from '../../../electron/engine/resnet50.ts';
import { CAM_LAYERS, resnetSpec, type CamLayer, type HeadPooling } from '../../../electron/engine/resnet-spec.ts';
import { maxRelativeError, onnxRuntimeInstalled } from '../helpers/backends.ts';

/**
 * onnxruntime's passes against tfjs's, which the known-answer tests tie to PyTorch: both
 * heads, odd input sizes (the transposed convs' output padding), every layer subset, and
 * random BatchNorm statistics so the folding is exercised.
 */
function seededNet(pooling: HeadPooling): ResNet50 {
  const spec = resnetSpec({ numClasses: 3, inChannels: 1, width: 4, blocks: [1, 2, 1, 1], pooling });
  const net = initialiseResNet(spec, 5);
  let n = 0;
  for (const [name, t] of net.params) {
    if (!name.includes('bn') && !name.includes('downsample.1')) continue;
    const noise = tf.randomUniform(t.shape, name.endsWith('running_var') ? 0.5 : -0.3, name.endsWith('running_var') ? 1.5 : 0.3, 'float32', 100 + n++);
    net.params.set(name, name.endsWith('running_var') ? noise : tf.add(t, noise));
    t.dispose();
    if (!name.endsWith('running_var')) noise.dispose();
  }
  return net;
}

const heads: [string, HeadPooling][] = [['top-k', { kind: 'topk', fraction: 1 / 16 }], ['average', { kind: 'avg' }]];

describe.skipIf(!(await onnxRuntimeInstalled()))('onnxruntime-node', () => {
  describe.each(heads)('onnxruntime evidence, %s head', (_name, pooling) => {
    let net: ResNet50;
    let folded: FoldedResNet;
    let onnx: OnnxEvidence;
    let tfjs: TfjsEvidence;

    beforeAll(async () => {
      await useBackend('wasm');
      net = seededNet(pooling);
      folded = FoldedResNet.fold(net);
      onnx = await OnnxEvidence.create(folded);
      tfjs = new TfjsEvidence(folded);
    });

    afterAll(() => {
      onnx.dispose();
      tfjs.dispose();
      folded.dispose();
      net.dispose();
    });

    const subsets: CamLayer[][] = [[...CAM_LAYERS], ['layer4'], ['layer3'], ['layer2', 'layer4']];
    it.each([[64, 64], [45, 38], [33, 70]])('equals tfjs at %i x %i for every layer subset, target and score', async (height, width) => {
      const x = tf.randomUniform([1, height, width, 1], -2, 2, 'float32', height * width) as tf.Tensor4D;
      for (const score of CAM_SCORES) {
        for (const layers of subsets) {
          // Every position votes for some class, so over all targets the positions' margins have a gradient too.
          let compared = 0;
          for (const target of [0, 1, 2]) {
            const want = await tfjs.gather(x, layers, target, score);
            const got = await onnx.gather(x, layers, target, score);
            expect(maxRelativeError(await got.logits.data(), await want.logits.data())).toBeLessThan(1e-4);
            expect(got.evidence.map((e) => e.layer)).toEqual(want.evidence.map((e) => e.layer));
            for (let i = 0; i < want.evidence.length; i++) {
              const [a, b] = [got.evidence[i], want.evidence[i]];
              const where = `${a.layer} of ${layers.join('+')}, target ${target}, ${score}`;
              expect(a.gradients.shape, where).toEqual(b.gradients.shape);
              expect(maxRelativeError(await a.activations.data(), await b.activations.data()), `${where} activations`).toBeLessThan(1e-4);
              expect(maxRelativeError(await a.gradients.data(), await b.gradients.data()), `${where} gradients`).toBeLessThan(1e-4);
              if (tf.max(tf.abs(b.gradients)).dataSync()[0] > 0) compared++;
            }
            tf.dispose([got.logits, want.logits, ...got.evidence.flatMap((e) => [e.activations, e.gradients]), ...want.evidence.flatMap((e) => [e.activations, e.gradients])]);
          }
          expect(compared, `${score}, ${layers.join('+')}: gradients to compare`).toBeGreaterThanOrEqual(score === 'logit' ? 3 * layers.length : layers.length);
        }
      }
      expect(maxRelativeError(await onnx.logits(x), await tfjs.logits(x))).toBeLessThan(1e-4);
      x.dispose();
    });

    it('leaves no tensor behind over repeated passes', async () => {
      const x = tf.randomUniform([1, 40, 40, 1], -2, 2, 'float32', 9) as tf.Tensor4D;
      const first = await onnx.gather(x, CAM_LAYERS, 1);
      tf.dispose([first.logits, ...first.evidence.flatMap((e) => [e.activations, e.gradients])]);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 10; i++) {
        const pass = await onnx.gather(x, CAM_LAYERS, 1);
        tf.dispose([pass.logits, ...pass.evidence.flatMap((e) => [e.activations, e.gradients])]);
        await onnx.logits(x);
      }
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });

    it('rejects a target class the model does not have', async () => {
      const x = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
      await expect(onnx.gather(x, CAM_LAYERS, 3)).rejects.toThrow(/target class 3 is out of range: the model has classes 0..2/);
      x.dispose();
    });
  });
});

describe('KIZU_EXPLAIN_ENGINE', () => {
  it('names onnxruntime or tfjs, and says so when it names neither', () => {
    expect(parseExplainEngine(undefined)).toBeUndefined();
    expect(parseExplainEngine('tfjs')).toBe('tfjs');
    expect(parseExplainEngine('onnxruntime')).toBe('onnxruntime');
    expect(() => parseExplainEngine('torch')).toThrow(/KIZU_EXPLAIN_ENGINE must be onnxruntime or tfjs, not "torch"/);
  });
});
