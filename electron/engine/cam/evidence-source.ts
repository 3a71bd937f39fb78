import type * as tf from '@tensorflow/tfjs-core';
import type { CamLayer } from '../resnet-spec.ts';
import type { EvidencePass } from './evidence.ts';

/** Which library runs the network's passes; the CAM formulas are tfjs's either way. */
export const EXPLAIN_ENGINES = ['onnxruntime', 'tfjs'] as const;
export type ExplainEngineName = (typeof EXPLAIN_ENGINES)[number];

/**
 * Where a CAM's evidence comes from: the network's one forward and one backward pass, and
 * the forward pass alone for classification. x is the normalised NHWC input [1, h, w, C].
 */
export interface EvidenceSource {
  readonly name: ExplainEngineName;
  gather(x: tf.Tensor4D, layers: readonly CamLayer[], targetClass: number): Promise<EvidencePass>;
  logits(x: tf.Tensor4D): Promise<number[]>;
  dispose(): void;
}

/** KIZU_EXPLAIN_ENGINE: onnxruntime or tfjs forces one; unset picks onnxruntime where it loads. */
export function parseExplainEngine(value: string | undefined): ExplainEngineName | undefined {
  if (value === undefined || value === '') return undefined;
  if ((EXPLAIN_ENGINES as readonly string[]).includes(value)) return value as ExplainEngineName;
  throw new Error(`KIZU_EXPLAIN_ENGINE must be ${EXPLAIN_ENGINES.join(' or ')}, not "${value}"`);
}
