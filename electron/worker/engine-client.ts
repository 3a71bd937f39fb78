import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../spawn-worker.ts';
import type { EngineOp, EngineOps, EngineStatus, FromWorker, Progress, ToWorker } from './protocol.ts';

/** The engine worker's source; a bundled build passes its own .js next to main.js instead. */
export const ENGINE_WORKER_SOURCE = new URL('./engine-worker.ts', import.meta.url);

export interface CallOptions {
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

export class EngineCallError extends Error {
  constructor(message: string, readonly status?: number, readonly cancelled = false) {
    super(message);
    this.name = 'EngineCallError';
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onProgress?: (progress: Progress) => void;
}

/**
 * The service's handle on an engine worker thread: typed calls with progress and
 * cancellation. If the worker dies (a wasm heap abort, say), pending calls fail with a message
 * saying so and the next call starts a new worker, which loads the model the last one had.
 */
export class EngineClient {
  private worker: Worker | null = null;
  private started: Promise<EngineStatus> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private modelPath: string | null;

  constructor(
    private readonly entry: URL = ENGINE_WORKER_SOURCE,
    options: { modelPath?: string | null } = {},
  ) {
    this.modelPath = options.modelPath ?? null;
  }

  /** Starts the worker (once) and resolves to the engine's backend and model. */
  start(): Promise<EngineStatus> {
    if (!this.started) {
      this.spawn();
      this.started = this.send('init', { modelPath: this.modelPath }, {});
    }
    return this.started;
  }

  async call<O extends Exclude<EngineOp, 'init'>>(op: O, args: EngineOps[O]['args'], options: CallOptions = {}): Promise<EngineOps[O]['result']> {
    await this.start();
    const result = await this.send(op, args, options);
    if (op === 'loadModel') this.modelPath = (args as EngineOps['loadModel']['args']).path;
    return result;
  }

  /**
   * Runs one operation in a worker of its own, which ends with it: training and evaluation,
   * which hold gigabytes and run for long. With `terminateOnAbort`, cancelling ends the
   * worker at once, for operations that do not watch the signal themselves.
   */
  static async once<O extends Exclude<EngineOp, 'init'>>(
    entry: URL, op: O, args: EngineOps[O]['args'], options: CallOptions & { terminateOnAbort?: boolean } = {},
  ): Promise<EngineOps[O]['result']> {
    const client = new EngineClient(entry);
    client.spawn();
    const { signal, terminateOnAbort, onProgress } = options;
    try {
      if (!terminateOnAbort || !signal) return await client.send(op, args, { signal, onProgress });
      if (signal.aborted) throw new EngineCallError('cancelled', undefined, true);
      return await new Promise<EngineOps[O]['result']>((resolve, reject) => {
        const abort = () => reject(new EngineCallError('cancelled', undefined, true));
        signal.addEventListener('abort', abort, { once: true });
        client.send(op, args, { onProgress }).then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
      });
    } finally {
      await client.close();
    }
  }

  /**
   * Ends the worker: it is asked to stop at a safe point first (terminating it while an
   * onnxruntime call runs would abort the whole process), and terminated only if it has not
   * ended within `graceMs`.
   */
  async close(graceMs = 30_000): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.started = null;
    this.rejectAll('the engine was shut down');
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), graceMs); });
    worker.postMessage({ type: 'shutdown' } satisfies ToWorker);
    const outcome = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') await worker.terminate();
  }

  private spawn(): void {
    const worker = spawnWorker(this.entry);
    worker.on('message', (message: FromWorker) => this.receive(message));
    const fail = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.started = null;
      this.rejectAll(`the engine stopped unexpectedly (${why}); try again`);
    };
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = worker;
  }

  private send<O extends EngineOp>(op: O, args: EngineOps[O]['args'], options: CallOptions): Promise<EngineOps[O]['result']> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new EngineCallError('the engine is not running'));
    if (options.signal?.aborted) return Promise.reject(new EngineCallError('cancelled', undefined, true));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const abort = () => worker.postMessage({ type: 'cancel', id } satisfies ToWorker);
      options.signal?.addEventListener('abort', abort, { once: true });
      const settle = () => options.signal?.removeEventListener('abort', abort);
      this.pending.set(id, {
        resolve: (v) => (settle(), resolve(v as EngineOps[O]['result'])),
        reject: (e) => (settle(), reject(e)),
        onProgress: options.onProgress,
      });
      worker.postMessage({ type: 'call', id, op, args } satisfies ToWorker);
    });
  }

  private rejectAll(message: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new EngineCallError(message));
    }
  }

  private receive(message: FromWorker): void {
    const p = this.pending.get(message.id);
    if (!p) return;
    if (message.type === 'progress') {
      p.onProgress?.(message.progress);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === 'result') p.resolve(message.value);
    else p.reject(new EngineCallError(message.message, message.status, message.cancelled ?? false));
  }
}
