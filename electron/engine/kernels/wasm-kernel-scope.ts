import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Runs the wasm backend's own kernels from inside a Kizu kernel and frees every
 * intermediate it made. Kernels call kernels directly (not tf ops) so that no tensors
 * reach the engine's bookkeeping and nothing is recorded on a gradient tape.
 */
export class WasmKernelScope {
  private readonly made: TensorInfo[] = [];

  private constructor(readonly backend: BackendWasm) {}

  /** Runs `body` and returns its result; every other intermediate is freed, also on a throw. */
  static use(backend: BackendWasm, body: (scope: WasmKernelScope) => TensorInfo): TensorInfo {
    const scope = new WasmKernelScope(backend);
    let result: TensorInfo | undefined;
    try {
      result = body(scope);
      return result;
    } finally {
      for (const info of scope.made) if (info !== result) backend.disposeData(info.dataId);
    }
  }

  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = tf.getKernel(kernelName, 'wasm');
    if (kernel === undefined) throw new Error(`the wasm backend has no ${kernelName} kernel`);
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`wasm ${kernelName} returned several outputs where one was expected`);
    this.made.push(out);
    return out;
  }

  /** Takes ownership of a tensor made elsewhere (by a nested scope), to free with the rest. */
  adopt(info: TensorInfo): TensorInfo {
    this.made.push(info);
    return info;
  }

  /** Frees an intermediate now rather than when the kernel ends. */
  release(info: TensorInfo): void {
    const at = this.made.indexOf(info);
    if (at < 0) throw new Error('a kernel scope can only release tensors it made');
    this.made.splice(at, 1);
    this.backend.disposeData(info.dataId);
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** An uninitialised float32 tensor on the wasm heap, for a caller that writes all of it. */
  allocate(shape: number[]): TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32');
    this.made.push(out);
    return out;
  }

  zeros(shape: number[]): TensorInfo {
    const out = this.allocate(shape);
    this.heap(out).fill(0);
    return out;
  }

  /** The tensor's float32 values as a view into the wasm heap (valid until the heap grows). */
  heap(info: TensorInfo): Float32Array {
    if (info.dtype !== 'float32') throw new Error(`expected a float32 tensor, got ${info.dtype}`);
    return this.backend.typedArrayFromHeap(info) as Float32Array;
  }
}

/** A kernel's named input, or an error naming the kernel and the missing input. */
export function kernelInput(inputs: NamedTensorInfoMap, name: string, kernelName: string): TensorInfo {
  const info = inputs[name];
  if (info === undefined) throw new Error(`${kernelName}: missing input "${name}"`);
  return info;
}
