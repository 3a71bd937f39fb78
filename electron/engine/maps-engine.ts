import { describeBackend, type BackendInfo } from './backend.ts';
import type { ExplainEngineName } from './cam/evidence-source.ts';
import type { Explainer } from './explain.ts';
import { chooseExplainEngine, explainThreads } from './onnx/onnx-evidence.ts';
import { onnxRuntimeVersion } from './onnx/runtime.ts';

/**
 * What computes the maps and scores: onnxruntime, where the network's passes run on it, else
 * tfjs on its backend. The status bar, `kizu info`, `kizu explain` and `kizu export` name
 * this, not the tfjs backend, which on onnxruntime only applies the CAM formulas to the
 * activations and gradients onnxruntime returns.
 */
export interface MapsEngine {
  name: ExplainEngineName;
  /** onnxruntime-node's version, or the tfjs backend's. */
  version: string;
  threads: number;
  /** "onnxruntime 1.30.0, 2 threads", "tfjs wasm SIMD 4.22.0, 1 thread", "tfjs-node 4.22.0, 8 threads". */
  label: string;
  /** Why onnxruntime was not used, where it could not load (not where it was declined). */
  fallback?: string;
}

/** The description of an engine already chosen (an Explainer's engine(), or chooseExplainEngine's answer). */
export function describeMapsEngine(
  engine: { name: ExplainEngineName; fallback?: string },
  backend: BackendInfo,
  /** onnxruntime's version and threads; default the installed package's and the sessions'. */
  onnx?: { version: string; threads: number },
): MapsEngine {
  if (engine.name === 'onnxruntime') {
    const { version, threads } = onnx ?? { version: onnxRuntimeVersion(), threads: explainThreads() };
    return { name: 'onnxruntime', version, threads, label: `onnxruntime ${version}, ${threadCount(threads)}` };
  }
  const label = backend.name === 'node' ? describeBackend(backend) : `tfjs ${describeBackend(backend)}`;
  const described: MapsEngine = { name: 'tfjs', version: backend.version, threads: backend.threads, label };
  // chooseExplainEngine says "onnxruntime: <why>"; the engine is named by the field already.
  return engine.fallback ? { ...described, fallback: engine.fallback.replace(/^onnxruntime: /, '') } : described;
}

/** The engine an Explainer made now would run on (KIZU_EXPLAIN_ENGINE, else onnxruntime where it loads). */
export async function chooseMapsEngine(backend: BackendInfo, requested?: ExplainEngineName): Promise<MapsEngine> {
  return describeMapsEngine(await chooseExplainEngine(requested), backend);
}

/** "onnxruntime 1.30.0, 2 threads", or tfjs's with why onnxruntime could not load: what a command says it runs on. */
export async function mapsEngineLine(explainer: Pick<Explainer, 'engine'>, backend: BackendInfo): Promise<string> {
  const engine = describeMapsEngine(await explainer.engine(), backend);
  return engine.fallback ? `${engine.label} (onnxruntime skipped: ${engine.fallback})` : engine.label;
}

function threadCount(n: number): string {
  return `${n} thread${n === 1 ? '' : 's'}`;
}
