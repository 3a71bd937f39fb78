import { MANIFEST_SCHEMA_VERSION, type Manifest } from '../../../electron/engine/manifest.ts';
import { ResNet50 } from '../../../electron/engine/resnet50.ts';
import { stateDictFromSafetensors } from '../../../electron/engine/state-dict.ts';
import type { TinyFixture } from './fixture.ts';

/** A manifest for the fixture network that feeds pixels through unchanged (mean 0, std 1, native size). */
export function identityManifest(f: TinyFixture): Manifest {
  return {
    format: 'kizu-model',
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    name: 'resnet-tiny',
    architecture: { name: 'resnet50', width: f.meta.base, blocks: f.meta.blocks },
    classes: Array.from({ length: f.meta.numClasses }, (_, i) => `c${i}`),
    defectClass: f.meta.target,
    inputChannels: f.meta.inChannels,
    inputSize: { policy: 'native', maxSide: 4096 },
    normalization: { mean: [0, 0, 0], std: [1, 1, 1] },
    weights: { file: 'weights.safetensors', dtype: 'float32' },
    provenance: { createdAt: '2026-11-26T00:00:00.000Z', createdBy: 'test/fixtures/make-resnet-fixture.py', notes: [] },
    metrics: {},
  };
}

export function tinyNet(f: TinyFixture): ResNet50 {
  return ResNet50.fromStateDict(f.spec, stateDictFromSafetensors(f.weights, f.spec).weights);
}
