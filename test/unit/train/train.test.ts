import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../../electron/data/synth/generate.ts';
import { loadModelDir } from '../../../electron/engine/model-dir.ts';
import { DEFAULT_TRAIN_OPTIONS, train, type TrainOptions } from '../../../electron/engine/train/train.ts';
import { FIXTURE_DIR } from '../helpers/fixture.ts';
import { loadBest, loadEpochWeights } from '../../../electron/engine/train/checkpoint.ts';
import { averageWeights } from '../../../electron/engine/train/weight-average.ts';
import { ParamLayout } from '../../../electron/engine/train/param-layout.ts';
import { resnetSpec } from '../../../electron/engine/resnet-spec.ts';
import { readSafetensors } from '../../../electron/engine/safetensors.ts';

const root = mkdtempSync(join(tmpdir(), 'kizu-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const data = join(root, 'data');
const KIZU = fileURLToPath(new URL('../../../bin/kizu.js', import.meta.url));

interface LogLine { type: string; step: number; loss: number; time?: string; imagesPerSecond?: number }
const readLog = (dir: string): LogLine[] => readFileSync(join(dir, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LogLine);

function options(out: string, extra: Partial<TrainOptions> = {}): TrainOptions {
  return { ...DEFAULT_TRAIN_OPTIONS, data, out, epochs: 4, batch: 8, microBatch: 4, inputSize: 48, width: 8, workers: 0, checkpointEvery: 2, lr: 0.05, seed: 7, ...extra };
}

const cliArgs = (out: string) => ['train', '--data', data, '--out', out, '--epochs', '3', '--batch', '8', '--micro-batch', '4', '--input-size', '48',
  '--width', '8', '--workers', '2', '--checkpoint-every', '2', '--seed', '11'];

function runCli(args: string[], killWhen?: (out: string) => boolean, out?: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KIZU, ...args], { stdio: 'ignore' });
    const timer = killWhen && setInterval(() => {
      if (killWhen(out!)) {
        clearInterval(timer);
        child.kill('SIGKILL');
      }
    }, 50);
    child.on('error', reject);
    child.on('exit', (code) => {
      if (timer) clearInterval(timer);
      resolve(code);
    });
  });
}

beforeAll(async () => {
  await generateDataset({ out: data, classes: 2, trainClean: 8, trainDefect: 8, testClean: 2, testDefect: 2, size: 128, seed: 3 });
});

// Real training runs: minutes on the pure-JS cpu backend (KIZU_BACKEND=cpu), seconds on wasm.
describe('kizu train', { timeout: 900_000 }, () => {
  it('a tiny-width ResNet50 fits a tiny generated set: the loss falls', async () => {
    const out = join(root, 'fits');
    const result = await train(options(out, { epochs: 25, microBatch: 8, lr: 0.005, warmupEpochs: 0, valFraction: 0, augment: { flips: false, rot90: false, brightness: 0, contrast: 0 } }));
    expect(result.cancelled).toBe(false);
    const losses = readLog(out).filter((l) => l.type === 'step').map((l) => l.loss);
    expect(losses.length).toBe(result.steps);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-10))).toBeLessThan(0.8 * mean(losses.slice(0, 10)));
    const model = await loadModelDir(out);
    expect(model.manifest.classes).toEqual(['ok', 'defect']);
    expect(model.manifest.architecture.width).toBe(8);
    expect(model.manifest.inputChannels).toBe(1);
    model.net.dispose();
  });

  it('the pretext alone (synthetic defects on OK images, dense top-k map loss) learns: its loss falls', async () => {
    const out = join(root, 'pretext');
    const result = await train(options(out, {
      epochs: 12, microBatch: 8, lr: 0.02, warmupEpochs: 0, valFraction: 0, pretextFraction: 1, inputSize: 64,
      pooling: { kind: 'topk', fraction: 0.25 }, denseWeight: 1,
    }));
    const steps = readLog(out).filter((l) => l.type === 'step') as (LogLine & { part: string })[];
    expect(steps.length).toBe(result.steps);
    expect(steps.every((l) => l.part === 'pretext')).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const losses = steps.map((l) => l.loss);
    expect(mean(losses.slice(-8))).toBeLessThan(0.8 * mean(losses.slice(0, 8)));
    const model = await loadModelDir(out);
    expect(model.manifest.architecture.pooling).toEqual({ kind: 'topk', fraction: 0.25 });
    // Its maps take every position that votes defect, not only the k the pooling chose.
    expect(model.manifest.camScore).toBe('logit-and-position-margins');
    model.net.dispose();
  });

  it('--minutes plans the run from its first steps and ends with a model', async () => {
    const out = join(root, 'budget');
    const result = await train(options(out, { minutes: 0.25, epochs: 1000 }));
    const log = readLog(out) as (LogLine & { totalSteps?: number; pretextSteps?: number; replan?: boolean })[];
    const plans = log.filter((l) => l.type === 'plan');
    // Once from the pretext's pace, once more from the fine-tune's if it ran long enough to be
    // timed; then every 25 steps from the recent pace, always leaving the fine-tune steps.
    const probes = plans.filter((l) => !l.replan);
    expect(probes.length).toBeGreaterThanOrEqual(1);
    expect(probes.length).toBeLessThanOrEqual(2);
    for (const p of plans) expect(p.totalSteps).toBeGreaterThan(p.pretextSteps!);
    const last = plans.at(-1)!;
    expect(last.totalSteps).toBeGreaterThan(last.pretextSteps!);
    expect(result.steps).toBe(last.totalSteps);
    const parts = log.filter((l) => l.type === 'step') as (LogLine & { part: string })[];
    expect(parts.filter((l) => l.part === 'pretext').length).toBe(last.pretextSteps);
    const model = await loadModelDir(out);
    model.net.dispose();
  });

  it('saves the parameters with the best validation AUROC, and the last step\'s with keepBest off', async () => {
    const common = { epochs: 6, valFraction: 0.3, pretextFraction: 0.5, lr: 0.02 };
    const out = join(root, 'best');
    await train(options(out, common));
    const validations = readLog(out).filter((l) => l.type === 'validation') as unknown as Array<{ auroc: number; epoch: number }>;
    expect(validations.length).toBeGreaterThan(2);
    const bestAuroc = Math.max(...validations.map((v) => v.auroc));
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { metrics: Record<string, number>; weights: { file: string } };
    expect(manifest.metrics.validationAuroc).toBe(bestAuroc);
    const layout = new ParamLayout(resnetSpec({ numClasses: 2, inChannels: 1, width: 8, blocks: [3, 4, 6, 3], pooling: DEFAULT_TRAIN_OPTIONS.pooling }));
    const best = await loadBest(join(out, 'checkpoint'), layout);
    expect(best!.state.validationAuroc).toBe(bestAuroc);
    // The model's weights are those parameters: every BatchNorm weight, bias and running
    // statistic (1-D, so in the same layout in both files) matches.
    const saved = await readSafetensors(join(out, manifest.weights.file));
    const vectors = layout.slots.filter((s) => s.shape.length === 1);
    expect(vectors.length).toBeGreaterThan(200);
    for (const slot of vectors) {
      expect(Array.from(saved.tensors.get(slot.name)!.toFloat32()), slot.name).toEqual(Array.from(best!.params.subarray(slot.offset, slot.offset + slot.size)));
    }
    const lastOut = join(root, 'last');
    await train(options(lastOut, { ...common, keepBest: false }));
    const lastValidations = readLog(lastOut).filter((l) => l.type === 'validation') as unknown as Array<{ auroc: number }>;
    const lastManifest = JSON.parse(readFileSync(join(lastOut, 'manifest.json'), 'utf8')) as { metrics: Record<string, number> };
    expect(lastManifest.metrics.validationAuroc).toBe(lastValidations.at(-1)!.auroc);
  });

  it('--average-last saves the mean of the last epochs\' parameters, validated, or the best epoch when that scores higher', async () => {
    const common = { epochs: 5, valFraction: 0.3, pretextFraction: 0, lr: 0.02, averageLast: 3 };
    const layout = new ParamLayout(resnetSpec({ numClasses: 2, inChannels: 1, width: 8, blocks: [3, 4, 6, 3], pooling: DEFAULT_TRAIN_OPTIONS.pooling }));
    const vectors = layout.slots.filter((s) => s.shape.length === 1);
    type Validation = { auroc: number; epoch: number; averagedEpochs?: number[] };
    const outcome = async (out: string) => {
      const validations = readLog(out).filter((l) => l.type === 'validation') as unknown as Validation[];
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { metrics: Record<string, unknown>; weights: { file: string }; provenance: { notes: string[] } };
      const saved = await readSafetensors(join(out, manifest.weights.file));
      const epochs = await loadEpochWeights(join(out, 'checkpoint'), layout);
      return { validations, manifest, saved, epochs };
    };
    const savedEquals = (saved: Awaited<ReturnType<typeof readSafetensors>>, flat: Float32Array) =>
      vectors.every((slot) => Array.from(saved.tensors.get(slot.name)!.toFloat32()).every((v, i) => v === flat[slot.offset + i]));

    const lastOut = join(root, 'average-last');
    await train(options(lastOut, { ...common, keepBest: false }));
    const last = await outcome(lastOut);
    expect(last.epochs.map((e) => e.epoch)).toEqual([3, 4, 5]);
    const mean = averageWeights(last.epochs.map((e) => e.params));
    const averagedLine = last.validations.find((v) => v.averagedEpochs);
    expect(averagedLine?.averagedEpochs).toEqual([3, 4, 5]);
    expect(last.manifest.metrics).toMatchObject({ averagedEpochs: [3, 4, 5], validationAuroc: averagedLine!.auroc });
    expect(savedEquals(last.saved, mean)).toBe(true);
    expect(savedEquals(last.saved, last.epochs[2].params)).toBe(false);
    expect(last.manifest.provenance.notes.join(' ')).toMatch(/mean of the parameters at the ends of epochs 3, 4, 5/);
    // A run stopped in epoch 4 and resumed averages the epoch it saved before the stop.
    const stoppedOut = join(root, 'average-resumed');
    const controller = new AbortController();
    const stopped = await train(options(stoppedOut, { ...common, keepBest: false }), { signal: controller.signal, onProgress: (p) => { if (p.phase === 'train' && p.epoch === 4) controller.abort(); } });
    expect(stopped.cancelled).toBe(true);
    expect((await loadEpochWeights(join(stoppedOut, 'checkpoint'), layout)).map((e) => e.epoch)).toEqual([1, 2, 3]);
    await train(options(stoppedOut, { ...common, keepBest: false, resume: true }));
    const resumed = await outcome(stoppedOut);
    expect(resumed.manifest.metrics).toMatchObject({ averagedEpochs: [3, 4, 5] });
    expect(savedEquals(resumed.saved, averageWeights(resumed.epochs.map((e) => e.params)))).toBe(true);
    expect(savedEquals(resumed.saved, mean)).toBe(true);

    // A fresh run into the same folder averages its own epochs only.
    await train(options(lastOut, { ...common, epochs: 3, averageLast: 2, keepBest: false }));
    expect((await outcome(lastOut)).manifest.metrics).toMatchObject({ averagedEpochs: [2, 3] });

    const bestOut = join(root, 'average-best');
    await train(options(bestOut, common));
    const best = await outcome(bestOut);
    const epochScores = best.validations.filter((v) => !v.averagedEpochs).map((v) => v.auroc);
    const averageScore = best.validations.find((v) => v.averagedEpochs)!.auroc;
    expect(best.manifest.metrics.validationAuroc).toBe(Math.max(averageScore, ...epochScores));
    const bestParams = (await loadBest(join(bestOut, 'checkpoint'), layout))!.params;
    const expected = averageScore >= Math.max(...epochScores) ? averageWeights(best.epochs.map((e) => e.params)) : bestParams;
    expect(savedEquals(best.saved, expected)).toBe(true);
  });

  it('the same seed writes the same weights, the default seed 0 included', async () => {
    const common = { epochs: 2, seed: DEFAULT_TRAIN_OPTIONS.seed, workers: 2, pretextFraction: 0.5 };
    const runs = [join(root, 'seed-a'), join(root, 'seed-b')];
    for (const out of runs) await train(options(out, common));
    const [a, b] = runs.map((out) => readFileSync(join(out, 'weights.safetensors')));
    expect(a.equals(b)).toBe(true);
  });

  it('--minutes is the whole run\'s budget: a resumed run gets only what its earlier sessions left', async () => {
    const out = join(root, 'budget-resumed');
    const stop = new AbortController();
    const first = await train(options(out, { minutes: 1, epochs: 1000 }), { signal: stop.signal, onProgress: (p) => { if (p.phase === 'train' && p.step >= 30) stop.abort(); } });
    expect(first.cancelled).toBe(true);
    const latest = join(out, 'checkpoint', JSON.parse(readFileSync(join(out, 'checkpoint', 'latest.json'), 'utf8')).folder as string, 'state.json');
    const state = JSON.parse(readFileSync(latest, 'utf8')) as { step: number; extra: { secondsSpent: number; budget: string } };
    expect(state.step).toBe(first.steps);
    expect(state.extra.secondsSpent).toBeGreaterThan(0);
    expect(state.extra.secondsSpent).toBeLessThanOrEqual(first.seconds);
    expect(state.extra.budget).not.toBe('probe-pretext');
    // As if the earlier sessions had spent the whole minute: the first re-plan (every 25 steps,
    // from the pace of at least 10) must end the run, where a fresh clock would plan a minute more.
    writeFileSync(latest, JSON.stringify({ ...state, extra: { ...state.extra, secondsSpent: 60 } }));
    const resumed = await train(options(out, { minutes: 1, epochs: 1000, resume: true }));
    expect(resumed.cancelled).toBe(false);
    expect(resumed.steps).toBeLessThanOrEqual(Math.ceil((state.step + 10) / 25) * 25 + 1);
    expect(resumed.seconds).toBeGreaterThanOrEqual(60);
  });

  it('resuming after SIGKILL gives the same next-step loss as an uninterrupted run', async () => {
    const whole = join(root, 'whole');
    expect(await runCli(cliArgs(whole))).toBe(0);
    const killed = join(root, 'killed');
    const checkpointed = (out: string) => {
      const latest = join(out, 'checkpoint', 'latest.json');
      return existsSync(latest) && JSON.parse(readFileSync(latest, 'utf8')).folder >= 'step-00000002';
    };
    expect(await runCli(cliArgs(killed), checkpointed, killed)).not.toBe(0);
    const resumedAt = Number(JSON.parse(readFileSync(join(killed, 'checkpoint', 'latest.json'), 'utf8')).folder.slice(5));
    expect(resumedAt).toBeGreaterThanOrEqual(2);
    expect(await runCli([...cliArgs(killed), '--resume'])).toBe(0);
    const expected = readLog(whole).find((l) => l.type === 'step' && l.step === resumedAt + 1)!;
    const resumed = readLog(killed).filter((l) => l.type === 'step' && l.step === resumedAt + 1).at(-1)!;
    expect(resumed.loss).toBe(expected.loss);
    const lastWhole = readLog(whole).filter((l) => l.type === 'step').at(-1)!;
    const lastResumed = readLog(killed).filter((l) => l.type === 'step').at(-1)!;
    expect(lastResumed).toEqual({ ...lastWhole, time: lastResumed.time, imagesPerSecond: lastResumed.imagesPerSecond } as LogLine);
  });

  it('--init starts from torchvision-named .safetensors: backbone kept, grey stem adapted, head replaced', async () => {
    const out = join(root, 'init');
    await train(options(out, { epochs: 1, lr: 0, init: join(FIXTURE_DIR, 'weights.safetensors'), valFraction: 0 }));
    const model = await loadModelDir(out);
    const fixture = (await import('../../../electron/engine/safetensors.ts')).readSafetensors(join(FIXTURE_DIR, 'weights.safetensors'));
    const ref = (await fixture).tensors;
    const state = await model.net.toStateDict();
    expect(Array.from(state.get('layer3.2.conv2.weight')!.data)).toEqual(Array.from(ref.get('layer3.2.conv2.weight')!.toFloat32()));
    expect(state.get('conv1.weight')!.shape).toEqual([8, 1, 7, 7]);
    expect(state.get('fc.weight')!.shape).toEqual([2, 256]);
    expect(model.manifest.provenance.notes.join(' ')).toMatch(/conv1\.weight summed over its 3 input channels/);
    model.net.dispose();
  });
});
