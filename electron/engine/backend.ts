import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build carries no gradient definitions; the union package's Node build
// registers them all into the same core, which CAMs and training need.
import '@tensorflow/tfjs';
import { packageVersion } from '../version.ts';
import { registerWasmKernels } from './kernels/register-wasm-kernels.ts';

export type BackendName = 'node' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** Kizu's name for the backend: node (tfjs-node / libtensorflow), wasm or cpu. */
  name: BackendName;
  /** tfjs's own registry name (tensorflow, wasm, cpu). */
  tfName: string;
  /** Version of the package that provides the backend. */
  version: string;
  threads: number;
  simd: boolean;
  /** Why a preferred backend was skipped, if one was. */
  fallbacks: string[];
}

let current: Promise<BackendInfo> | undefined;

async function tryNode(): Promise<BackendInfo> {
  // tfjs-node is optional: it needs libtensorflow, which offline machines cannot download.
  await import('@tensorflow/tfjs-node' as string);
  if (!(await tf.setBackend('tensorflow'))) throw new Error('tfjs-node loaded but its backend did not initialise');
  const os = await import('node:os');
  return {
    name: 'node', tfName: 'tensorflow', version: packageVersion('@tensorflow/tfjs-node'),
    threads: os.availableParallelism(), simd: true, fallbacks: [],
  };
}

async function tryWasm(): Promise<BackendInfo> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
  registerWasmKernels();
  return {
    name: 'wasm', tfName: 'wasm', version: packageVersion('@tensorflow/tfjs-backend-wasm'),
    // tfjs 4.22 never enables wasm threads under Node; parallelism comes from worker_threads.
    threads: 1, simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT') as boolean, fallbacks: [],
  };
}

async function tryCpu(): Promise<BackendInfo> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
  return { name: 'cpu', tfName: 'cpu', version: packageVersion('@tensorflow/tfjs-backend-cpu'), threads: 1, simd: false, fallbacks: [] };
}

const loaders: Record<BackendName, () => Promise<BackendInfo>> = { node: tryNode, wasm: tryWasm, cpu: tryCpu };

/** Switches to one backend now, loading it if needed; tests use it to cover every backend. */
export function useBackend(name: BackendName): Promise<BackendInfo> {
  return loaders[name]();
}

export function parseBackendName(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'node' || value === 'wasm' || value === 'cpu') return value;
  throw new Error(`KIZU_BACKEND must be node, wasm or cpu, not "${value}"`);
}

async function choose(forced: BackendName | undefined): Promise<BackendInfo> {
  const order: BackendName[] = forced ? [forced] : ['node', 'wasm', 'cpu'];
  const fallbacks: string[] = [];
  for (const name of order) {
    try {
      const info = await loaders[name]();
      return { ...info, fallbacks };
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      if (forced) throw new Error(`KIZU_BACKEND=${name} was requested but it cannot run: ${why}`);
      fallbacks.push(`${name}: ${why}`);
    }
  }
  throw new Error(`no tfjs backend could start:\n  ${fallbacks.join('\n  ')}`);
}

/**
 * Picks the fastest backend this machine can run, once per process: tfjs-node, then wasm
 * with Kizu's kernels, then pure-JS cpu. KIZU_BACKEND=node|wasm|cpu forces one.
 */
export function initBackend(forced = parseBackendName(process.env.KIZU_BACKEND)): Promise<BackendInfo> {
  current ??= choose(forced);
  return current;
}

export function describeBackend(info: BackendInfo): string {
  if (info.name === 'node') return `tfjs-node ${info.version}, ${info.threads} threads`;
  const simd = info.name === 'wasm' ? (info.simd ? ' SIMD' : ' no SIMD') : '';
  return `${info.name}${simd} ${info.version}, ${info.threads} thread${info.threads === 1 ? '' : 's'}`;
}
