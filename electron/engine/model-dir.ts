import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../data/atomic-write.ts';
import { MANIFEST_FILE, MODEL_CARD_FILE, parseManifest, type Manifest } from './manifest.ts';
import { ResNet50 } from './resnet50.ts';
import { resnetSpec, type ResNetSpec } from './resnet-spec.ts';
import { encodeSafetensors, readSafetensors } from './safetensors.ts';
import { stateDictFromSafetensors } from './state-dict.ts';

export interface LoadedModel {
  /** Where it came from: a model directory or a bare .safetensors file. */
  source: string;
  manifest: Manifest;
  net: ResNet50;
}

export function specFromManifest(m: Manifest): ResNetSpec {
  return resnetSpec({ numClasses: m.classes.length, inChannels: m.inputChannels, width: m.architecture.width, blocks: m.architecture.blocks, pooling: m.architecture.pooling });
}

export async function isModelDir(path: string): Promise<boolean> {
  try {
    return (await stat(join(path, MANIFEST_FILE))).isFile();
  } catch {
    return false;
  }
}

export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read the model manifest (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: the model manifest is not JSON (${(err as Error).message})`);
  }
  return parseManifest(raw, path);
}

/** Loads a Kizu model directory: manifest.json, the weights it names, checked tensor by tensor. */
export async function loadModelDir(dir: string): Promise<LoadedModel> {
  const manifest = await readManifest(dir);
  const spec = specFromManifest(manifest);
  const weights = await readSafetensors(join(dir, manifest.weights.file));
  const { weights: stateDict } = stateDictFromSafetensors(weights, spec);
  return { source: dir, manifest, net: ResNet50.fromStateDict(spec, stateDict) };
}

/**
 * Writes weights first and the manifest last, each atomically, so a reader never sees a
 * manifest that points at half-written weights.
 */
export async function saveModelDir(dir: string, manifest: Manifest, net: ResNet50, card?: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const stateDict = await net.toStateDict();
  const bytes = encodeSafetensors(stateDict, manifest.weights.dtype === 'float16' ? 'F16' : 'F32', { format: 'pt', producer: 'kizu' });
  await writeFileAtomic(join(dir, manifest.weights.file), bytes);
  if (card !== undefined) await writeFileAtomic(join(dir, MODEL_CARD_FILE), card);
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}
