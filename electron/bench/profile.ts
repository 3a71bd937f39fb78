import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Explainer } from '../engine/explain.ts';
import { initialiseResNet } from '../engine/init-weights.ts';
import { RESNET50_BLOCKS, resnet50Config, resnetSpec } from '../engine/resnet-spec.ts';
import { OnnxGradients } from '../engine/onnx/onnx-training.ts';
import { flattenNet, ParamLayout } from '../engine/train/param-layout.ts';
import { Rng } from '../data/synth/rng.ts';
import { TrainingShard, type MicroBatchPlan } from '../engine/train/shard.ts';
import { benchManifest } from './engine.ts';
import { benchShardConfig, noiseImages } from './training.ts';

/** One kernel's share of a profiled piece of work. */
export interface KernelRow {
  kernel: string;
  calls: number;
  ms: number;
  /** Of the work's wall-clock time. */
  share: number;
}

export interface WorkProfile {
  what: string;
  wallMs: number;
  /** Time inside tfjs kernels; the rest is JavaScript around them (decoding, augmentation, loops, copies to and from the heap). */
  kernelMs: number;
  rows: KernelRow[];
}

/**
 * Where one piece of work spends its time, kernel by kernel, as tfjs's profiler times each
 * kernel call (on wasm and cpu a kernel runs synchronously, so its time is its own). Kizu's own
 * wasm kernels (conv gradients, reductions) are registered kernels too and show under their
 * names; a kernel that runs others inside it would count them twice, and none of Kizu's does.
 */
async function profiled(what: string, work: () => Promise<unknown>): Promise<WorkProfile> {
  const start = performance.now();
  const info = await tf.profile(async () => {
    await work();
  });
  const wallMs = performance.now() - start;
  const backend = tf.getBackend();
  const byName = new Map<string, { calls: number; ms: number }>();
  for (const k of info.kernels) {
    // The profiler also lists op and gradient scopes around kernels; counting them would count their kernels twice.
    if (tf.getKernel(k.name, backend) === undefined) continue;
    const row = byName.get(k.name) ?? { calls: 0, ms: 0 };
    row.calls++;
    row.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byName.set(k.name, row);
  }
  const rows = [...byName.entries()].map(([kernel, r]) => ({ kernel, calls: r.calls, ms: r.ms, share: r.ms / wallMs })).sort((a, b) => b.ms - a.ms);
  return { what, wallMs, kernelMs: rows.reduce((a, r) => a + r.ms, 0), rows };
}

/**
 * Explain, LayerCAM on layer2..4 in one pass, of a full-width ResNet50 (seeded weights) at
 * `size` px, on tfjs: the profiler sees tfjs's kernels only, so this is the fallback's split
 * (onnxruntime, where it loads, runs the passes as one graph).
 */
export async function profileExplain(size: number): Promise<WorkProfile> {
  const net = initialiseResNet(resnetSpec(resnet50Config(2, 3)), 1);
  const explainer = new Explainer(benchManifest(size), { net }, { engine: 'tfjs' });
  net.dispose();
  const image = { width: size, height: size, channels: 3 as const, bitDepth: 8 as const, data: (await tf.randomUniform([size * size * 3], 0, 1, 'float32', 3).data()) as Float32Array };
  const explain = () => explainer.explain(image, { methods: ['layercam'], layers: ['layer2', 'layer3', 'layer4'] });
  try {
    await explain();
    return await profiled(`explain on tfjs, LayerCAM layer2-4, full width, ${size} px`, explain);
  } finally {
    explainer.dispose();
  }
}

/**
 * One micro-batch of training in this thread, forward, backward and the gradient copy out,
 * as each of `kizu train`'s workers runs it (the workers' messaging is not in it: see the
 * bench's step time against this).
 */
export async function profileTrainingStep(opts: { inputSize: number; width: number; microBatch: number }): Promise<WorkProfile> {
  const { inputSize, width, microBatch } = opts;
  const dir = await mkdtemp(join(tmpdir(), 'kizu-profile-'));
  try {
    const paths = await noiseImages(dir, microBatch, inputSize);
    const spec = resnetSpec({ numClasses: 2, inChannels: 1, width, blocks: [...RESNET50_BLOCKS] });
    const layout = new ParamLayout(spec);
    const net = initialiseResNet(spec, 1);
    const params = await flattenNet(layout, net);
    net.dispose();
    const shard = new TrainingShard(benchShardConfig(spec, paths, inputSize, 'tfjs'));
    const indices = paths.map((_, i) => i);
    const plan: MicroBatchPlan[] = [{ indices, seeds: indices }];
    await shard.step(params, plan, microBatch);
    return await profiled(`training micro-batch of ${microBatch} on tfjs, width ${width}, ${inputSize} px`, () => shard.step(params, plan, microBatch));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs before the profiled one. */
const ORT_WARM_RUNS = 2;

/** One event of onnxruntime's profile (Chrome's trace format); durations and times in microseconds. */
interface OrtTraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

/**
 * One training micro-batch on onnxruntime, as each of `kizu train`'s workers runs it (one
 * thread), node by node as onnxruntime's own profiler times them, grouped by operator: Conv
 * is the forward convolutions, ConvTranspose the input gradients, FusedMatMul (and the Slices
 * that feed it) the filter gradients, and the rest BatchNorm, ReLU, pooling and the head.
 * Only the last run counts: the first builds the session and the second still grows
 * onnxruntime's memory arena (page faults make it several times slower than the runs after).
 */
export async function profileOnnxTrainingStep(opts: { inputSize: number; width: number; microBatch: number }): Promise<WorkProfile> {
  const { inputSize, width, microBatch: n } = opts;
  const dir = await mkdtemp(join(tmpdir(), 'kizu-profile-ort-'));
  try {
    const layout = new ParamLayout(resnetSpec({ numClasses: 2, inChannels: 1, width, blocks: [...RESNET50_BLOCKS] }));
    const net = initialiseResNet(layout.spec, 1);
    const params = await flattenNet(layout, net);
    net.dispose();
    const rng = new Rng(1);
    const input = {
      pixels: Float32Array.from({ length: n * inputSize * inputSize }, () => rng.next() * 2 - 1),
      n, height: inputSize, width: inputSize, channels: 1, labels: Int32Array.from({ length: n }, (_, i) => i % 2), stepSize: n,
    };
    const engine = await OnnxGradients.create(layout, 1, join(dir, 'ort'));
    let wallMs: number;
    try {
      for (let warm = 0; warm < ORT_WARM_RUNS; warm++) await engine.compute(params, input);
      const start = performance.now();
      await engine.compute(params, input);
      wallMs = performance.now() - start;
      await engine.endProfiling();
    } finally {
      engine.dispose();
    }
    const file = (await readdir(dir)).find((f) => f.endsWith('.json'));
    if (!file) throw new Error(`onnxruntime wrote no profile into ${dir}`);
    const events = JSON.parse(await readFile(join(dir, file), 'utf8')) as OrtTraceEvent[];
    const lastRun = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').at(-1);
    if (!lastRun) throw new Error(`onnxruntime's profile ${file} has no model_run`);
    const byOp = new Map<string, { calls: number; ms: number }>();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < lastRun.ts || e.ts > lastRun.ts + lastRun.dur) continue;
      const op = e.args?.op_name ?? 'unknown';
      const row = byOp.get(op) ?? { calls: 0, ms: 0 };
      row.calls++;
      row.ms += e.dur / 1000;
      byOp.set(op, row);
    }
    const rows = [...byOp.entries()].map(([kernel, r]) => ({ kernel, calls: r.calls, ms: r.ms, share: r.ms / wallMs })).sort((a, b) => b.ms - a.ms);
    return { what: `training micro-batch of ${n} on onnxruntime (1 thread), width ${width}, ${inputSize} px`, wallMs, kernelMs: rows.reduce((a, r) => a + r.ms, 0), rows };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A Markdown table of the `top` kernels and the rest, for a terminal and for the README. */
export function formatProfile(p: WorkProfile, top = 12): string {
  const ms = (v: number) => v.toFixed(1);
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const lines = [
    `${p.what}: ${ms(p.wallMs)} ms wall, ${ms(p.kernelMs)} ms in kernels (${pct(p.kernelMs / p.wallMs)})`,
    '',
    '| kernel | calls | ms | share of wall |',
    '|---|---:|---:|---:|',
    ...p.rows.slice(0, top).map((r) => `| ${r.kernel} | ${r.calls} | ${ms(r.ms)} | ${pct(r.share)} |`),
  ];
  const rest = p.rows.slice(top);
  if (rest.length) {
    const restMs = rest.reduce((a, r) => a + r.ms, 0);
    lines.push(`| ${rest.length} other kernels | ${rest.reduce((a, r) => a + r.calls, 0)} | ${ms(restMs)} | ${pct(restMs / p.wallMs)} |`);
  }
  lines.push(`| outside kernels | | ${ms(p.wallMs - p.kernelMs)} | ${pct(1 - p.kernelMs / p.wallMs)} |`);
  return lines.join('\n');
}
