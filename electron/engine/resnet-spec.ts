/**
 * torchvision's ResNet50 (v1.5) described as data: every parameter's state_dict key and
 * its PyTorch shape, so weights load by name from torchvision or timm checkpoints.
 */

export const STAGES = ['layer1', 'layer2', 'layer3', 'layer4'] as const;
export type StageName = (typeof STAGES)[number];
export const CAM_LAYERS = ['layer2', 'layer3', 'layer4'] as const;
export type CamLayer = (typeof CAM_LAYERS)[number];

export interface ResNetConfig {
  numClasses: number;
  inChannels: 1 | 3;
  /** Stem width; torchvision's is 64 and every stage scales with it. */
  width: number;
  /** Bottlenecks per stage; ResNet50 is [3, 4, 6, 3]. */
  blocks: [number, number, number, number];
  /** How the head pools layer4; torchvision's average when absent. */
  pooling?: HeadPooling;
}

/**
 * How the head turns layer4 into class scores. `avg` is torchvision's global average then fc.
 * `topk` applies fc at every layer4 position (the class-score map) and averages each class's
 * highest `fraction` of positions, so a small defect decides the score instead of being
 * averaged away by the texture around it. Same parameters either way.
 */
export type HeadPooling = { kind: 'avg' } | { kind: 'topk'; fraction: number };
export const AVG_POOLING: HeadPooling = { kind: 'avg' };

export const RESNET50_WIDTH = 64;
export const RESNET50_BLOCKS: ResNetConfig['blocks'] = [3, 4, 6, 3];
export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;
const EXPANSION = 4;

export function resnet50Config(numClasses: number, inChannels: 1 | 3 = 3): ResNetConfig {
  return { numClasses, inChannels, width: RESNET50_WIDTH, blocks: [...RESNET50_BLOCKS] };
}

export interface ConvSpec {
  /** state_dict prefix of the conv, e.g. layer2.0.conv2 or layer2.0.downsample.0 */
  conv: string;
  /** state_dict prefix of the BatchNorm that follows it. */
  bn: string;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: number;
}

export interface BlockSpec {
  prefix: string;
  convs: [ConvSpec, ConvSpec, ConvSpec];
  downsample?: ConvSpec;
}

export interface StageSpec {
  name: StageName;
  blocks: BlockSpec[];
  outChannels: number;
}

export interface ResNetSpec {
  config: ResNetConfig;
  stem: ConvSpec;
  stages: StageSpec[];
  featureChannels: number;
}

/** Builds the layer list exactly as torchvision's _make_layer does (stride on the 3x3 conv). */
export function resnetSpec(config: ResNetConfig): ResNetSpec {
  const stem: ConvSpec = { conv: 'conv1', bn: 'bn1', inChannels: config.inChannels, outChannels: config.width, kernel: 7, stride: 2, pad: 3 };
  let inplanes = config.width;
  const stages: StageSpec[] = STAGES.map((name, s) => {
    const planes = config.width * 2 ** s;
    const stride = s === 0 ? 1 : 2;
    const blocks: BlockSpec[] = [];
    for (let b = 0; b < config.blocks[s]; b++) {
      const prefix = `${name}.${b}`;
      const blockStride = b === 0 ? stride : 1;
      const out = planes * EXPANSION;
      const convs: BlockSpec['convs'] = [
        { conv: `${prefix}.conv1`, bn: `${prefix}.bn1`, inChannels: inplanes, outChannels: planes, kernel: 1, stride: 1, pad: 0 },
        { conv: `${prefix}.conv2`, bn: `${prefix}.bn2`, inChannels: planes, outChannels: planes, kernel: 3, stride: blockStride, pad: 1 },
        { conv: `${prefix}.conv3`, bn: `${prefix}.bn3`, inChannels: planes, outChannels: out, kernel: 1, stride: 1, pad: 0 },
      ];
      const downsample: ConvSpec | undefined =
        blockStride !== 1 || inplanes !== out
          ? { conv: `${prefix}.downsample.0`, bn: `${prefix}.downsample.1`, inChannels: inplanes, outChannels: out, kernel: 1, stride: blockStride, pad: 0 }
          : undefined;
      blocks.push({ prefix, convs, downsample });
      inplanes = out;
    }
    return { name, blocks, outChannels: inplanes };
  });
  return { config, stem, stages, featureChannels: inplanes };
}

export function allConvs(spec: ResNetSpec): ConvSpec[] {
  const convs = [spec.stem];
  for (const stage of spec.stages) {
    for (const block of stage.blocks) {
      convs.push(...block.convs);
      if (block.downsample) convs.push(block.downsample);
    }
  }
  return convs;
}

export const BN_PARAMS = ['weight', 'bias', 'running_mean', 'running_var'] as const;

/** Every float parameter's state_dict key and PyTorch shape, in torchvision's order. */
export function parameterShapes(spec: ResNetSpec): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const c of allConvs(spec)) {
    shapes.set(`${c.conv}.weight`, [c.outChannels, c.inChannels, c.kernel, c.kernel]);
    for (const p of BN_PARAMS) shapes.set(`${c.bn}.${p}`, [c.outChannels]);
  }
  shapes.set('fc.weight', [spec.config.numClasses, spec.featureChannels]);
  shapes.set('fc.bias', [spec.config.numClasses]);
  return shapes;
}
