import type { TrainingParams } from '../api.ts';
import type { EvaluateArgs, Progress, JobResult } from './protocol.ts';

type TrainModule = typeof import('../engine/train/train.ts');
type EvaluateModule = typeof import('../engine/evaluate.ts');

/** The largest micro-batch up to `preferred` that divides the batch, as train() requires. */
export function microBatchFor(batch: number, preferred: number): number {
  for (let m = Math.min(batch, preferred); m > 1; m--) if (batch % m === 0) return m;
  return 1;
}

/**
 * Loaded on first use, so a build without the trainer (or with it broken) still runs
 * everything else, and says why this one thing cannot.
 */
async function optionalModule<T>(what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    throw Object.assign(new Error(`${what} is not available in this build yet (${(err as Error).message.split('\n')[0]})`), { status: 501 });
  }
}

/**
 * A training run from the app's panel: the engine's train() with the panel's parameters and
 * its defaults for the rest. Cancelling stops at the next step; train() still writes the
 * model and a checkpoint, which the result names.
 */
export async function runTraining(params: TrainingParams & { data: string; out: string }, signal: AbortSignal, progress: (p: Progress) => void): Promise<JobResult> {
  const { train, DEFAULT_TRAIN_OPTIONS, sideHeadsFor } = await optionalModule<TrainModule>('training', () => import('../engine/train/train.ts'));
  const result = await train(
    {
      ...DEFAULT_TRAIN_OPTIONS,
      data: params.data, out: params.out, defectLabel: params.defectLabel, epochs: params.epochs, batch: params.batch,
      microBatch: microBatchFor(params.batch, DEFAULT_TRAIN_OPTIONS.microBatch), lr: params.lr, inputSize: params.inputSize,
      init: params.init, width: params.width, seed: params.seed, resume: params.resume, pretextOnly: params.pretextOnly, masks: params.masks, sideHeads: sideHeadsFor(Boolean(params.masks)), minutes: params.minutes, command: params.pretextOnly ? 'kizu app (training panel, pretrain)' : 'kizu app (training panel)',
    },
    {
      signal,
      onProgress: (p) => {
        const metrics = p.loss !== undefined && p.accuracy !== undefined && p.lr !== undefined && p.imagesPerSecond !== undefined
          ? { step: p.step, epoch: p.epoch, loss: p.loss, accuracy: p.accuracy, lr: p.lr, imagesPerSecond: p.imagesPerSecond }
          : undefined;
        progress({ done: p.step, total: p.totalSteps, message: p.message, etaSeconds: p.etaSeconds, ...(metrics ? { metrics } : {}) });
      },
    },
  );
  return { modelDir: result.modelDir, cancelled: result.cancelled, steps: result.steps, validation: result.validation, seconds: result.seconds, ...(result.masks ? { masks: result.masks } : {}) };
}

/** Classification and localisation scores of a model on a labelled dataset (see engine/evaluate.ts). */
export async function runEvaluation(args: EvaluateArgs, progress: (p: Progress) => void): Promise<JobResult> {
  const { evaluate, formatEvaluation } = await optionalModule<EvaluateModule>('evaluation', () => import('../engine/evaluate.ts'));
  const report = await evaluate({ data: args.data, model: args.model }, (done, total, what) => progress({ done, total, message: what }));
  return { report, summary: formatEvaluation(report) };
}
