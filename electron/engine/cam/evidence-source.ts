import type * as tf from '@tensorflow/tfjs-core';
import { parseEngineSetting, type EngineName } from '../engine-setting.ts';
import type { CamLayer } from '../resnet-spec.ts';
import type { CamScore, StageEvidence } from './types.ts';

/** Which library runs the network's passes; the CAM formulas are tfjs's either way. */
export type ExplainEngineName = EngineName;

/** The logits and, per requested stage, its output and the gradient there of the score y_c (CamScore, default 'logit'); the caller disposes them. */
export interface EvidencePass {
  logits: tf.Tensor2D;
  evidence: StageEvidence[];
}

/**
 * Where a CAM's evidence comes from: the network's one forward and one backward pass, and
 * the forward pass alone for classification. x is the normalised NHWC input [1, h, w, C].
 */
export interface EvidenceSource {
  readonly name: ExplainEngineName;
  gather(x: tf.Tensor4D, layers: readonly CamLayer[], targetClass: number, score?: CamScore): Promise<EvidencePass>;
  logits(x: tf.Tensor4D): Promise<number[]>;
  dispose(): void;
}

/** KIZU_EXPLAIN_ENGINE: onnxruntime or tfjs forces one; unset picks onnxruntime where it loads. */
export function parseExplainEngine(value: string | undefined): ExplainEngineName | undefined {
  return parseEngineSetting('KIZU_EXPLAIN_ENGINE', value);
}
