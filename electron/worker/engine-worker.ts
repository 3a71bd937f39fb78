import { parentPort } from 'node:worker_threads';
import { ensureDemoFolder } from '../data/demo-folder.ts';
import { quiesceOnnxRuntime } from '../engine/onnx/runtime.ts';
import { EngineHost } from './engine-host.ts';
import { Cancelled, runExport } from './export-run.ts';
import type { DemoArgs, EngineOp, EngineOps, ExplainArgs, ExportArgs, FromWorker, Progress, ToWorker } from './protocol.ts';
import { runEvaluation, runTraining } from './model-jobs.ts';

/**
 * The engine's thread: inference, maps, exports and training run here, so the Electron main
 * process and the HTTP server stay responsive. Messages are protocol.ts's; each call may
 * send progress and is cancelled through its id.
 */

const port = parentPort;
if (!port) throw new Error('engine-worker.ts runs as a worker thread');

const host = new EngineHost();
const running = new Map<number, AbortController>();
const calls = new Set<Promise<void>>();
const post = (message: FromWorker) => port.postMessage(message);

type Handler<O extends EngineOp> = (args: EngineOps[O]['args'], signal: AbortSignal, progress: (p: Progress) => void) => Promise<EngineOps[O]['result']>;

const handlers: { [O in EngineOp]: Handler<O> } = {
  init: (args) => host.init(args.modelPath),
  status: async () => host.status(),
  loadModel: (args) => host.loadModel(args.path),
  explain: (args: ExplainArgs) => host.explain(args),
  classify: (args) => host.classify(args),
  export: (args: ExportArgs, signal, progress) => runExport(host, args, signal, progress),
  makeDemo: (args: DemoArgs) => ensureDemoFolder(args.dir, { classes: args.classes, size: args.size }),
  train: (args, signal, progress) => runTraining(args, signal, progress),
  evaluate: (args, _signal, progress) => runEvaluation(args, progress),
};

async function call(id: number, op: EngineOp, args: unknown): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const handler = handlers[op] as Handler<EngineOp>;
    if (!handler) throw new Error(`unknown engine operation "${String(op)}"`);
    const value = await handler(args as never, controller.signal, (progress) => post({ type: 'progress', id, progress }));
    post({ type: 'result', id, value });
  } catch (err) {
    const cancelled = err instanceof Cancelled || controller.signal.aborted;
    const status = (err as { status?: unknown }).status;
    post({ type: 'error', id, message: (err as Error)?.message ?? String(err), status: typeof status === 'number' ? status : undefined, cancelled });
  } finally {
    running.delete(id);
  }
}

async function shutdown(): Promise<void> {
  for (const controller of running.values()) controller.abort();
  // Cancelled work ends at its next safe point (training after its step, with a checkpoint);
  // ending this thread sooner would end training's own workers inside an onnxruntime call.
  await Promise.allSettled([...calls]);
  await quiesceOnnxRuntime();
  process.exit(0);
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'cancel') running.get(message.id)?.abort();
  else if (message.type === 'shutdown') void shutdown();
  else {
    const work = call(message.id, message.op, message.args);
    calls.add(work);
    void work.finally(() => calls.delete(work));
  }
});
