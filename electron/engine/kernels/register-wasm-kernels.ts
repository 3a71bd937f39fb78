import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterWasm } from './conv2d-backprop-filter.ts';
import { conv2DBackpropInputWasm } from './conv2d-backprop-input.ts';
import { maxPoolGradKernel } from './max-pool-grad.ts';
import { meanKernel } from './mean.ts';
import { sumKernel } from './sum.ts';
import { tileKernel } from './tile.ts';

/** A Kizu kernel for the wasm backend, given wasm's own kernel of that name (if any) to fall back on. */
interface WasmKernelOverride {
  kernelName: string;
  make(builtin: KernelFunc | undefined): KernelFunc;
}

function needsBuiltin(kernelName: string, wrap: (builtin: KernelFunc) => KernelFunc): WasmKernelOverride {
  return {
    kernelName,
    make(builtin) {
      if (builtin === undefined) throw new Error(`the wasm backend has no ${kernelName} kernel for Kizu's to fall back on`);
      return wrap(builtin);
    },
  };
}

const overrides: WasmKernelOverride[] = [
  { kernelName: 'Conv2DBackpropFilter', make: () => conv2DBackpropFilterWasm },
  { kernelName: 'Conv2DBackpropInput', make: () => conv2DBackpropInputWasm },
  needsBuiltin('Tile', tileKernel),
  needsBuiltin('Sum', sumKernel),
  needsBuiltin('Mean', meanKernel),
  needsBuiltin('MaxPoolGrad', maxPoolGradKernel),
];

const installed = new Set<KernelFunc>();
const replaced = new Map<string, KernelFunc>();

/**
 * Installs Kizu's kernels on the wasm backend (after `tf.setBackend('wasm')`), replacing
 * built-in ones where they exist. Safe to call more than once; touches no other backend.
 */
export function registerWasmKernels(): void {
  for (const { kernelName, make } of overrides) {
    const current = tf.getKernel(kernelName, 'wasm');
    if (current !== undefined && installed.has(current.kernelFunc)) continue;
    const kernelFunc = make(current?.kernelFunc);
    if (current !== undefined) {
      replaced.set(kernelName, current.kernelFunc);
      tf.unregisterKernel(kernelName, 'wasm');
    }
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
    installed.add(kernelFunc);
  }
}

/** The wasm backend's own kernel that Kizu's replaced (for benchmarks), if it had one. */
export function replacedWasmKernel(kernelName: string): KernelFunc | undefined {
  return replaced.get(kernelName);
}
