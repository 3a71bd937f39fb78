import { join } from 'node:path';
import { initialiseResNet } from '../init-weights.ts';
import { isModelDir, readManifest } from '../model-dir.ts';
import { ResNet50 } from '../resnet50.ts';
import type { ResNetSpec } from '../resnet-spec.ts';
import { readSafetensors } from '../safetensors.ts';
import { stateDictFromSafetensors } from '../state-dict.ts';

/**
 * Starting weights for fine-tuning: a torchvision/timm ResNet50 .safetensors (e.g. ImageNet
 * weights a user brings) or a Kizu model directory. The fc layer is replaced (freshly
 * initialised) when its classes differ; a colour stem is summed to grey when the data is grey.
 */
async function weightsFile(path: string): Promise<string> {
  const file = (await isModelDir(path)) ? join(path, (await readManifest(path)).weights.file) : path;
  if (!file.endsWith('.safetensors')) throw new Error(`--init ${path}: expected a .safetensors file or a Kizu model directory`);
  return file;
}

/** The stem width of the weights at `path`, so a run started from them needs no --width. */
export async function initWidth(path: string): Promise<number> {
  const file = await weightsFile(path);
  const conv1 = (await readSafetensors(file)).tensors.get('conv1.weight');
  if (!conv1 || conv1.shape.length !== 4) throw new Error(`--init ${path}: no 4-D "conv1.weight"; is this a ResNet50 state_dict?`);
  return conv1.shape[0];
}

export async function loadInitWeights(path: string, spec: ResNetSpec, seed: number): Promise<{ net: ResNet50; notes: string[] }> {
  const loaded = stateDictFromSafetensors(await readSafetensors(await weightsFile(path)), spec, { allowHeadMismatch: true });
  if (loaded.headMissing) {
    const fresh = initialiseResNet(spec, seed);
    for (const name of ['fc.weight', 'fc.bias']) {
      const data = (await fresh.param(name).data()) as Float32Array;
      const shape = fresh.param(name).shape as number[];
      // initialiseResNet holds fc.weight as [in, out]; the state dict wants PyTorch's [out, in].
      const torch = name === 'fc.weight' ? transpose2d(data, shape[0], shape[1]) : data;
      loaded.weights.set(name, { shape: name === 'fc.weight' ? [shape[1], shape[0]] : shape, data: torch });
    }
    fresh.dispose();
  }
  return { net: ResNet50.fromStateDict(spec, loaded.weights), notes: [`initialised from ${path}`, ...loaded.notes] };
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}
