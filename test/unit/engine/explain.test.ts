import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../../electron/engine/backend.ts';
import { TfjsEvidence } from '../../../electron/engine/cam/evidence.ts';
import type { EvidenceSource, ExplainEngineName } from '../../../electron/engine/cam/evidence-source.ts';
import { Explainer } from '../../../electron/engine/explain.ts';
import { OnnxEvidence } from '../../../electron/engine/onnx/onnx-evidence.ts';
import { FoldedResNet } from '../../../electron/engine/resnet50.ts';
import { CAM_LAYERS } from '../../../electron/engine/resnet-spec.ts';
import { CAM_METHODS } from '../../../electron/engine/cam/types.ts';
import { backendsUnderTest, maxRelativeError, onnxRuntimeInstalled } from '../helpers/backends.ts';
import { expectedTensor, loadTinyFixture } from '../helpers/fixture.ts';
import { identityManifest, tinyNet } from '../helpers/tiny-model.ts';

const fixture = await loadTinyFixture();
const backends = await backendsUnderTest();
const input = expectedTensor(fixture, 'a.input');
const [, height, width, channels] = input.shape;
const image = { width, height, channels: channels as 3, bitDepth: 8 as const, data: input.data };

// Every tfjs backend with tfjs's passes, and onnxruntime's passes where it is installed.
const engines: [string, ExplainEngineName][] = [
  ...backends.map((b): [string, ExplainEngineName] => [b, 'tfjs']),
  ...((await onnxRuntimeInstalled()) ? [['wasm', 'onnxruntime'] as [string, ExplainEngineName]] : []),
];
const sourceFor = (engine: ExplainEngineName, folded: FoldedResNet): Promise<EvidenceSource> =>
  engine === 'tfjs' ? Promise.resolve(new TfjsEvidence(folded)) : OnnxEvidence.create(folded);

describe.each(engines)('CAM engine against PyTorch on %s, passes on %s', (backend, engine) => {
  const explainer = async () => {
    await useBackend(backend as typeof backends[number]);
    const net = tinyNet(fixture);
    const e = new Explainer(identityManifest(fixture), { net }, { engine });
    net.dispose();
    return e;
  };

  it('runs on the engine asked for', async () => {
    const e = await explainer();
    expect(await e.engine()).toEqual({ name: engine });
    e.dispose();
  });

  it('one pass yields the gradients PyTorch gives at layer2, layer3 and layer4', async () => {
    await useBackend(backend as typeof backends[number]);
    const net = tinyNet(fixture);
    const folded = FoldedResNet.fold(net);
    const x = tf.tensor4d(input.data, [1, height, width, channels]);
    const backward = await sourceFor(engine, folded);
    const pass = await backward.gather(x, CAM_LAYERS, fixture.meta.target);
    for (const e of pass.evidence) {
      const want = expectedTensor(fixture, `cam.layercam.${e.layer}.grad`);
      expect(e.gradients.shape).toEqual(want.shape);
      expect(maxRelativeError(await e.gradients.data(), want.data), e.layer).toBeLessThan(1e-4);
    }
    expect(maxRelativeError(await pass.logits.data(), expectedTensor(fixture, 'a.logits').data)).toBeLessThan(1e-4);
    tf.dispose([x, pass.logits, ...pass.evidence.flatMap((e) => [e.activations, e.gradients])]);
    backward.dispose();
    folded.dispose();
    net.dispose();
  });

  it('matches every method x layer at feature and image resolution, and the fused maps', async () => {
    const e = await explainer();
    const result = await e.explain(image, { methods: CAM_METHODS, layers: CAM_LAYERS });
    expect(result.targetClass).toBe(fixture.meta.target);
    expect(maxRelativeError(result.probabilities, expectedTensor(fixture, 'cam.probabilities').data)).toBeLessThan(1e-4);
    for (const method of CAM_METHODS) {
      for (const layer of CAM_LAYERS) {
        const maps = result.maps[method]!.layers[layer]!;
        const raw = expectedTensor(fixture, `cam.${method}.${layer}.raw`);
        expect([maps.raw.height, maps.raw.width]).toEqual(raw.shape);
        expect(maxRelativeError(maps.raw.data, raw.data), `${method} ${layer} raw`).toBeLessThan(1e-4);
        expect([maps.normalised.height, maps.normalised.width]).toEqual([height, width]);
        expect(maxRelativeError(maps.normalised.data, expectedTensor(fixture, `cam.${method}.${layer}.up`).data), `${method} ${layer} up`).toBeLessThan(1e-4);
      }
      expect(maxRelativeError(result.maps[method]!.fused!.data, expectedTensor(fixture, `cam.${method}.fused`).data), `${method} fused`).toBeLessThan(1e-4);
    }
    e.dispose();
  });

  it('leaks no tensors over 20 explain calls', async () => {
    const e = await explainer();
    const small = { ...image, width: 40, height: 36, data: input.data.subarray(0, 40 * 36 * 3) };
    await e.explain(small);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) await e.explain(small, { methods: ['layercam', 'gradcampp'] });
    expect(tf.memory().numTensors).toBe(before);
    e.dispose();
  });

  it('rejects a target class the model does not have', async () => {
    const e = await explainer();
    await expect(e.explain(image, { targetClass: 7 })).rejects.toThrow(/target class 7 is out of range/);
    e.dispose();
  });
});
