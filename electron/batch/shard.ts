/*
 * Which slice of the image list this process exports. Array engines start the same command
 * N times and tell each copy its index in their own variables; `--shard auto` reads them.
 * Indices are 0-based everywhere (Kubernetes, AWS Batch and GCP Batch count from 0; a Slurm
 * array may start anywhere, so its task id is taken relative to SLURM_ARRAY_TASK_MIN).
 */

export interface Shard {
  index: number;
  count: number;
  /** Where index and count came from, for messages. */
  source: string;
}

/** Images [start, end) of the manifest. */
export interface ImageRange {
  start: number;
  end: number;
}

type Environment = Record<string, string | undefined>;

interface EngineVariables {
  engine: string;
  index: string;
  count: string;
  /** A variable whose value is subtracted from the index (Slurm's first task id). */
  offset?: string;
}

/** In the order they are tried; the first whose index variable is set wins. */
export const ENGINE_VARIABLES: readonly EngineVariables[] = [
  { engine: 'Kubernetes Indexed Job', index: 'JOB_COMPLETION_INDEX', count: 'KIZU_SHARDS' },
  { engine: 'Slurm array', index: 'SLURM_ARRAY_TASK_ID', count: 'SLURM_ARRAY_TASK_COUNT', offset: 'SLURM_ARRAY_TASK_MIN' },
  { engine: 'AWS Batch array', index: 'AWS_BATCH_JOB_ARRAY_INDEX', count: 'AWS_BATCH_JOB_ARRAY_SIZE' },
  { engine: 'GCP Batch', index: 'BATCH_TASK_INDEX', count: 'BATCH_TASK_COUNT' },
];

/** "I/N" with 0 <= I < N, or "auto" (the engine's variables). */
export function parseShard(value: string, env: Environment = process.env): Shard {
  if (value === 'auto') return shardFromEnvironment(env);
  const match = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!match) throw new Error(`--shard must be "I/N" (0-based index I of N shards) or "auto", not "${value}"`);
  return checked(Number(match[1]), Number(match[2]), `--shard ${value}`);
}

export function shardFromEnvironment(env: Environment = process.env): Shard {
  for (const v of ENGINE_VARIABLES) {
    const rawIndex = env[v.index];
    if (rawIndex === undefined || rawIndex === '') continue;
    const where = `${v.engine} (${v.index}=${rawIndex})`;
    const rawCount = env[v.count];
    if (rawCount === undefined || rawCount === '') {
      const hint = v.count === 'KIZU_SHARDS' ? ': Kubernetes does not pass the completion count, set KIZU_SHARDS to the Job\'s completions' : '';
      throw new Error(`--shard auto: ${where} is set but ${v.count} is not${hint}`);
    }
    const offset = v.offset ? integer(env[v.offset] ?? '0', v.offset, where) : 0;
    return checked(integer(rawIndex, v.index, where) - offset, integer(rawCount, v.count, where), `${where}, ${v.count}=${rawCount}${v.offset ? `, ${v.offset}=${env[v.offset] ?? 0}` : ''}`);
  }
  throw new Error(`--shard auto: no array engine's variables are set (looked for ${ENGINE_VARIABLES.map((v) => v.index).join(', ')}); give --shard I/N`);
}

function integer(raw: string, name: string, where: string): number {
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n)) throw new Error(`--shard: ${name}="${raw}" is not a non-negative integer (from ${where})`);
  return n;
}

function checked(index: number, count: number, source: string): Shard {
  if (count < 1) throw new Error(`--shard: the shard count must be at least 1, got ${count} (from ${source})`);
  if (index < 0 || index >= count) throw new Error(`--shard: index ${index} is out of range 0..${count - 1} (from ${source})`);
  return { index, count, source };
}

/** The shard's contiguous slice of `total` images; slices differ in size by at most one. */
export function shardRange(shard: Shard, total: number): ImageRange {
  return { start: Math.floor((shard.index * total) / shard.count), end: Math.floor(((shard.index + 1) * total) / shard.count) };
}

/** Consecutive slices of at most `size` images: a queue's jobs. */
export function chunkRanges(total: number, size: number): ImageRange[] {
  const ranges: ImageRange[] = [];
  for (let start = 0; start < total; start += size) ranges.push({ start, end: Math.min(total, start + size) });
  return ranges;
}
