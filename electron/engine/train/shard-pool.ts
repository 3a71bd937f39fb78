import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../../spawn-worker.ts';
import { TrainingShard, type MicroBatchPlan, type ShardConfig, type ShardStepResult } from './shard.ts';
import type { ShardResponse, UnnumberedRequest } from './shard-protocol.ts';

/** Where the weights live: workers read them through a SharedArrayBuffer; the coordinator writes. */
export interface ShardPool {
  readonly params: Float32Array;
  readonly size: number;
  step(plans: MicroBatchPlan[][], stepSize: number): Promise<ShardStepResult[]>;
  predict(indices: number[]): Promise<number[]>;
  close(): Promise<void>;
}

/** How long a closing worker may take to finish its native call. */
const CLOSE_GRACE_MS = 30_000;

function split<T>(values: T[], parts: number): T[][] {
  const out: T[][] = Array.from({ length: parts }, () => []);
  values.forEach((v, i) => out[i % parts].push(v));
  return out;
}

/** Shards run one after another on this thread: for tests and one-core machines. */
export class InProcessPool implements ShardPool {
  readonly params: Float32Array;
  private readonly shard: TrainingShard;
  readonly size = 1;

  constructor(cfg: ShardConfig, paramCount: number) {
    this.params = new Float32Array(new SharedArrayBuffer(paramCount * 4));
    this.shard = new TrainingShard(cfg);
  }

  async step(plans: MicroBatchPlan[][], stepSize: number): Promise<ShardStepResult[]> {
    return [await this.shard.step(this.params, plans.flat(), stepSize)];
  }

  predict(indices: number[]): Promise<number[]> {
    return this.shard.predict(this.params, indices);
  }

  close(): Promise<void> {
    return this.shard.dispose();
  }
}

/** One worker thread per core, each with its own tfjs backend (wasm has no threads under Node). */
export class ThreadPool implements ShardPool {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: ShardResponse) => void; reject: (e: Error) => void }>();

  private constructor(
    readonly params: Float32Array,
    private readonly workers: Worker[],
  ) {
    for (const w of workers) {
      w.on('message', (msg: ShardResponse) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.kind === 'error') p.reject(new Error(msg.message));
        else p.resolve(msg);
      });
      w.on('error', (err) => this.failAll(err));
      w.on('exit', (code) => code !== 0 && this.failAll(new Error(`a training worker exited with code ${code}`)));
    }
  }

  get size(): number {
    return this.workers.length;
  }

  static async start(cfg: ShardConfig, paramCount: number, threads: number, backend?: string): Promise<ThreadPool> {
    const shared = new SharedArrayBuffer(paramCount * 4);
    const workers = Array.from({ length: threads }, () =>
      spawnWorker(new URL(import.meta.url.endsWith('.ts') ? './shard-worker.ts' : './shard-worker.js', import.meta.url), {
        workerData: { shard: cfg, params: shared, backend },
      }),
    );
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      const onMessage = (m: ShardResponse) => { if (m.kind === 'ready') { w.off('message', onMessage); resolve(); } };
      w.on('message', onMessage);
      w.once('error', reject);
    })));
    return new ThreadPool(new Float32Array(shared), workers);
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private call(worker: Worker, req: UnnumberedRequest): Promise<ShardResponse> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...req, id });
    });
  }

  async step(plans: MicroBatchPlan[][], stepSize: number): Promise<ShardStepResult[]> {
    const replies = await Promise.all(plans.map((plan, i) => this.call(this.workers[i], { kind: 'step', plan, stepSize })));
    return replies.map((r) => (r as Extract<ShardResponse, { kind: 'step' }>).result);
  }

  async predict(indices: number[]): Promise<number[]> {
    const parts = split(indices, this.workers.length);
    const replies = await Promise.all(parts.map((part, i) => this.call(this.workers[i], { kind: 'predict', indices: part })));
    const byIndex = new Map<number, number>();
    parts.forEach((part, i) => part.forEach((idx, k) => byIndex.set(idx, (replies[i] as Extract<ShardResponse, { kind: 'predict' }>).probabilities[k])));
    return indices.map((i) => byIndex.get(i)!);
  }

  /** Each worker first finishes any onnxruntime call (ending a thread inside one aborts the process); terminate after a grace period. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map(async (w) => {
      const grace = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
      await Promise.race([this.call(w, { kind: 'close' }).catch(() => undefined), grace]);
      await w.terminate();
    }));
  }
}
