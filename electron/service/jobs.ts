import { randomUUID } from 'node:crypto';
import type { JobEvent, JobKind } from '../api.ts';

export interface JobProgress {
  done: number;
  total?: number;
  message?: string;
  etaSeconds?: number | null;
  metrics?: JobEvent['metrics'];
  failures?: JobEvent['failures'];
}

export interface JobContext {
  signal: AbortSignal;
  progress(update: JobProgress): void;
}

export type JobListener = (event: JobEvent) => void;

/** Jobs kept for listJobs once finished, newest last. */
const KEEP_FINISHED = 50;

/** Seconds left at the rate so far; null until there is a rate to go by. */
export function estimateEta(done: number, total: number, elapsedMs: number): number | null {
  if (total <= 0 || done <= 0) return null;
  if (done >= total) return 0;
  return ((elapsedMs / done) * (total - done)) / 1000;
}

interface Job {
  event: JobEvent;
  controller: AbortController;
  startedAt: number;
}

/**
 * Long work (exports, training, evaluation) as jobs: each has an id, sends JobEvents with
 * done/total and an ETA to every listener (SSE clients, the Electron window), can be
 * cancelled, and stays listed for a while once finished.
 */
export class JobRegistry {
  private readonly jobs = new Map<string, Job>();
  private readonly listeners = new Set<JobListener>();

  constructor(private readonly now: () => number = Date.now) {}

  subscribe(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(): JobEvent[] {
    return [...this.jobs.values()].map((j) => j.event);
  }

  cancel(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job || job.event.state !== 'running') return false;
    job.controller.abort();
    return true;
  }

  /** Starts `run` now; its result (or error) ends the job. */
  start(kind: JobKind, total: number, message: string, run: (ctx: JobContext) => Promise<Record<string, unknown>>): { jobId: string; done: Promise<JobEvent> } {
    const jobId = randomUUID();
    const job: Job = {
      event: { jobId, kind, state: 'running', done: 0, total, etaSeconds: null, message },
      controller: new AbortController(),
      startedAt: this.now(),
    };
    this.jobs.set(jobId, job);
    this.emit(job);
    const ctx: JobContext = {
      signal: job.controller.signal,
      progress: (u) => {
        if (job.event.state !== 'running') return;
        const totalNow = u.total ?? job.event.total;
        const eta = u.etaSeconds !== undefined ? u.etaSeconds : estimateEta(u.done, totalNow, this.now() - job.startedAt);
        job.event = {
          ...job.event, done: u.done, total: totalNow, etaSeconds: eta, message: u.message ?? job.event.message,
          ...(u.metrics ? { metrics: u.metrics } : {}), ...(u.failures ? { failures: u.failures } : {}),
        };
        this.emit(job);
      },
    };
    const done = Promise.resolve()
      .then(() => {
        if (job.controller.signal.aborted) throw new Error('cancelled before it started');
        return run(ctx);
      })
      .then(
        (result) => this.finish(job, job.controller.signal.aborted ? 'cancelled' : 'done', job.controller.signal.aborted ? 'cancelled' : 'done', result),
        (err: unknown) => {
          const cancelled = job.controller.signal.aborted || (err as { cancelled?: boolean }).cancelled === true;
          return this.finish(job, cancelled ? 'cancelled' : 'failed', cancelled ? 'cancelled' : (err as Error)?.message ?? String(err));
        },
      );
    return { jobId, done };
  }

  private finish(job: Job, state: JobEvent['state'], message: string, result?: Record<string, unknown>): JobEvent {
    job.event = { ...job.event, state, message, etaSeconds: state === 'done' ? 0 : null, ...(result ? { result } : {}) };
    if (state === 'done') job.event.done = job.event.total;
    this.emit(job);
    this.prune();
    return job.event;
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.event.state !== 'running');
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(j.event.jobId);
  }

  private emit(job: Job): void {
    for (const listener of this.listeners) {
      try {
        listener(job.event);
      } catch {
        // A listener that throws (a closed connection) must not stop the job or the others.
      }
    }
  }
}
