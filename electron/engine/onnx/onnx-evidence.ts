import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { parseExplainEngine, type EvidencePass, type EvidenceSource, type ExplainEngineName } from '../cam/evidence-source.ts';
import type { CamScore } from '../cam/types.ts';
import type { FoldedResNet } from '../resnet50.ts';
import { allConvs, CAM_LAYERS, type CamLayer } from '../resnet-spec.ts';
import { SessionCache } from './session-cache.ts';
import { createSession, ensureOpen, loadOnnxRuntime, onnxRuntimeOrTfjs, tracked, type Ort, type OrtSession } from './runtime.ts';
import { buildEvidenceGraph, EVIDENCE_INPUTS, evidenceOutputs, type EvidenceGraphWeights, type OnnxConv } from './evidence-graph.ts';
import type { FloatTensor } from './graph-builder.ts';

/** Sessions kept per model: one per input size and layer set in use (the gallery and an export rarely need more). */
const SESSIONS_KEPT = 2;

/**
 * What will run the CAM passes: `requested` (default KIZU_EXPLAIN_ENGINE), else onnxruntime
 * where it loads, else tfjs, saying why onnxruntime was skipped.
 */
export async function chooseExplainEngine(
  requested = parseExplainEngine(process.env.KIZU_EXPLAIN_ENGINE),
): Promise<{ name: ExplainEngineName; label: string; fallback?: string }> {
  return onnxRuntimeOrTfjs('KIZU_EXPLAIN_ENGINE', requested, `, ${explainThreads()} threads`);
}

/** The intra-op threads an explain session runs on: every core, as one inference runs at a time. */
export function explainThreads(): number {
  return availableParallelism();
}

function tensorData(t: tf.Tensor, dims: number[], perm?: number[]): FloatTensor {
  const arranged = perm ? tf.transpose(t, perm) : t;
  const data = arranged.dataSync() as Float32Array;
  if (arranged !== t) arranged.dispose();
  return { dims, data };
}

/** The folded network's weights in ONNX's layouts (conv filters OIHW, fc [classes, features]). */
export function onnxWeights(net: FoldedResNet): EvidenceGraphWeights {
  const convs = new Map<string, OnnxConv>();
  for (const c of allConvs(net.spec)) {
    const { filter, bias } = net.conv(c);
    convs.set(c.conv, {
      filter: tensorData(filter, [c.outChannels, c.inChannels, c.kernel, c.kernel], [3, 2, 0, 1]),
      bias: tensorData(bias, [c.outChannels]),
    });
  }
  const [features, classes] = net.fcWeight.shape;
  return {
    spec: net.spec,
    conv: (c) => {
      const found = convs.get(c.conv);
      if (!found) throw new Error(`no weights for conv "${c.conv}"`);
      return found;
    },
    fcWeight: tensorData(net.fcWeight, [classes, features], [1, 0]),
    fcBias: tensorData(net.fcBias, [classes]),
  };
}

/**
 * gatherEvidence's pass on onnxruntime's CPU kernels instead of tfjs: the same activations
 * and gradients, from one graph per input size (buildEvidenceGraph), returned as tfjs tensors
 * in the engine's NHWC layout so every CAM formula stays the one in cam/.
 */
export class OnnxEvidence implements EvidenceSource {
  readonly name = 'onnxruntime' as const;
  private readonly sessions = new SessionCache(SESSIONS_KEPT);

  private constructor(
    private readonly runtime: Ort,
    private readonly weights: EvidenceGraphWeights,
    private readonly threads: number,
  ) {}

  static async create(net: FoldedResNet, threads = explainThreads()): Promise<OnnxEvidence> {
    return new OnnxEvidence(await loadOnnxRuntime(), onnxWeights(net), threads);
  }

  private session(height: number, width: number, layers: readonly CamLayer[], score: CamScore): Promise<OrtSession> {
    const key = `${height}x${width}:${layers.join(',')}:${score}`;
    return this.sessions.get(key, () => createSession(buildEvidenceGraph(this.weights, { height, width, layers, score }), this.threads));
  }

  /** The class scores alone, from a forward-only graph. */
  async logits(x: tf.Tensor4D): Promise<number[]> {
    const pass = await this.gather(x, [], 0);
    const values = Array.from(await pass.logits.data());
    pass.logits.dispose();
    return values;
  }

  /** x is the network's NHWC input [1, h, w, C]; the caller owns every tensor returned. */
  async gather(x: tf.Tensor4D, layers: readonly CamLayer[], targetClass: number, score: CamScore = 'logit'): Promise<EvidencePass> {
    const wanted = CAM_LAYERS.filter((l) => layers.includes(l));
    const classes = this.weights.fcBias.dims[0];
    if (!Number.isInteger(targetClass) || targetClass < 0 || targetClass >= classes) {
      throw new Error(`target class ${targetClass} is out of range: the model has classes 0..${classes - 1}`);
    }
    const [, height, width, channels] = x.shape;
    // Without layers the graph is the forward pass alone, whatever the score.
    const session = await this.session(height, width, wanted, wanted.length > 0 ? score : 'logit');
    const planar = tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]));
    const pixels = (await planar.data()) as Float32Array;
    planar.dispose();
    const feeds = {
      [EVIDENCE_INPUTS.image]: new this.runtime.Tensor('float32', pixels, [1, channels, height, width]),
      [EVIDENCE_INPUTS.target]: new this.runtime.Tensor('int64', BigInt64Array.of(BigInt(targetClass)), [1]),
    };
    const names = ['logits', ...wanted.flatMap((l) => Object.values(evidenceOutputs(l)))];
    ensureOpen();
    const out = await tracked(session.run(feeds, names));
    const nhwc = (name: string): tf.Tensor4D => {
      const [n, c, h, w] = out[name].dims;
      return tf.tidy(() => tf.transpose(tf.tensor4d(out[name].data as Float32Array, [n, c, h, w]), [0, 2, 3, 1]));
    };
    try {
      return {
        logits: tf.tensor2d(out.logits.data as Float32Array, [1, classes]),
        evidence: wanted.map((layer) => ({
          layer,
          activations: nhwc(evidenceOutputs(layer).activations),
          gradients: nhwc(evidenceOutputs(layer).gradients),
        })),
      };
    } finally {
      for (const value of Object.values(out)) value.dispose();
    }
  }

  /** Releases the sessions' native memory; a run still in flight finishes first. */
  dispose(): void {
    this.sessions.dispose();
  }
}
