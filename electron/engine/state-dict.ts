import type { SafetensorsFile } from './safetensors.ts';
import { parameterShapes, type ResNetSpec } from './resnet-spec.ts';

/** Float parameters in PyTorch layout (OIHW convs, [out, in] fc), keyed by state_dict name. */
export type StateDict = Map<string, { shape: number[]; data: Float32Array }>;

export interface LoadOptions {
  /** Leave fc out when its shape differs (pretrained backbones with another head). */
  allowHeadMismatch?: boolean;
}

export interface LoadedStateDict {
  weights: StateDict;
  /** True when fc was absent or mismatched and must be initialised by the caller. */
  headMissing: boolean;
  /** What was adapted on the way in, for the provenance record. */
  notes: string[];
}

const IGNORED = /(^|\.)num_batches_tracked$/;

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Matches a checkpoint against the network's parameter list and reports the first offending
 * tensor by name. DataParallel's "module." prefix is stripped; a 3-channel stem is summed
 * over its input channels for a grey model, as timm does for in_chans=1.
 */
export function stateDictFromSafetensors(file: SafetensorsFile, spec: ResNetSpec, opts: LoadOptions = {}): LoadedStateDict {
  const expected = parameterShapes(spec);
  const byName = new Map([...file.tensors].map(([k, v]) => [k.startsWith('module.') ? k.slice(7) : k, v]));
  const weights: StateDict = new Map();
  const notes: string[] = [];
  let headMissing = false;
  for (const name of byName.keys()) {
    if (!expected.has(name) && !IGNORED.test(name)) {
      throw new Error(`${file.source}: tensor "${name}" is not a parameter of a ResNet50 (${spec.stages[0].blocks.length}/${spec.stages[1].blocks.length}/${spec.stages[2].blocks.length}/${spec.stages[3].blocks.length} blocks, width ${spec.config.width}); is this a ResNet50 checkpoint?`);
    }
  }
  for (const [name, shape] of expected) {
    const entry = byName.get(name);
    const isHead = name.startsWith('fc.');
    if (!entry) {
      if (isHead && opts.allowHeadMismatch) { headMissing = true; continue; }
      throw new Error(`${file.source}: tensor "${name}" is missing (expected shape ${JSON.stringify(shape)})`);
    }
    if (name === 'conv1.weight' && spec.config.inChannels === 1 && sameShape(entry.shape, [shape[0], 3, shape[2], shape[3]])) {
      weights.set(name, { shape, data: sumInputChannels(entry.toFloat32(), shape[0], 3, shape[2] * shape[3]) });
      notes.push('conv1.weight summed over its 3 input channels for grey input');
      continue;
    }
    if (!sameShape(entry.shape, shape)) {
      if (isHead && opts.allowHeadMismatch) { headMissing = true; continue; }
      throw new Error(`${file.source}: tensor "${name}" has shape ${JSON.stringify(entry.shape)} but the model needs ${JSON.stringify(shape)}`);
    }
    weights.set(name, { shape, data: entry.toFloat32() });
  }
  if (headMissing) {
    weights.delete('fc.weight');
    weights.delete('fc.bias');
    notes.push('fc replaced: the checkpoint has no head for these classes');
  }
  return { weights, headMissing, notes };
}

function sumInputChannels(data: Float32Array, out: number, inCh: number, area: number): Float32Array {
  const result = new Float32Array(out * area);
  for (let o = 0; o < out; o++) {
    for (let c = 0; c < inCh; c++) {
      for (let i = 0; i < area; i++) result[o * area + i] += data[(o * inCh + c) * area + i];
    }
  }
  return result;
}
