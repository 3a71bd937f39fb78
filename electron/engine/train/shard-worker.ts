import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, parseBackendName } from '../backend.ts';
import { quiesceOnnxRuntime } from '../onnx/runtime.ts';
import { TrainingShard, type ShardConfig } from './shard.ts';
import type { ShardRequest, ShardResponse } from './shard-protocol.ts';

/** A data-parallel training worker: its own tfjs backend, reading weights from shared memory. */
const { shard: cfg, params: shared, backend } = workerData as { shard: ShardConfig; params: SharedArrayBuffer; backend?: string };
await initBackend(parseBackendName(backend));
const shard = new TrainingShard(cfg);
const params = new Float32Array(shared);

parentPort!.on('message', async (req: ShardRequest) => {
  try {
    let res: ShardResponse;
    if (req.kind === 'close') {
      // Ending the thread inside an onnxruntime call would abort the process: let it finish.
      await quiesceOnnxRuntime();
      await shard.dispose();
      parentPort!.postMessage({ id: req.id, kind: 'closed' } satisfies ShardResponse);
      return;
    }
    if (req.kind === 'step') {
      const result = await shard.step(params, req.plan, req.stepSize);
      res = { id: req.id, kind: 'step', result };
      parentPort!.postMessage(res, [result.grads.buffer as ArrayBuffer]);
      return;
    }
    res = { id: req.id, kind: 'predict', probabilities: await shard.predict(params, req.indices) };
    parentPort!.postMessage(res);
  } catch (err) {
    parentPort!.postMessage({ id: req.id, kind: 'error', message: err instanceof Error ? err.message : String(err) } satisfies ShardResponse);
  }
});
parentPort!.postMessage({ id: -1, kind: 'ready' } satisfies ShardResponse);
