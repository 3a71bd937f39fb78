import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../../spawn-worker.ts';
import type { SampleTask } from './sample-task.ts';

type WorkerMessage =
  | { ready: true }
  | { ok: true; id: number }
  | { ok: false; id: number; error: string };

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}

/** Runs the tasks on `count` worker threads, one task per worker at a time. */
export function runSampleTasks(tasks: readonly SampleTask[], count: number, onDone: () => void): Promise<void> {
  const finishedIds = new Set<number>();
  if (tasks.length === 0) return Promise.resolve();
  const workerUrl = new URL(`./sample-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  return new Promise((resolve, reject) => {
    const workers: Worker[] = [];
    let next = 0, finished = false;
    const stop = (err?: Error) => {
      if (finished) return;
      finished = true;
      for (const w of workers) void w.terminate();
      if (err) reject(err);
      else resolve();
    };
    const feed = (w: Worker) => {
      if (next < tasks.length) w.postMessage(tasks[next++]);
    };
    const byId = new Map(tasks.map((t) => [t.id, t]));
    for (let i = 0; i < Math.min(count, tasks.length); i++) {
      const w = spawnWorker(workerUrl);
      workers.push(w);
      w.on('message', (m: WorkerMessage) => {
        if ('ready' in m) return feed(w);
        if (!m.ok) return stop(new Error(`generating ${byId.get(m.id)?.imagePath ?? `task ${m.id}`} failed: ${m.error}`));
        finishedIds.add(m.id);
        onDone();
        if (finishedIds.size === tasks.length) stop();
        else feed(w);
      });
      w.on('error', (err) => stop(err));
      w.on('exit', (code) => {
        if (code !== 0) stop(new Error(`a dataset worker exited with code ${code}`));
      });
    }
  });
}
