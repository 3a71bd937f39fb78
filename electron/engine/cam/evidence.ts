import * as tf from '@tensorflow/tfjs-core';
import { classScoreMap, runHead, runStage, runStem, type FoldedResNet } from '../resnet50.ts';
import { CAM_LAYERS, STAGES, type CamLayer } from '../resnet-spec.ts';
import type { EvidencePass, EvidenceSource } from './evidence-source.ts';
import { InputGradientConvs } from './input-gradient.ts';
import type { CamScore } from './types.ts';

type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];

/** An identity whose backward pass hands a copy of the gradient arriving at it to `sink`. */
function gradientTap(sink: (dy: tf.Tensor4D) => void): (x: tf.Tensor4D) => tf.Tensor4D {
  const op = tf.customGrad(((x: tf.Tensor4D) => ({
    value: tf.clone(x),
    gradFunc: (dy: tf.Tensor4D) => {
      sink(tf.keep(tf.clone(dy)));
      return dy;
    },
  })) as unknown as CustomGradientFunc);
  return (x) => op(x) as tf.Tensor4D;
}

/**
 * ONE forward and ONE backward pass for every requested layer: the network runs without a
 * tape up to the shallowest requested stage, then under tf.grads from that stage's output,
 * with taps that catch dy_c/dA at the deeper requested stages on the way back. Nothing below
 * the shallowest stage is differentiated. y_c is the logit (before softmax), as in the paper, or
 * that plus the positions' positive margins (CamScore). The caller owns (and must dispose) every tensor returned.
 */
export function gatherEvidence(
  net: FoldedResNet,
  backward: InputGradientConvs,
  x: tf.Tensor4D,
  layers: readonly CamLayer[],
  targetClass: number,
  camScore: CamScore = 'logit',
): EvidencePass {
  const wanted = CAM_LAYERS.filter((l) => layers.includes(l));
  if (wanted.length === 0) throw new Error('explain needs at least one of layer2, layer3, layer4');
  const numClasses = net.fcBias.shape[0];
  if (!Number.isInteger(targetClass) || targetClass < 0 || targetClass >= numClasses) {
    throw new Error(`target class ${targetClass} is out of range: the model has classes 0..${numClasses - 1}`);
  }
  const firstIndex = STAGES.indexOf(wanted[0]);
  const stages = net.spec.stages;
  const shallow = tf.tidy(() => {
    let h = runStem(net.spec, x, net.fusedConv);
    for (let s = 0; s <= firstIndex; s++) h = runStage(stages[s], h, net.fusedConv);
    return h;
  });

  const activations = new Map<CamLayer, tf.Tensor4D>([[wanted[0], shallow]]);
  const gradients = new Map<CamLayer, tf.Tensor4D>();
  let logits: tf.Tensor2D | undefined;
  const score = (a: tf.Tensor): tf.Scalar => {
    let h = a as tf.Tensor4D;
    for (let s = firstIndex + 1; s < stages.length; s++) {
      h = runStage(stages[s], h, backward.op);
      const name = stages[s].name as CamLayer;
      if (wanted.includes(name)) {
        activations.set(name, tf.keep(tf.clone(h)));
        h = gradientTap((dy) => gradients.set(name, dy))(h);
      }
    }
    logits = tf.keep(runHead(h, net.fcWeight, net.fcBias, net.spec.config.pooling));
    const logit: tf.Scalar = tf.sum(tf.slice(logits, [0, targetClass], [1, 1]));
    if (camScore === 'logit') return logit;
    return tf.add(logit, positionMargins(classScoreMap(h, net.fcWeight, net.fcBias), targetClass)) as tf.Scalar;
  };
  try {
    const [first] = tf.grads(score)([shallow]);
    gradients.set(wanted[0], first as tf.Tensor4D);
  } catch (err) {
    tf.dispose([...activations.values(), ...gradients.values()]);
    if (logits) logits.dispose();
    throw err;
  }
  return {
    logits: logits!,
    evidence: wanted.map((layer) => ({ layer, activations: activations.get(layer)!, gradients: gradients.get(layer)! })),
  };
}

/** sum over positions of max(0, s_target - max over the other classes of s), for a [1, positions, classes] score map. */
export function positionMargins(scores: tf.Tensor3D, targetClass: number): tf.Scalar {
  const classes = scores.shape[2];
  const target = tf.slice(scores, [0, 0, targetClass], [-1, -1, 1]);
  const others = Array.from({ length: classes }, (_, c) => c).filter((c) => c !== targetClass).map((c) => tf.slice(scores, [0, 0, c], [-1, -1, 1]));
  const strongest = others.length === 1 ? others[0] : tf.max(tf.concat(others, 2), 2, true);
  return tf.sum(tf.relu(tf.sub(target, strongest)));
}

/** The passes on tfjs's backend (wasm, cpu or tfjs-node): gatherEvidence and the folded forward. */
export class TfjsEvidence implements EvidenceSource {
  readonly name = 'tfjs' as const;
  private readonly backward: InputGradientConvs;

  constructor(private readonly net: FoldedResNet) {
    this.backward = new InputGradientConvs(net);
  }

  async gather(x: tf.Tensor4D, layers: readonly CamLayer[], targetClass: number, score: CamScore = 'logit'): Promise<EvidencePass> {
    return gatherEvidence(this.net, this.backward, x, layers, targetClass, score);
  }

  async logits(x: tf.Tensor4D): Promise<number[]> {
    const logits = tf.tidy(() => this.net.forward(x).logits);
    const values = Array.from(await logits.data());
    logits.dispose();
    return values;
  }

  dispose(): void {
    this.backward.dispose();
  }
}
