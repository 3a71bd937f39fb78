import { createRequire } from 'node:module';
import { loadOnnxRuntime } from '../../../electron/engine/onnx/runtime.ts';
import { parseBackendName, useBackend, type BackendName } from '../../../electron/engine/backend.ts';

/** The backends a test should cover: the one KIZU_BACKEND forces, else every one that loads here. */
export async function backendsUnderTest(): Promise<BackendName[]> {
  const forced = parseBackendName(process.env.KIZU_BACKEND);
  if (forced) return [forced];
  const usable: BackendName[] = [];
  for (const name of ['node', 'wasm', 'cpu'] as const) {
    try {
      await useBackend(name);
      usable.push(name);
    } catch {
      // tfjs-node is optional and absent on offline machines; the others must load.
      if (name !== 'node') throw new Error(`the ${name} backend failed to load`);
    }
  }
  return usable;
}

export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != expected ${expected.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-12);
}

/**
 * Whether onnxruntime's tests can run here. The package is optional, so an install may leave
 * it out; then they are skipped, saying so. Installed but failing to load is a failure.
 */
export async function onnxRuntimeInstalled(): Promise<boolean> {
  try {
    createRequire(import.meta.url).resolve('onnxruntime-node');
  } catch {
    console.warn('onnxruntime-node is not installed here: its tests are skipped, maps run on tfjs');
    return false;
  }
  await loadOnnxRuntime();
  return true;
}
