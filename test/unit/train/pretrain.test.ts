import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOkImages } from '../../../electron/data/ok-images.ts';
import { generateDataset } from '../../../electron/data/synth/generate.ts';
import { loadModelDir } from '../../../electron/engine/model-dir.ts';
import { DEFAULT_TRAIN_OPTIONS, train, type TrainOptions } from '../../../electron/engine/train/train.ts';

const root = mkdtempSync(join(tmpdir(), 'kizu-pretrain-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dataset = join(root, 'dataset');
const flat = join(root, 'good parts');
const KIZU = fileURLToPath(new URL('../../../bin/kizu.js', import.meta.url));

interface LogLine { type: string; step: number; part?: string }
const readLog = (dir: string): LogLine[] => readFileSync(join(dir, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LogLine);

function options(data: string, out: string, extra: Partial<TrainOptions> = {}): TrainOptions {
  return { ...DEFAULT_TRAIN_OPTIONS, data, out, epochs: 2, batch: 4, microBatch: 4, inputSize: 48, pretextCrop: 32, width: 4, workers: 0, checkpointEvery: 1, seed: 5, pretextOnly: true, ...extra };
}

function runCli(args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KIZU, ...args], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

beforeAll(async () => {
  await generateDataset({ out: dataset, classes: 1, trainClean: 8, trainDefect: 4, testClean: 2, testDefect: 2, size: 64, seed: 9 });
  // The same OK images as a plain folder: what a line's archive of good parts looks like.
  mkdirSync(flat, { recursive: true });
  const train = join(dataset, 'Class1', 'Train');
  for (const name of readdirSync(train).filter((n) => n.endsWith('.PNG'))) cpSync(join(train, name), join(flat, name));
});

describe('kizu pretrain', { timeout: 600_000 }, () => {
  it('takes a dataset\'s OK training images, or every image of a folder without a layout', async () => {
    const fromLayout = await openOkImages(dataset);
    expect(fromLayout.items.length).toBe(8 + 2);
    expect(fromLayout.items.every((i) => !i.isDefect)).toBe(true);
    expect(fromLayout.items.filter((i) => i.split === 'test')).toHaveLength(2);
    const fromFolder = await openOkImages(flat);
    expect(fromFolder.items).toHaveLength(12);
    await expect(openOkImages(join(root, 'missing'))).rejects.toThrow(/not found/);
  });

  it('trains the pretext alone on unlabelled images, resumably, into a model that is an --init', async () => {
    const out = join(root, 'pre');
    const first = await train(options(flat, out));
    expect(first.cancelled).toBe(false);
    const steps = readLog(out).filter((l) => l.type === 'step');
    expect(steps.length).toBe(first.steps);
    expect(steps.every((l) => l.part === 'pretext')).toBe(true);
    const model = await loadModelDir(out);
    expect(model.manifest.provenance.createdBy).toBe('kizu pretrain');
    model.net.dispose();
    expect(existsSync(join(out, 'checkpoint', 'latest.json'))).toBe(true);

    // Resumed with the same options, it picks up at its last checkpoint and ends where it did.
    const again = await train(options(flat, out, { resume: true }));
    expect(again.steps).toBe(first.steps);

    const tuned = join(root, 'tuned');
    const result = await train({ ...options(dataset, tuned), pretextOnly: false, init: out, width: undefined, epochs: 1 });
    expect(result.steps).toBeGreaterThan(0);
    const manifest = (await loadModelDir(tuned)).manifest;
    expect(manifest.provenance).toMatchObject({ createdBy: 'kizu train', init: out });
    expect(manifest.architecture.width).toBe(4);
  });

  it('runs from the command line and prints its result', async () => {
    const out = join(root, 'cli');
    const code = await runCli(['pretrain', '--data', flat, '--out', out, '--epochs', '1', '--batch', '4', '--micro-batch', '4', '--input-size', '48', '--pretext-crop', '32', '--width', '4', '--workers', '0']);
    expect(code).toBe(0);
    expect((await loadModelDir(out)).manifest.provenance.createdBy).toBe('kizu pretrain');
  });
});
