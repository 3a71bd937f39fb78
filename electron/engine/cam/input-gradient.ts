import * as tf from '@tensorflow/tfjs-core';
import type { ConvOp, FoldedResNet } from '../resnet50.ts';
import type { ConvSpec } from '../resnet-spec.ts';

type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];

/**
 * Puts pixel (i, j) of t at (stride*i, stride*j) of a zero [height, width] grid: the
 * zero insertion a strided conv's input gradient needs, from reshapes alone.
 */
function zeroInsert(t: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  const [n, h, w, c] = t.shape;
  const cols = tf.reshape(tf.stack([t, tf.zerosLike(t)], 3), [n, h, 2 * w, c]);
  const rows = tf.reshape(tf.stack([cols, tf.zerosLike(cols)], 2), [n, 2 * h, 2 * w, c]);
  return tf.slice(rows, [0, 0, 0, 0], [n, height, width, c]) as tf.Tensor4D;
}

/**
 * The input-only gradient of the folded network's convs, for CAMs. The weights are fixed,
 * so each conv's backward filter (transposed in/out, flipped in space) is built once and
 * kept: the backward pass is then plain stride-1 XNNPACK convolutions, with no filter
 * gradient and no per-call filter shuffling.
 */
export class InputGradientConvs {
  private readonly backwardFilters = new Map<string, tf.Tensor4D>();

  constructor(private readonly net: FoldedResNet) {}

  private backwardFilter(c: ConvSpec): tf.Tensor4D {
    let f = this.backwardFilters.get(c.conv);
    if (!f) {
      const { filter } = this.net.conv(c);
      // Built inside the backward pass's tidy, so kept explicitly: it lives as long as the model.
      f = tf.keep(tf.tidy(() => {
        const swapped = tf.transpose(filter, [0, 1, 3, 2]) as tf.Tensor4D;
        return c.kernel === 1 ? swapped : (tf.reverse(swapped, [0, 1]) as tf.Tensor4D);
      }));
      this.backwardFilters.set(c.conv, f);
    }
    return f;
  }

  /** dL/dx of conv c at input shape [n, H, W, Cin], given dL/dy. */
  inputGradient(dy: tf.Tensor4D, c: ConvSpec, inputShape: number[]): tf.Tensor4D {
    const [, height, width] = inputShape;
    const w = this.backwardFilter(c);
    if (c.kernel === 1) {
      const atOutputs = tf.conv2d(dy, w, 1, 0);
      return c.stride === 1 ? atOutputs : zeroInsert(atOutputs, height, width);
    }
    const before = c.kernel - 1 - c.pad;
    if (c.stride === 1) return tf.conv2d(dy, w, 1, before);
    const spread = zeroInsert(dy, c.stride * dy.shape[1], c.stride * dy.shape[2]);
    const [, sh, sw] = spread.shape;
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0], [before, height + c.kernel - 1 - sh - before], [before, width + c.kernel - 1 - sw - before], [0, 0],
    ];
    return tf.conv2d(spread, w, 1, pad);
  }

  /** A ConvOp for runStage: fused forward, input-only backward through the ReLU mask. */
  readonly op: ConvOp = (input, c, relu) => {
    const { filter, bias } = this.net.conv(c);
    const f = ((x: tf.Tensor4D, save: tf.GradSaveFunc) => {
      const y = tf.fused.conv2d({ x, filter, strides: c.stride, pad: c.pad, bias, activation: relu ? 'relu' : 'linear' });
      save([y]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) =>
          this.inputGradient(relu ? (tf.mul(dy, tf.step(saved[0])) as tf.Tensor4D) : dy, c, x.shape),
      };
    }) as unknown as CustomGradientFunc;
    return tf.customGrad(f)(input) as tf.Tensor4D;
  };

  dispose(): void {
    tf.dispose([...this.backwardFilters.values()]);
    this.backwardFilters.clear();
  }
}
