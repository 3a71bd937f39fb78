import * as tf from '@tensorflow/tfjs-core';
import { ResNet50 } from '../resnet50.ts';
import { hashSeed, Rng } from '../../data/synth/rng.ts';
import { parameterShapes, type ResNetSpec } from '../resnet-spec.ts';
import { sideHeadShapes, type SideHeadLayer } from './side-heads.ts';

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
  /** The network's own parameters, what a saved model holds: every slot but the side heads'. */
  readonly netSlots: ParamSlot[];

  /** `sideHeads`: training-only heads (side-heads.ts), laid out after the network's parameters. */
  constructor(readonly spec: ResNetSpec, readonly sideHeads: readonly SideHeadLayer[] = []) {
    let offset = 0;
    const place = (name: string, shape: number[], trainable: boolean, decay: boolean): ParamSlot => {
      const size = shape.reduce((a, b) => a * b, 1);
      const slot: ParamSlot = { name, shape, offset, size, trainable, decay };
      offset += size;
      return slot;
    };
    this.netSlots = [...parameterShapes(spec)].map(([name, torchShape]) => {
      const shape = tfShape(name, torchShape);
      const isStat = name.endsWith('running_mean') || name.endsWith('running_var');
      return place(name, shape, !isStat, !isStat && name.endsWith('.weight') && (shape.length === 4 || name === 'fc.weight'));
    });
    const side = [...sideHeadShapes(spec, sideHeads)].map(([name, shape]) => place(name, shape, true, name.endsWith('.weight')));
    this.slots = [...this.netSlots, ...side];
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

/**
 * Copies a network's parameters into a (possibly shared) flat buffer. Side heads start from
 * a seeded draw of fc's default init (uniform within 1/sqrt(inputs)), bias 0.
 */
export async function flattenNet(layout: ParamLayout, net: ResNet50, into: Float32Array = new Float32Array(layout.size), seed = 0): Promise<Float32Array> {
  for (const slot of layout.netSlots) into.set((await net.param(slot.name).data()) as Float32Array, slot.offset);
  const rng = new Rng(hashSeed(seed, 'side-heads'));
  for (const slot of layout.slots.slice(layout.netSlots.length)) {
    const bound = slot.shape.length === 2 ? 1 / Math.sqrt(slot.shape[0]) : 0;
    const values = layout.view(into, slot.name);
    for (let i = 0; i < values.length; i++) values[i] = (rng.next() * 2 - 1) * bound;
  }
  return into;
}

/** A network whose tensors are copies of the flat buffer's values (side heads left out). */
export function netFromFlat(layout: ParamLayout, flat: Float32Array): ResNet50 {
  const params = new Map(layout.netSlots.map((s) => [s.name, tf.tensor(flat.slice(s.offset, s.offset + s.size), s.shape)]));
  return ResNet50.fromTensors(layout.spec, params);
}
