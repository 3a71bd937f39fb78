import { parentPort } from 'node:worker_threads';
import { runSampleTask, type SampleTask } from './sample-task.ts';

// Renders and writes the samples the pool sends; an error is reported with the task, not thrown.
const port = parentPort;
if (!port) throw new Error('sample-worker.ts must run in a worker thread');
port.on('message', (task: SampleTask) => {
  runSampleTask(task).then(
    () => port.postMessage({ ok: true, id: task.id }),
    (err: unknown) => port.postMessage({ ok: false, id: task.id, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
});
port.postMessage({ ready: true });
