import type { Command } from 'commander';
import { initBackend, type BackendInfo } from '../engine/backend.ts';
import { isModelDir, readManifest } from '../engine/model-dir.ts';
import type { Manifest } from '../engine/manifest.ts';
import { chooseMapsEngine, type MapsEngine } from '../engine/maps-engine.ts';
import { chooseTrainingEngine } from '../engine/onnx/onnx-training.ts';
import { defaultModelDir } from '../paths.ts';
import { packageVersion } from '../version.ts';

export interface InfoReport {
  kizu: string;
  node: string;
  platform: string;
  /** tfjs's backend: the CAM formulas, and the network's passes too where mapsEngine is tfjs. */
  backend: BackendInfo;
  /** What runs the network's passes for maps and scores. */
  mapsEngine: MapsEngine;
  /** What computes training's gradients (the optimiser is Kizu's own, on the flat buffers). */
  trainEngine: Awaited<ReturnType<typeof chooseTrainingEngine>>;
  tfjsCore: string;
  defaultModel: { path: string; manifest: Manifest } | { path: string; missing: string };
}

export async function collectInfo(): Promise<InfoReport> {
  const backend = await initBackend();
  const path = defaultModelDir();
  let defaultModel: InfoReport['defaultModel'];
  if (await isModelDir(path)) {
    try {
      defaultModel = { path, manifest: await readManifest(path) };
    } catch (err) {
      defaultModel = { path, missing: (err as Error).message };
    }
  } else {
    defaultModel = { path, missing: 'no model directory here yet' };
  }
  return {
    kizu: packageVersion('kizu'),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    backend,
    mapsEngine: await chooseMapsEngine(backend),
    trainEngine: await chooseTrainingEngine(),
    tfjsCore: packageVersion('@tensorflow/tfjs-core'),
    defaultModel,
  };
}

export function formatInfo(r: InfoReport): string {
  const lines = [
    `kizu ${r.kizu} on Node ${r.node} (${r.platform})`,
    `maps and scores: ${r.mapsEngine.label}`,
    ...(r.mapsEngine.fallback ? [`  skipped onnxruntime: ${r.mapsEngine.fallback}`] : []),
    `training: ${r.trainEngine.label}`,
    ...(r.trainEngine.fallback ? [`  skipped ${r.trainEngine.fallback}`] : []),
    `tfjs backend (${r.mapsEngine.name === 'tfjs' ? "the network's passes and the CAM formulas" : "the CAM formulas on onnxruntime's activations"}): ${r.backend.name} (tfjs ${r.backend.tfName} ${r.backend.version}, tfjs-core ${r.tfjsCore}), ${r.backend.threads} thread(s)${r.backend.name === 'wasm' ? `, SIMD ${r.backend.simd ? 'on' : 'off'}` : ''}`,
    ...r.backend.fallbacks.map((f) => `  skipped ${f}`),
  ];
  if ('manifest' in r.defaultModel) {
    const m = r.defaultModel.manifest;
    const size = m.inputSize.policy === 'fixed' ? `${m.inputSize.height}x${m.inputSize.width}` : `native (max side ${m.inputSize.maxSide})`;
    lines.push(
      `default model: ${m.name} (${r.defaultModel.path})`,
      `  ${m.architecture.name}, width ${m.architecture.width}, blocks ${m.architecture.blocks.join('/')}, ${m.inputChannels}-channel input, ${size}`,
      `  classes: ${m.classes.map((c, i) => (i === m.defectClass ? `${c} (defect)` : c)).join(', ')}; weights ${m.weights.dtype}`,
      `  trained: ${m.provenance.createdAt} by ${m.provenance.createdBy}${m.provenance.dataset ? ` on ${m.provenance.dataset}` : ''}`,
      ...Object.entries(m.metrics).map(([k, v]) => `  ${k}: ${typeof v === 'number' ? v.toFixed(4) : JSON.stringify(v)}`),
    );
  } else {
    lines.push(`default model: none at ${r.defaultModel.path} (${r.defaultModel.missing})`);
  }
  return lines.join('\n');
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show the compute backend, versions, threads and the default model')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const report = await collectInfo();
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${formatInfo(report)}\n`);
    });
}
