import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_MASK_PARAMS } from '../api.ts';
import { writePng } from '../data/image-io.ts';
import { renderSample } from '../data/synth/render-sample.ts';
import { TEXTURE_FAMILIES } from '../data/synth/textures.ts';
import { initialiseResNet } from '../engine/init-weights.ts';
import { MANIFEST_SCHEMA_VERSION, type Manifest } from '../engine/manifest.ts';
import { saveModelDir } from '../engine/model-dir.ts';
import { resnet50Config, resnetSpec } from '../engine/resnet-spec.ts';
import { EngineHost } from '../worker/engine-host.ts';
import { runExport } from '../worker/export-run.ts';
import type { ExportPlanItem } from '../worker/protocol.ts';

/**
 * A long batch as the app runs it: the engine worker's EngineHost (model, map cache, gate)
 * and its export run, explaining every image (LayerCAM, layers 2-4 and fused), making each
 * mask with maskFromMap and writing one COCO export. Memory is sampled at checkpoints: tfjs's
 * live tensors must not grow; RSS is reported with what is meant to grow beside it (the map
 * cache, up to its budget, and the deflated masks the export holds until it writes).
 */

export interface LongRunOptions {
  images: number;
  size: number;
  /** Image counts at which memory is sampled. */
  checkpoints: number[];
  /** A model to use; by default a seeded full-width ResNet50 (23.5 M parameters) for grey input of `size`. */
  model?: string;
  /** The explain cache's budget; default the app's. */
  cacheBytes?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface MemorySample {
  images: number;
  numTensors: number;
  tensorMiB: number;
  rssMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
  cacheMiB: number;
  cachedImages: number;
  /** What the export keeps until it writes its files (each mask deflated). */
  heldExportKiB: number;
}

export interface LongRunResult {
  images: number;
  size: number;
  model: string;
  /** What ran the network's passes. */
  engine: string;
  seconds: number;
  exported: number;
  samples: MemorySample[];
}

const MiB = 1024 * 1024;
const round1 = (v: number) => Math.round(v * 10) / 10;

/** The app's model for a grey camera at `size` pixels: torchvision's ResNet50 shape, seeded weights. */
export async function seededModel(dir: string, size: number): Promise<string> {
  const spec = resnetSpec(resnet50Config(2, 1));
  const net = initialiseResNet(spec, 1);
  const manifest: Manifest = {
    format: 'kizu-model', schemaVersion: MANIFEST_SCHEMA_VERSION, name: 'long-run (seeded ResNet50)',
    architecture: { name: 'resnet50', width: spec.config.width, blocks: spec.config.blocks },
    classes: ['ok', 'defect'], defectClass: 1, inputChannels: 1,
    inputSize: { policy: 'fixed', height: size, width: size },
    normalization: { mean: [0.5], std: [0.25] },
    weights: { file: 'weights.safetensors', dtype: 'float32' },
    provenance: { createdAt: new Date(0).toISOString(), createdBy: 'kizu bench --long', seed: 1, notes: [] },
    metrics: {},
  };
  await saveModelDir(dir, manifest, net);
  net.dispose();
  return dir;
}

/** `count` synthetic DAGM-like grey images of `size` pixels, a third of them defective. */
export async function writeImages(dir: string, count: number, size: number): Promise<ExportPlanItem[]> {
  await mkdir(dir, { recursive: true });
  const items: ExportPlanItem[] = [];
  for (let i = 0; i < count; i++) {
    const family = TEXTURE_FAMILIES[i % TEXTURE_FAMILIES.length].name;
    const sample = renderSample(family, i, size, i % 3 === 0);
    const id = `${String(i).padStart(5, '0')}.png`;
    const path = join(dir, id);
    await writePng(path, { width: size, height: size, channels: 1, data: sample.image });
    // Reviewed as defective with no stored mask: every image is explained and its mask made from its map.
    items.push({ id, path, modifiedAt: 1, mask: null, params: DEFAULT_MASK_PARAMS, score: null, reviewedDefect: true });
  }
  return items;
}

function sample(images: number, host: EngineHost, heldBytes: number): MemorySample {
  const mem = process.memoryUsage();
  const t = tf.memory();
  return {
    images,
    numTensors: t.numTensors,
    tensorMiB: round1(t.numBytes / MiB),
    rssMiB: round1(mem.rss / MiB),
    heapUsedMiB: round1(mem.heapUsed / MiB),
    externalMiB: round1(mem.external / MiB),
    cacheMiB: round1(host.cache.sizeBytes / MiB),
    cachedImages: host.cache.size,
    heldExportKiB: round1(heldBytes / 1024),
  };
}

export async function benchLongRun(opts: LongRunOptions): Promise<LongRunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'kizu-long-run-'));
  const host = new EngineHost(opts.cacheBytes);
  try {
    const items = await writeImages(join(dir, 'images'), opts.images, opts.size);
    const model = opts.model ?? (await seededModel(join(dir, 'model'), opts.size));
    await host.init(model);
    if (!host.modelName) throw new Error(`long run: the model did not load (${host.status().modelError})`);
    const samples: MemorySample[] = [];
    const wanted = new Set(opts.checkpoints);
    const started = performance.now();
    let heldBytes = 0;
    const onProgress = (p: { done?: number }) => {
      opts.onProgress?.(p.done ?? 0, items.length);
      if (p.done !== undefined && wanted.has(p.done)) samples.push(sample(p.done, host, heldBytes));
    };
    const result = await runExport(host, { format: 'coco', outDir: join(dir, 'export'), items }, new AbortController().signal, onProgress, (bytes) => {
      heldBytes = bytes;
    });
    const seconds = (performance.now() - started) / 1000;
    return { images: opts.images, size: opts.size, model: host.modelName, engine: (await host.explainEngine()).name, seconds: round1(seconds), exported: result.images, samples };
  } finally {
    host.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
