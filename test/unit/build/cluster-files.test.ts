import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildProgram } from '../../../electron/cli.ts';
import { FIXTURE_DIR } from '../helpers/fixture.ts';
import { filesUnder, KIZU_BIN, makeImages, runKizu } from '../helpers/kizu-process.ts';
import { freePort, redisServerPath } from '../helpers/redis-server.ts';

const CLUSTER = fileURLToPath(new URL('../../../build/cluster/', import.meta.url));
const read = (name: string) => readFileSync(join(CLUSTER, name), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'kizu-cluster-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Options of `kizu <args>` that the command does not know: none, or the file's command line is broken. */
function unknownOptions(args: string[]): string[] {
  const program = buildProgram();
  const command = program.commands.find((c) => c.name() === args[0]);
  if (!command) return [`no command ${args[0]}`];
  return command.parseOptions(args.slice(1)).unknown;
}

describe('build/cluster', () => {
  it('holds a Kubernetes Indexed Job valid against the Kubernetes schema, whose shard count matches its completions', () => {
    const manifest = parse(read('kizu-export-job.yaml')) as Record<string, unknown>;
    const job = new Job(manifest as ConstructorParameters<typeof Job>[0]);
    expect(() => job.validate()).not.toThrow();
    const spec = job.spec!;
    expect(spec.completionMode).toBe('Indexed');
    expect(spec.template.spec!.restartPolicy).toBe('Never');
    const container = spec.template.spec!.containers[0];
    const shards = container.env!.find((e) => e.name === 'KIZU_SHARDS')!.value;
    expect(Number(shards)).toBe(spec.completions);
    expect(spec.parallelism).toBeLessThanOrEqual(spec.completions!);
    const [node, bin, ...args] = container.command!;
    expect([node, bin]).toEqual(['node', 'bin/kizu.js']);
    expect(args.join(' ')).toContain('--shard auto');
    expect(unknownOptions(args)).toEqual([]);
    // A broken manifest is caught: the schema is really applied.
    const broken = new Job({ ...(manifest as object), spec: { ...(manifest.spec as object), completions: '16' } } as unknown as ConstructorParameters<typeof Job>[0]);
    expect(() => broken.validate()).toThrow(/completions must be integer/);
  });

  it('holds a Slurm array script whose command exports each task\'s shard (run here with Slurm\'s variables) and merges', async () => {
    const script = read('kizu-export.sbatch');
    expect(script).toMatch(/^#SBATCH --array=0-15$/m);
    expect(spawnSync('bash', ['-n', join(CLUSTER, 'kizu-export.sbatch')]).status).toBe(0);
    const images = join(dir, 'images');
    mkdirSync(join(images, 'line-b'), { recursive: true });
    await makeImages(images, 6, { width: 64, height: 48 });
    const shared = join(dir, 'shared');
    const model = join(FIXTURE_DIR, 'weights.safetensors');
    const options = ['--all', '--threshold', 'max:0.5', '--min-area', '4'];
    expect((await runKizu(['manifest', '--images', images, '--out', join(shared, 'list.jsonl')])).code).toBe(0);
    const env = { ...process.env, KIZU: `${process.execPath} ${KIZU_BIN}`, KIZU_DIR: shared, KIZU_MODEL: model, KIZU_EXPORT_OPTIONS: options.join(' '), SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '2' };
    for (const task of ['0', '1']) {
      const run = spawnSync('bash', [join(CLUSTER, 'kizu-export.sbatch')], { env: { ...env, SLURM_ARRAY_TASK_ID: task }, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).toContain(`shard ${task}/2`);
    }
    expect((await runKizu(['merge', join(shared, 'parts'), '--format', 'labelme', '--out', join(dir, 'merged')])).code).toBe(0);
    expect((await runKizu(['export', '--images', images, '--format', 'labelme', '--out', join(dir, 'single'), '--model', model, ...options])).code).toBe(0);
    const [want, got] = [filesUnder(join(dir, 'single')), filesUnder(join(dir, 'merged'))];
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [name, bytes] of want) expect(got.get(name)!.equals(bytes), name).toBe(true);
  });

  it('runs as a Slurm array with the merge after it, where a Slurm controller answers here', async (ctx) => {
    const sinfo = spawnSync('sinfo', ['--noheader', '--responding', '--states=idle,mix'], { encoding: 'utf8', timeout: 5000 });
    if (sinfo.status !== 0 || sinfo.stdout.trim() === '') {
      ctx.skip('no responding Slurm node here (a single-node slurmctld + slurmd + munge runs it)');
      return;
    }
    const shared = join(dir, 'slurm');
    const images = join(dir, 'images');
    const model = join(FIXTURE_DIR, 'weights.safetensors');
    expect((await runKizu(['manifest', '--images', images, '--out', join(shared, 'list.jsonl')])).code).toBe(0);
    const env = { ...process.env, KIZU: `${process.execPath} ${KIZU_BIN}`, KIZU_DIR: shared, KIZU_MODEL: model, KIZU_EXPORT_OPTIONS: '--all --threshold max:0.5 --min-area 4' };
    const array = spawnSync('sbatch', ['--parsable', '--array=0-2', '--cpus-per-task=1', '--mem=1G', `--output=${join(shared, 'task-%a.log')}`, join(CLUSTER, 'kizu-export.sbatch')], { env, encoding: 'utf8' });
    expect(array.status, array.stderr).toBe(0);
    const merged = join(shared, 'export');
    const merge = spawnSync('sbatch', ['--parsable', `--dependency=afterok:${array.stdout.trim()}`, '--mem=1G', `--output=${join(shared, 'merge.log')}`, '--wrap', `${process.execPath} ${KIZU_BIN} merge ${join(shared, 'parts')} --format labelme --out ${merged}`], { env, encoding: 'utf8' });
    expect(merge.status, merge.stderr).toBe(0);
    const id = merge.stdout.trim();
    const until = Date.now() + 100_000;
    while (spawnSync('squeue', ['--noheader', '--jobs', id], { encoding: 'utf8' }).stdout.trim() !== '' && Date.now() < until) await new Promise((r) => setTimeout(r, 1000));
    const [want, got] = [filesUnder(join(dir, 'single')), filesUnder(merged)];
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [name, bytes] of want) expect(got.get(name)!.equals(bytes), name).toBe(true);
  });

  it('holds a worker service unit systemd accepts, whose command kizu knows', () => {
    const unit = read('kizu-worker.service');
    const exec = /^ExecStart=(\S+) (\S+) (.*)$/m.exec(unit)!;
    expect(exec[2]).toBe('/opt/kizu/bin/kizu.js');
    expect(unknownOptions(exec[3].split(' '))).toEqual([]);
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/kizu\/worker\.env$/m);
    expect(unit).not.toMatch(/redis:\/\//i);
    const analyze = spawnSync('systemd-analyze', ['--version']);
    if (analyze.status === 0) {
      const verify = spawnSync('systemd-analyze', ['verify', join(CLUSTER, 'kizu-worker.service')], { encoding: 'utf8' });
      expect(verify.stderr.split('\n').filter((l) => /kizu-worker/.test(l) && !/Failed to resolve (user|group)|EnvironmentFile|WorkingDirectory|not executable|No such file/.test(l))).toEqual([]);
    }
  });

  it('holds a Redis configuration Debian\'s redis-server starts with: loopback only, a password, the append-only file', async () => {
    const conf = read('kizu-redis.conf');
    expect(conf).toMatch(/^bind 127\.0\.0\.1 -::1$/m);
    expect(conf).toMatch(/^requirepass /m);
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    const port = await freePort();
    const run = spawnSync('sh', ['-c', `"${redisServerPath()}" "$0" --port ${port} --dir "$1" --daemonize no & pid=$!; sleep 1; redis-cli -p ${port} ping; kill $pid; wait $pid`, join(CLUSTER, 'kizu-redis.conf'), dir], { encoding: 'utf8' });
    expect(run.stdout).toContain('NOAUTH Authentication required');
  });
});
