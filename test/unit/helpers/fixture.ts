import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readSafetensors, type SafetensorsFile } from '../../../electron/engine/safetensors.ts';
import { resnetSpec, type ResNetSpec } from '../../../electron/engine/resnet-spec.ts';

export const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/resnet-tiny/', import.meta.url));

export interface TinyFixture {
  meta: { base: number; blocks: [number, number, number, number]; numClasses: number; inChannels: 1 | 3; target: number; gamma: number; sizes: Record<string, [number, number]> };
  spec: ResNetSpec;
  weights: SafetensorsFile;
  expected: SafetensorsFile;
}

/** The PyTorch known answers made by test/fixtures/make-resnet-fixture.py. */
export async function loadTinyFixture(): Promise<TinyFixture> {
  const meta = JSON.parse(readFileSync(`${FIXTURE_DIR}meta.json`, 'utf8')) as TinyFixture['meta'];
  const spec = resnetSpec({ numClasses: meta.numClasses, inChannels: meta.inChannels, width: meta.base, blocks: meta.blocks });
  return {
    meta,
    spec,
    weights: await readSafetensors(`${FIXTURE_DIR}weights.safetensors`),
    expected: await readSafetensors(`${FIXTURE_DIR}expected.safetensors`),
  };
}

export function expectedTensor(f: TinyFixture, key: string): { shape: number[]; data: Float32Array } {
  const e = f.expected.tensors.get(key);
  if (!e) throw new Error(`fixture has no "${key}"`);
  return { shape: e.shape, data: e.toFloat32() };
}
