import { packageVersion } from '../../version.ts';
import type { EngineName } from '../engine-setting.ts';

/*
 * The part of onnxruntime-node's API used here, declared by hand: the package is optional
 * (an install may skip it), so neither compiling nor running may depend on its presence.
 */
export interface OrtTensor {
  readonly dims: readonly number[];
  readonly data: unknown;
  dispose(): void;
}
export interface OrtSession {
  run(feeds: Record<string, OrtTensor>, fetches: string[]): Promise<Record<string, OrtTensor>>;
  /** Writes the profile of every run so far to `<profileFilePrefix>_<time>.json`. */
  endProfiling(): void;
  release(): Promise<void>;
}
export interface OrtSessionOptions {
  intraOpNumThreads: number;
  interOpNumThreads: number;
  executionMode: 'sequential';
  graphOptimizationLevel: 'all';
  logSeverityLevel: 0 | 1 | 2 | 3 | 4;
  enableProfiling?: boolean;
  profileFilePrefix?: string;
}
export interface Ort {
  InferenceSession: { create(model: Uint8Array, options: OrtSessionOptions): Promise<OrtSession> };
  Tensor: new (type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: number[]) => OrtTensor;
}

export const ORT_PACKAGE = 'onnxruntime-node';

let ort: Promise<Ort> | undefined;

/**
 * onnxruntime's native calls in flight in this thread. Ending a worker thread while one runs
 * aborts the whole process (onnxruntime-node throws a Napi::Error from a dying environment),
 * so a thread that is about to end first waits for them: quiesceOnnxRuntime().
 */
const inFlight = new Set<Promise<unknown>>();
let closing = false;

export function tracked<T>(work: Promise<T>): Promise<T> {
  inFlight.add(work);
  const done = () => inFlight.delete(work);
  work.then(done, done);
  return work;
}

/** Refuses new onnxruntime work in this thread and resolves once none is running: then the thread may end. */
export async function quiesceOnnxRuntime(): Promise<void> {
  closing = true;
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}

export function ensureOpen(): void {
  if (closing) throw new Error('the engine is shutting down');
}

/** onnxruntime-node, loaded once; it is optional, so a machine without it explains with tfjs. */
export function loadOnnxRuntime(): Promise<Ort> {
  ort ??= import(ORT_PACKAGE).then((loaded: { default?: unknown }) => {
    const m = (loaded.default ?? loaded) as Partial<Ort>;
    if (typeof m.InferenceSession?.create !== 'function' || typeof m.Tensor !== 'function') {
      throw new Error(`${ORT_PACKAGE} loaded but lacks InferenceSession.create or Tensor: not a version Kizu knows`);
    }
    return m as Ort;
  });
  return ort;
}

/** onnxruntime-node's version, for the labels that say which engine runs. */
export function onnxRuntimeVersion(): string {
  return packageVersion(ORT_PACKAGE);
}

/**
 * A session on `model` with onnxruntime's full graph optimisation, `threads` intra-op
 * threads, and errors only in its log (its warnings would interleave with the CLI's progress).
 * With `profilePrefix`, onnxruntime times every node of every run (`kizu bench --profile`).
 */
export async function createSession(model: Uint8Array, threads: number, profilePrefix?: string): Promise<OrtSession> {
  const runtime = await loadOnnxRuntime();
  ensureOpen();
  return tracked(runtime.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 3,
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
  }));
}

/**
 * onnxruntime unless `requested` is tfjs or onnxruntime cannot load here; asked for by name
 * and unable to load is an error naming `variable`, the setting that asked.
 */
export async function onnxRuntimeOrTfjs(
  variable: string,
  requested: EngineName | undefined,
  detail = '',
): Promise<{ name: EngineName; label: string; fallback?: string }> {
  if (requested === 'tfjs') return { name: 'tfjs', label: 'tfjs (asked for)' };
  try {
    await loadOnnxRuntime();
    return { name: 'onnxruntime', label: `onnxruntime-node ${onnxRuntimeVersion()}${detail}` };
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    if (requested === 'onnxruntime') throw new Error(`${variable}=onnxruntime was requested but it cannot run: ${why}`);
    return { name: 'tfjs', label: 'tfjs', fallback: `onnxruntime: ${why}` };
  }
}
