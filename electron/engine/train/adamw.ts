import type { ParamLayout } from './param-layout.ts';

export interface AdamWOptions {
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const ADAMW_DEFAULTS: Omit<AdamWOptions, 'weightDecay'> = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/**
 * PyTorch's AdamW on the flat parameter buffer: p *= 1 - lr * wd (decayed weights only), then
 * m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, p -= lr * m^ / (sqrt(v^) + eps) with the
 * bias corrections of step t. Per-parameter step sizes make it indifferent to the gradient
 * scale, which from scratch on these networks spans two orders of magnitude. Both moments
 * are state a checkpoint must keep; t is the number of steps taken.
 */
export class AdamW {
  readonly firstMoment: Float32Array;
  readonly secondMoment: Float32Array;

  constructor(
    private readonly layout: Pick<ParamLayout, 'size' | 'trainable'>,
    private readonly opts: AdamWOptions,
    private steps: number,
    firstMoment?: Float32Array,
    secondMoment?: Float32Array,
  ) {
    this.firstMoment = firstMoment ?? new Float32Array(layout.size);
    this.secondMoment = secondMoment ?? new Float32Array(layout.size);
  }

  step(params: Float32Array, grads: Float32Array, lr: number): void {
    const { weightDecay, beta1, beta2, eps } = this.opts;
    const m = this.firstMoment;
    const v = this.secondMoment;
    this.steps++;
    const c1 = 1 - beta1 ** this.steps;
    const c2 = 1 - beta2 ** this.steps;
    for (const slot of this.layout.trainable) {
      const decay = slot.decay ? 1 - lr * weightDecay : 1;
      for (let i = slot.offset, end = slot.offset + slot.size; i < end; i++) {
        const g = grads[i];
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        params[i] = params[i] * decay - (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
    }
  }
}
