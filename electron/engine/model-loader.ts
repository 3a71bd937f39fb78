import { basename } from 'node:path';
import { IMAGENET_MEAN, IMAGENET_STD, MANIFEST_SCHEMA_VERSION, type InputSizePolicy, type Manifest } from './manifest.ts';
import { isModelDir, loadModelDir, type LoadedModel } from './model-dir.ts';
import { ResNet50 } from './resnet50.ts';
import { RESNET50_BLOCKS, resnetSpec } from './resnet-spec.ts';
import { readSafetensors } from './safetensors.ts';
import { stateDictFromSafetensors } from './state-dict.ts';

export interface ModelOverrides {
  numClasses?: number;
  mean?: number[];
  std?: number[];
  inputSize?: InputSizePolicy;
  defectClass?: number;
}

/**
 * Opens either a Kizu model directory or a bare torchvision/timm ResNet50 .safetensors. For
 * the latter the manifest is inferred: classes from fc, channels and width from conv1,
 * ImageNet normalisation unless given.
 */
export async function loadModel(path: string, overrides: ModelOverrides = {}): Promise<LoadedModel> {
  if (await isModelDir(path)) {
    const model = await loadModelDir(path);
    return { ...model, manifest: applyOverrides(model.manifest, overrides) };
  }
  if (!path.endsWith('.safetensors')) {
    throw new Error(`${path}: not a Kizu model directory (no manifest.json) nor a .safetensors file`);
  }
  const file = await readSafetensors(path);
  const conv1 = file.tensors.get('conv1.weight') ?? file.tensors.get('module.conv1.weight');
  const fc = file.tensors.get('fc.weight') ?? file.tensors.get('module.fc.weight');
  if (!conv1 || conv1.shape.length !== 4) throw new Error(`${path}: tensor "conv1.weight" is missing or not 4-D; is this a ResNet50 state_dict?`);
  if (!fc && overrides.numClasses === undefined) throw new Error(`${path}: tensor "fc.weight" is missing; pass --num-classes`);
  const numClasses = overrides.numClasses ?? fc!.shape[0];
  const inChannels = conv1.shape[1] === 1 ? 1 : 3;
  const spec = resnetSpec({ numClasses, inChannels, width: conv1.shape[0], blocks: [...RESNET50_BLOCKS] });
  const loaded = stateDictFromSafetensors(file, spec);
  const manifest: Manifest = {
    format: 'kizu-model',
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    name: basename(path, '.safetensors'),
    architecture: { name: 'resnet50', width: spec.config.width, blocks: spec.config.blocks },
    classes: Array.from({ length: numClasses }, (_, i) => `class${i}`),
    defectClass: Math.min(overrides.defectClass ?? (numClasses === 2 ? 1 : 0), numClasses - 1),
    inputChannels: inChannels,
    inputSize: { policy: 'fixed', height: 224, width: 224 },
    normalization: inChannels === 3 ? { mean: IMAGENET_MEAN, std: IMAGENET_STD } : { mean: [0.449], std: [0.226] },
    weights: { file: basename(path), dtype: 'float32' },
    provenance: { createdAt: new Date().toISOString(), createdBy: 'kizu (inferred from a bare .safetensors)', notes: loaded.notes },
    metrics: {},
  };
  return { source: path, manifest: applyOverrides(manifest, overrides), net: ResNet50.fromStateDict(spec, loaded.weights) };
}

function applyOverrides(m: Manifest, o: ModelOverrides): Manifest {
  return {
    ...m,
    normalization: { mean: o.mean ?? m.normalization.mean, std: o.std ?? m.normalization.std },
    inputSize: o.inputSize ?? m.inputSize,
    defectClass: o.defectClass ?? m.defectClass,
  };
}
