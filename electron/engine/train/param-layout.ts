import * as tf from '@tensorflow/tfjs-core';
import { ResNet50 } from '../resnet50.ts';
import { parameterShapes, type ResNetSpec } from '../resnet-spec.ts';

export interface ParamSlot {
  /** torchvision state_dict key. */
  name: string;
  /** tfjs layout: convs [kh, kw, in, out], fc.weight [in, out]. */
  shape: number[];
  offset: number;
  size: number;
  /** Learned by gradient descent; BatchNorm running statistics are not. */
  trainable: boolean;
  /** Weight decay applies to conv and fc weights only, not to BatchNorm or biases. */
  decay: boolean;
}

function tfShape(name: string, torchShape: number[]): number[] {
  if (torchShape.length === 4) return [torchShape[2], torchShape[3], torchShape[1], torchShape[0]];
  if (name === 'fc.weight') return [torchShape[1], torchShape[0]];
  return torchShape;
}

/**
 * Every parameter of a network at a fixed offset in one flat float32 buffer, so workers can
 * share weights through a SharedArrayBuffer and gradients can be averaged and applied as
 * plain arrays.
 */
export class ParamLayout {
  readonly slots: ParamSlot[];
  readonly size: number;
  readonly trainable: ParamSlot[];

  constructor(readonly spec: ResNetSpec) {
    let offset = 0;
    this.slots = [...parameterShapes(spec)].map(([name, torchShape]) => {
      const shape = tfShape(name, torchShape);
      const size = shape.reduce((a, b) => a * b, 1);
      const isStat = name.endsWith('running_mean') || name.endsWith('running_var');
      const slot: ParamSlot = { name, shape, offset, size, trainable: !isStat, decay: !isStat && name.endsWith('.weight') && (shape.length === 4 || name === 'fc.weight') };
      offset += size;
      return slot;
    });
    this.size = offset;
    this.trainable = this.slots.filter((s) => s.trainable);
  }

  slot(name: string): ParamSlot {
    const s = this.slots.find((x) => x.name === name);
    if (!s) throw new Error(`no parameter "${name}" in the layout`);
    return s;
  }

  view(buffer: Float32Array, name: string): Float32Array {
    const s = this.slot(name);
    return buffer.subarray(s.offset, s.offset + s.size);
  }
}

/** Copies a network's parameters into a (possibly shared) flat buffer. */
export async function flattenNet(layout: ParamLayout, net: ResNet50, into: Float32Array = new Float32Array(layout.size)): Promise<Float32Array> {
  for (const slot of layout.slots) into.set((await net.param(slot.name).data()) as Float32Array, slot.offset);
  return into;
}

/** A network whose tensors are copies of the flat buffer's values. */
export function netFromFlat(layout: ParamLayout, flat: Float32Array): ResNet50 {
  const params = new Map(layout.slots.map((s) => [s.name, tf.tensor(flat.slice(s.offset, s.offset + s.size), s.shape)]));
  return ResNet50.fromTensors(layout.spec, params);
}
