import * as tf from '@tensorflow/tfjs-core';
import { ResNet50 } from './resnet50.ts';
import { parameterShapes, type ResNetSpec } from './resnet-spec.ts';

/**
 * torchvision's initialisation, seeded: Kaiming-normal (fan_out, ReLU) convs, BatchNorm at
 * identity, fc uniform(+-1/sqrt(fan_in)) as nn.Linear. Shapes here are tfjs layouts.
 */
export function initialiseResNet(spec: ResNetSpec, seed: number): ResNet50 {
  const params = new Map<string, tf.Tensor>();
  let n = 0;
  for (const [name, torchShape] of parameterShapes(spec)) {
    // tfjs draws from Math.random when a seed is falsy, so seed 0's first tensor needs a
    // stand-in that no other (seed, tensor) pair reaches; every other pair keeps its stream.
    const s = seed * 1000 + n++ || -1;
    params.set(name, tf.tidy(() => {
      if (torchShape.length === 4) {
        const [out, inCh, kh, kw] = torchShape;
        return tf.randomNormal([kh, kw, inCh, out], 0, Math.sqrt(2 / (out * kh * kw)), 'float32', s);
      }
      if (name === 'fc.weight') {
        const bound = 1 / Math.sqrt(torchShape[1]);
        return tf.randomUniform([torchShape[1], torchShape[0]], -bound, bound, 'float32', s);
      }
      if (name === 'fc.bias') {
        const bound = 1 / Math.sqrt(spec.featureChannels);
        return tf.randomUniform(torchShape, -bound, bound, 'float32', s);
      }
      return name.endsWith('.weight') || name.endsWith('running_var') ? tf.ones(torchShape) : tf.zeros(torchShape);
    }));
  }
  return ResNet50.fromTensors(spec, params);
}
