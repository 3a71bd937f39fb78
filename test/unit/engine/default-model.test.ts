import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoFolder } from '../../../electron/data/demo-folder.ts';
import { readImage } from '../../../electron/data/image-io.ts';
import { maskBits } from '../../../electron/data/mask-pixels.ts';
import type { SynthManifest } from '../../../electron/data/synth/generate.ts';
import { useBackend } from '../../../electron/engine/backend.ts';
import { Explainer } from '../../../electron/engine/explain.ts';
import { loadModelDir } from '../../../electron/engine/model-dir.ts';

const MODEL_DIR = join(import.meta.dirname, '../../../models/default');
const LINE_KINDS = new Set(['scratch', 'crack']);
/** How near (px, at 512) a map's peak must fall to the exact mask to count as on the defect: a line's half-width plus a layer2 cell. */
const ON_DEFECT_PX = 8;

interface DemoImage { path: string; maskPath: string | null; kind: string | null }

const tmp = mkdtempSync(join(tmpdir(), 'kizu-default-model-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let explainer: Explainer;
let images: DemoImage[];

beforeAll(async () => {
  await useBackend('wasm');
  const { dir } = await ensureDemoFolder(join(tmp, 'demo'));
  const synth = JSON.parse(readFileSync(join(dir, 'kizu-synth.json'), 'utf8')) as SynthManifest;
  images = [];
  for (const c of synth.classes) {
    for (const split of ['Train', 'Test'] as const) {
      const defects: Record<string, string> = c.defects[split] ?? {};
      const count = split === 'Train' ? synth.counts.trainClean + synth.counts.trainDefect : synth.counts.testClean + synth.counts.testDefect;
      for (let i = 0; i < count; i++) {
        const file = `${String(i).padStart(4, '0')}.PNG`;
        const kind = defects[file] ?? null;
        const maskPath = kind ? join(dir, c.name, split, 'Label', file.replace('.PNG', '_mask.PNG')) : null;
        images.push({ path: join(dir, c.name, split, file), maskPath, kind });
      }
    }
  }
  explainer = Explainer.fromModel(await loadModelDir(MODEL_DIR));
});
afterAll(() => explainer?.dispose());

function peak(data: Float32Array, width: number): { x: number; y: number } {
  let best = 0;
  for (let i = 1; i < data.length; i++) if (data[i] > data[best]) best = i;
  return { x: best % width, y: Math.floor(best / width) };
}

function distanceToMask(p: { x: number; y: number }, mask: Uint8Array, width: number): number {
  let d = Infinity;
  for (let i = 0; i < mask.length; i++) if (mask[i]) d = Math.min(d, Math.hypot((i % width) - p.x, Math.floor(i / width) - p.y));
  return d;
}

// models/MODEL_CARD.md gives the measured figures; this guards what the demo folder shows an
// inspector on first launch. The model finds thin defects and not yet blobs (spots, stains,
// disturbances), so only the line defects are held to their place.
describe('the bundled default model (models/default) on the first-launch demo folder', () => {
  it("is a model Kizu trained, with the recipe's provenance", () => {
    const m = explainer.manifest;
    expect(m.provenance?.createdBy).toBe('kizu train');
    expect(m.architecture.pooling).toMatchObject({ kind: 'topk' });
    expect(m.inputChannels).toBe(1);
  });

  it("puts the LayerCAM peak on most of the demo's scratches and cracks, and rates them above the OK images", async () => {
    const lines = images.filter((i) => i.kind && LINE_KINDS.has(i.kind));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    let onDefect = 0;
    const lineProbability: number[] = [];
    for (const item of lines) {
      const image = await readImage(item.path);
      const mask = maskBits(await readImage(item.maskPath!));
      const result = await explainer.explain(image, { methods: ['layercam'], layers: ['layer2'], fused: false });
      const map = result.maps.layercam!.layers.layer2!.normalised;
      if (distanceToMask(peak(map.data, map.width), mask, map.width) <= ON_DEFECT_PX) onDefect++;
      lineProbability.push(result.probabilities[explainer.manifest.defectClass]);
    }
    // Measured: 3 of the 4 (the crack on the mottled surface is missed).
    expect(onDefect).toBeGreaterThanOrEqual(lines.length - 1);

    const okProbability: number[] = [];
    for (const item of images.filter((i) => !i.kind)) okProbability.push((await explainer.classify(await readImage(item.path))).defectProbability);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(mean(lineProbability)).toBeGreaterThan(mean(okProbability) + 0.2);
  });
});
