import type { ResNetSpec, StageName } from '../resnet-spec.ts';

/**
 * Training-only 1x1 heads on the outputs of layer2 and layer3 (stride 8 and 16): where a
 * mask is known (a pasted synthetic defect, a reviewed mask, an OK image's nothing) it
 * supervises those stages' features at their own resolution, which layer4's class-score map
 * (stride 32) is too coarse for: a pit of a few dozen pixels is one layer4 cell or less. The
 * heads shape the features LayerCAM reads at layer2 and layer3 and are dropped when the model
 * is saved, so its weights stay a plain torchvision state dict.
 */
export const SIDE_HEAD_LAYERS = ['layer2', 'layer3'] as const;
export type SideHeadLayer = (typeof SIDE_HEAD_LAYERS)[number];

export const sideHeadParams = (layer: SideHeadLayer) => ({ weight: `side.${layer}.weight`, bias: `side.${layer}.bias` });

const HALVINGS: Record<StageName, number> = { layer1: 2, layer2: 3, layer3: 4, layer4: 5 };

/** Cells of a stage's grid along one side of the input: each stride-2 step rounds up. */
export function stageCells(inputSize: number, stage: StageName): number {
  let side = inputSize;
  for (let i = 0; i < HALVINGS[stage]; i++) side = Math.ceil(side / 2);
  return side;
}

/** The side heads' parameters in the tfjs layout: weight [stage channels, 1], bias [1]. */
export function sideHeadShapes(spec: ResNetSpec, layers: readonly SideHeadLayer[]): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const layer of layers) {
    const stage = spec.stages.find((s) => s.name === layer)!;
    const names = sideHeadParams(layer);
    shapes.set(names.weight, [stage.outChannels, 1]);
    shapes.set(names.bias, [1]);
  }
  return shapes;
}

/** Parses `--side-heads`: "layer2,layer3", one of them, or "none". */
export function parseSideHeads(value: string): SideHeadLayer[] {
  if (value.trim() === 'none') return [];
  const layers = value.split(',').map((s) => s.trim());
  for (const layer of layers) {
    if (!(SIDE_HEAD_LAYERS as readonly string[]).includes(layer)) throw new Error(`--side-heads takes ${SIDE_HEAD_LAYERS.join(', ')} (comma-separated) or none, not "${layer}"`);
  }
  return SIDE_HEAD_LAYERS.filter((l) => layers.includes(l));
}
