import { describe, expect, it } from 'vitest';
import { formatProfile, profileExplain, profileOnnxTrainingStep, profileTrainingStep, type WorkProfile } from '../../../electron/bench/profile.ts';
import { useBackend } from '../../../electron/engine/backend.ts';
import { onnxRuntimeInstalled } from '../helpers/backends.ts';

function expectConsistent(p: WorkProfile): void {
  expect(p.rows.length).toBeGreaterThan(3);
  // Every row is a kernel once: op scopes around kernels are not counted again.
  expect(p.rows.some((r) => r.kernel.endsWith('__op'))).toBe(false);
  expect(p.kernelMs).toBeCloseTo(p.rows.reduce((a, r) => a + r.ms, 0), 6);
  expect(p.kernelMs).toBeLessThanOrEqual(p.wallMs);
  expect(p.rows.map((r) => r.ms)).toEqual([...p.rows.map((r) => r.ms)].sort((a, b) => b - a));
}

const ortInstalled = await onnxRuntimeInstalled();

describe('kizu bench --profile', () => {
  it('splits an explain into its kernels, convolutions first', async () => {
    await useBackend('wasm');
    const p = await profileExplain(64);
    expectConsistent(p);
    expect(p.rows.slice(0, 2).map((r) => r.kernel).sort()).toEqual(['Conv2D', 'FusedConv2D']);
    expect(formatProfile(p, 3)).toMatch(/\| Conv2D \| \d+ \|[\s\S]*other kernels[\s\S]*\| outside kernels \|/);
  });

  it('splits a training micro-batch into forward, both gradients and the rest', async () => {
    await useBackend('wasm');
    const p = await profileTrainingStep({ inputSize: 32, width: 4, microBatch: 2 });
    expectConsistent(p);
    const names = new Set(p.rows.map((r) => r.kernel));
    for (const k of ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput']) expect(names.has(k), k).toBe(true);
    // One call per convolution of the ResNet50 topology (53, the stem's input gradient excepted).
    expect(p.rows.find((r) => r.kernel === 'Conv2DBackpropFilter')!.calls).toBe(53);
  });

  it.skipIf(!ortInstalled)('splits a training micro-batch on onnxruntime into its operators: forward convs, input gradients, filter gradients', async () => {
    const p = await profileOnnxTrainingStep({ inputSize: 32, width: 4, microBatch: 2 });
    expectConsistent(p);
    const calls = new Map(p.rows.map((r) => [r.kernel, r.calls]));
    // Every convolution of the ResNet50 topology runs forward once (53); all but the stem pass a gradient back (52).
    expect(calls.get('Conv')).toBe(53);
    expect(calls.get('ConvTranspose')).toBe(52);
    expect(calls.get('FusedMatMul')).toBeGreaterThan(53);
    expect(p.what).toMatch(/onnxruntime/);
  });
});
