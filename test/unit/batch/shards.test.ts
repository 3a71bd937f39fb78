import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXPORT_FORMATS } from '../../../electron/annotate/formats/index.ts';
import { parseManifest } from '../../../electron/batch/image-manifest.ts';
import { rangeFolderName } from '../../../electron/batch/part-store.ts';
import { chunkRanges, parseShard, shardFromEnvironment, shardRange } from '../../../electron/batch/shard.ts';
import { main } from '../../../electron/cli.ts';
import { FIXTURE_DIR } from '../helpers/fixture.ts';
import { filesUnder, KIZU_BIN, makeImages, recordsWritten, runKizu, startKizu } from '../helpers/kizu-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'kizu-shards-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());
const images = join(dir, 'images');
const list = join(dir, 'list.jsonl');
const model = join(FIXTURE_DIR, 'weights.safetensors');
const COUNT = 24;
/** Export settings every run here shares: every image annotated, so every format has content to compare. */
const SETTINGS = ['--model', model, '--all', '--threshold', 'max:0.5', '--min-area', '4'];

function quiet(): void {
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
}

describe('shard selection', () => {
  it('reads I/N and every array engine\'s variables, 0-based', () => {
    expect(parseShard('2/4')).toMatchObject({ index: 2, count: 4 });
    expect(shardFromEnvironment({ JOB_COMPLETION_INDEX: '3', KIZU_SHARDS: '4' })).toMatchObject({ index: 3, count: 4 });
    expect(shardFromEnvironment({ SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '4', SLURM_ARRAY_TASK_COUNT: '4' })).toMatchObject({ index: 1, count: 4 });
    expect(shardFromEnvironment({ AWS_BATCH_JOB_ARRAY_INDEX: '0', AWS_BATCH_JOB_ARRAY_SIZE: '2' })).toMatchObject({ index: 0, count: 2 });
    expect(shardFromEnvironment({ BATCH_TASK_INDEX: '1', BATCH_TASK_COUNT: '3' })).toMatchObject({ index: 1, count: 3 });
  });

  it('says what is wrong with a bad shard in one line', () => {
    expect(() => parseShard('4/4')).toThrow(/^--shard: index 4 is out of range 0\.\.3 \(from --shard 4\/4\)$/);
    expect(() => parseShard('1-4')).toThrow(/must be "I\/N"/);
    expect(() => shardFromEnvironment({})).toThrow(/no array engine's variables are set \(looked for JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID/);
    expect(() => shardFromEnvironment({ JOB_COMPLETION_INDEX: '1' })).toThrow(/KIZU_SHARDS is not/);
    expect(() => shardFromEnvironment({ SLURM_ARRAY_TASK_ID: '9', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(/index 9 is out of range 0\.\.3/);
    expect(() => shardFromEnvironment({ BATCH_TASK_INDEX: 'x', BATCH_TASK_COUNT: '4' })).toThrow(/BATCH_TASK_INDEX="x" is not a non-negative integer/);
  });

  it('slices the list into contiguous ranges that cover it exactly once', () => {
    for (const [total, n] of [[24, 4], [10, 3], [2, 5], [1_000_003, 7]] as const) {
      const ranges = Array.from({ length: n }, (_, index) => shardRange({ index, count: n, source: '' }, total));
      expect(ranges[0].start).toBe(0);
      for (let k = 1; k < n; k++) expect(ranges[k].start).toBe(ranges[k - 1].end);
      expect(ranges[n - 1].end).toBe(total);
      const sizes = ranges.map((r) => r.end - r.start);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    expect(chunkRanges(10, 4)).toEqual([{ start: 0, end: 4 }, { start: 4, end: 8 }, { start: 8, end: 10 }]);
  });
});

describe('the image manifest', () => {
  const header = '{"format":"kizu-image-manifest","version":1,"root":"/data","images":2}';
  it('names the file and line of what is malformed', () => {
    expect(parseManifest(`${header}\n{"id":"a.png"}\n{"id":"b/c.png"}\n`, 'l.jsonl').ids).toEqual(['a.png', 'b/c.png']);
    expect(() => parseManifest(`${header}\n{"id":"a.png"}\n{"id":"../c.png"}\n`, 'l.jsonl')).toThrow(/^manifest l\.jsonl line 3: id: must be a plain relative path/);
    expect(() => parseManifest(`${header}\n{"id":"a.png"}\nnot json\n`, 'l.jsonl')).toThrow(/^manifest l\.jsonl line 3: not JSON$/);
    expect(() => parseManifest(`${header}\n{"id":"a.png"}\n`, 'l.jsonl')).toThrow(/header says 2 image\(s\), the file lists 1 \(cut short\?\)/);
    expect(() => parseManifest('{"id":"a.png"}\n', 'l.jsonl')).toThrow(/^manifest l\.jsonl line 1: .*not a kizu manifest/);
    expect(() => parseManifest(`${header}\n{"id":"a.png"}\n{"id":"a.png"}\n`, 'l.jsonl')).toThrow(/"a\.png" is listed twice/);
  });
});

describe('four shards on array engines merge into the single export, byte for byte', () => {
  const single = join(dir, 'single');
  const parts = join(dir, 'parts');

  beforeAll(async () => {
    mkdirSync(join(images, 'line-b'), { recursive: true });
    await makeImages(images, COUNT, { width: 256, height: 224 });
    quiet();
    expect(await main(['node', 'kizu', 'manifest', '--images', images, '--out', list])).toBe(0);
    for (const format of EXPORT_FORMATS) {
      expect(await main(['node', 'kizu', 'export', '--images', images, '--format', format, '--out', join(single, format), ...SETTINGS])).toBe(0);
    }
    vi.restoreAllMocks();
  });

  it('runs each shard under one engine\'s variables, one killed mid-range and rerun, and merges every format', async () => {
    const shardArgs = ['export', '--manifest', list, '--shard', 'auto', '--out', parts, ...SETTINGS];
    const engines: Record<string, string>[] = [
      { JOB_COMPLETION_INDEX: '0', KIZU_SHARDS: '4' },
      { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' },
      { AWS_BATCH_JOB_ARRAY_INDEX: '2', AWS_BATCH_JOB_ARRAY_SIZE: '4' },
      { BATCH_TASK_INDEX: '3', BATCH_TASK_COUNT: '4' },
    ];
    const ranges = [0, 1, 2, 3].map((index) => join(parts, rangeFolderName(shardRange({ index, count: 4, source: '' }, COUNT))));

    // Shard 2 is killed once it has written two images, as a preempted node would be.
    const doomed = startKizu(shardArgs, engines[2]);
    while (recordsWritten(ranges[2]) < 2 && doomed.child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    doomed.child.kill('SIGKILL');
    expect((await doomed.done).signal).toBe('SIGKILL');
    const before = recordsWritten(ranges[2]);
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(COUNT / 4);
    expect(existsSync(join(ranges[2], 'done.json'))).toBe(false);

    // A merge now refuses, naming the unfinished part, and writes nothing.
    const early = await runKizu(['merge', parts, '--format', 'coco', '--out', join(dir, 'too-early')]);
    expect(early.code).toBe(1);
    expect(early.stderr.trim()).toMatch(new RegExp(`^kizu: merge: .*${rangeFolderName(shardRange({ index: 2, count: 4, source: '' }, COUNT))} is not finished`));
    expect(existsSync(join(dir, 'too-early'))).toBe(false);

    const runs = await Promise.all(engines.map(async (env, k) => (k % 2 === 0 ? runKizu(shardArgs, env) : undefined)));
    for (const [k, env] of engines.entries()) if (k % 2 === 1) runs[k] = await runKizu(shardArgs, env);
    for (const run of runs) expect(run!.code, run!.stderr).toBe(0);
    expect(runs[2]!.stderr).toMatch(new RegExp(`${COUNT / 4 - before} exported, ${before} done by an earlier run`));
    expect(runs[1]!.stderr).toMatch(/shard 1\/4 .*from Slurm array \(SLURM_ARRAY_TASK_ID=2\)/);
    // Each image was exported once: the rerun added only what the killed run had not written.
    expect(recordsWritten(ranges[2])).toBe(COUNT / 4);
    expect(readdirSync(ranges[2]).filter((f) => f.startsWith('seg-'))).toHaveLength(2);

    for (const format of EXPORT_FORMATS) {
      const merged = join(dir, 'merged', format);
      const m = await runKizu(['merge', parts, '--format', format, '--out', merged]);
      expect(m.code, m.stderr).toBe(0);
      const [want, got] = [filesUnder(join(single, format)), filesUnder(merged)];
      expect([...got.keys()], format).toEqual([...want.keys()]);
      for (const [name, bytes] of want) expect(got.get(name)!.equals(bytes), `${format} ${name}`).toBe(true);
    }
  });

  it('kizu explain takes the same slices of the manifest', async () => {
    const out = join(dir, 'explained');
    const env = { ...process.env };
    process.env.BATCH_TASK_INDEX = '1';
    process.env.BATCH_TASK_COUNT = '4';
    quiet();
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'kizu', 'explain', '--manifest', list, '--shard', 'auto', '--out', out, '--model', model, '--layer', 'fused'])).toBe(0);
    } finally {
      process.env = env;
      vi.restoreAllMocks();
    }
    const ids = parseManifest(readFileSync(list, 'utf8'), list).ids.slice(6, 12);
    const stems = ids.map((id) => id.split('/').at(-1)!.replace(/\.png$/, ''));
    expect(readdirSync(out).filter((f) => f.endsWith('.heatmap.png')).sort()).toEqual(stems.map((s) => `${s}.layercam.fused.heatmap.png`).sort());
  });

  it('runs again under GNU parallel -j2 where it is installed', async (ctx) => {
    let parallel = true;
    try {
      execFileSync('parallel', ['--version'], { stdio: 'ignore' });
    } catch {
      parallel = false;
    }
    if (!parallel) {
      ctx.skip('GNU parallel is not installed (apt-get install parallel)');
      return;
    }
    const out = join(dir, 'parallel-parts');
    const args = [process.execPath, KIZU_BIN, 'export', '--manifest', list, '--shard', '{}/4', '--out', out, ...SETTINGS];
    execFileSync('parallel', ['-j2', '--halt', 'now,fail=1', args.map((a) => (a === '{}/4' ? a : `'${a}'`)).join(' '), ':::', '0', '1', '2', '3'], { stdio: 'ignore' });
    const merged = join(dir, 'parallel-merged');
    expect((await runKizu(['merge', out, '--format', 'coco-rle', '--out', merged])).code).toBe(0);
    const want = filesUnder(join(single, 'coco-rle'));
    const got = filesUnder(merged);
    for (const [name, bytes] of want) expect(got.get(name)!.equals(bytes), name).toBe(true);
  });

  it('refuses parts of another threshold, model or image list, or overlapping shard counts, in one line, writing nothing', async () => {
    quiet();
    const other = join(dir, 'other-parts');
    const shard = (extra: string[], outDir: string, spec: string) => main(['node', 'kizu', 'export', '--manifest', list, '--shard', spec, '--out', outDir, ...SETTINGS, ...extra]);
    expect(await shard(['--threshold', 'max:0.6'], other, '0/4')).toBe(0);
    vi.restoreAllMocks();
    const mixed = await runKizu(['merge', join(parts, rangeFolderName({ start: 6, end: 12 })), join(parts, rangeFolderName({ start: 12, end: 18 })), join(parts, rangeFolderName({ start: 18, end: 24 })), other, '--format', 'coco', '--out', join(dir, 'mixed')]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr.trim().split('\n')).toHaveLength(1);
    expect(mixed.stderr).toMatch(/does not belong with .*: it was made with other settings \(threshold/);
    expect(existsSync(join(dir, 'mixed'))).toBe(false);

    // Another model: the same weights with one byte changed have another digest.
    const otherModel = join(dir, 'other.safetensors');
    const bytes = readFileSync(model);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(otherModel, bytes);
    const otherModelParts = join(dir, 'other-model-parts');
    quiet();
    expect(await main(['node', 'kizu', 'export', '--manifest', list, '--shard', '0/4', '--out', otherModelParts, ...SETTINGS, '--model', otherModel])).toBe(0);
    vi.restoreAllMocks();
    const models = await runKizu(['merge', otherModelParts, join(parts, rangeFolderName({ start: 6, end: 12 })), '--format', 'coco', '--out', join(dir, 'models')]);
    expect(models.stderr.trim()).toMatch(/^kizu: merge: .* does not belong with .*: it was made by another model/);

    const three = join(dir, 'three-parts');
    quiet();
    expect(await shard([], three, '0/3')).toBe(0);
    vi.restoreAllMocks();
    const overlap = await runKizu(['merge', parts, three, '--format', 'coco', '--out', join(dir, 'overlap')]);
    expect(overlap.stderr.trim()).toMatch(/^kizu: merge: .* overlaps the part before it \(images 0\.\.5 twice: parts of two different shard counts\?\)$/);
    expect(existsSync(join(dir, 'overlap'))).toBe(false);

    const missing = await runKizu(['merge', join(parts, rangeFolderName({ start: 0, end: 6 })), '--format', 'coco', '--out', join(dir, 'missing')]);
    expect(missing.stderr.trim()).toBe(`kizu: merge: images 6..23 of ${COUNT} have no part (a shard or chunk not run yet?)`);

    const outOfRange = await runKizu(['export', '--manifest', list, '--shard', 'auto', '--out', join(dir, 'oor'), ...SETTINGS], { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4' });
    expect(outOfRange.code).toBe(1);
    expect(outOfRange.stderr.trim()).toMatch(/^kizu: --shard: index 4 is out of range 0\.\.3 \(from Slurm array/);
    expect(existsSync(join(dir, 'oor'))).toBe(false);

    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, readFileSync(list, 'utf8').replace('{"id":"img-002.png"}', '{"id":'));
    const malformed = await runKizu(['export', '--manifest', broken, '--shard', '0/4', '--out', join(dir, 'mal'), ...SETTINGS]);
    expect(malformed.stderr.trim()).toMatch(/^kizu: manifest .*broken\.jsonl line \d+: not JSON$/);
    expect(existsSync(join(dir, 'mal'))).toBe(false);
  });
});

describe('an image that fails in its shard', () => {
  it('is recorded, named by the merge and left out of it, as a single export leaves it out', async () => {
    const folder = join(dir, 'with-bad');
    mkdirSync(folder, { recursive: true });
    await makeImages(folder, 3, { width: 64, height: 48 }, ['']);
    writeFileSync(join(folder, 'img-001b.png'), 'not a PNG at all');
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (stderr.push(String(s)), true));
    const badList = join(dir, 'with-bad.jsonl');
    expect(await main(['node', 'kizu', 'manifest', '--images', folder, '--out', badList])).toBe(0);
    expect(await main(['node', 'kizu', 'export', '--manifest', badList, '--shard', '0/1', '--out', join(dir, 'bad-parts'), ...SETTINGS])).toBe(1);
    const done = JSON.parse(readFileSync(join(dir, 'bad-parts', rangeFolderName({ start: 0, end: 4 }), 'done.json'), 'utf8')) as { failed: number };
    expect(done.failed).toBe(1);
    stderr.length = 0;
    expect(await main(['node', 'kizu', 'merge', join(dir, 'bad-parts'), '--format', 'coco', '--out', join(dir, 'bad-merged')])).toBe(1);
    expect(stderr.join('')).toMatch(/failed in its part: .*img-001b\.png: /);
    expect(stderr.join('')).toMatch(/4 image\(s\), 3 annotated, .*1 failed in their shard and were left out/);
    expect(await main(['node', 'kizu', 'export', '--images', folder, '--format', 'coco', '--out', join(dir, 'bad-single'), ...SETTINGS])).toBe(1);
    vi.restoreAllMocks();
    process.exitCode = 0;
    const merged = readFileSync(join(dir, 'bad-merged', 'annotations/instances_default.json'));
    expect(merged.equals(readFileSync(join(dir, 'bad-single', 'annotations/instances_default.json')))).toBe(true);
  });

  it('carries on past a segment whose run was killed while writing its header', async () => {
    const badList = join(dir, 'with-bad.jsonl');
    const parts = join(dir, 'torn-parts');
    const range = join(parts, rangeFolderName({ start: 0, end: 4 }));
    mkdirSync(range, { recursive: true });
    writeFileSync(join(range, 'seg-elsewhere-1-00000000.jsonl'), '{"format":"kizu-export-part","vers');
    quiet();
    expect(await main(['node', 'kizu', 'export', '--manifest', badList, '--shard', '0/1', '--out', parts, ...SETTINGS])).toBe(1);
    vi.restoreAllMocks();
    process.exitCode = 0;
    expect(existsSync(join(range, 'done.json'))).toBe(true);
    expect(recordsWritten(range)).toBe(4);
  });
});
