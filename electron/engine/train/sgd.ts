import type { ParamLayout } from './param-layout.ts';

export interface SgdOptions {
  momentum: number;
  weightDecay: number;
}

/**
 * PyTorch's SGD on the flat parameter buffer: d = g + wd * p (decayed weights only),
 * v = momentum * v + d, p -= lr * v. The velocity is state a checkpoint must keep.
 */
export class Sgd {
  readonly velocity: Float32Array;

  constructor(
    private readonly layout: ParamLayout,
    private readonly opts: SgdOptions,
    velocity?: Float32Array,
  ) {
    this.velocity = velocity ?? new Float32Array(layout.size);
  }

  step(params: Float32Array, grads: Float32Array, lr: number): void {
    const { momentum, weightDecay } = this.opts;
    const v = this.velocity;
    for (const slot of this.layout.trainable) {
      const wd = slot.decay ? weightDecay : 0;
      for (let i = slot.offset, end = slot.offset + slot.size; i < end; i++) {
        const d = grads[i] + wd * params[i];
        v[i] = momentum * v[i] + d;
        params[i] -= lr * v[i];
      }
    }
  }
}

/** Linear warm-up then cosine decay to zero: a schedule that needs no tuning of step points. */
export function learningRate(base: number, step: number, totalSteps: number, warmupSteps: number): number {
  if (step < warmupSteps) return (base * (step + 1)) / warmupSteps;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return 0.5 * base * (1 + Math.cos(Math.PI * Math.min(1, progress)));
}
