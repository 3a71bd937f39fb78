import type { MicroBatchPlan, ShardStepResult } from './shard.ts';

/** Messages between the training coordinator and its worker threads. */
export type ShardRequest =
  | { id: number; kind: 'step'; plan: MicroBatchPlan[]; stepSize: number }
  | { id: number; kind: 'predict'; indices: number[] }
  | { id: number; kind: 'close' };

export type ShardResponse =
  | { id: number; kind: 'ready' }
  | { id: number; kind: 'step'; result: ShardStepResult }
  | { id: number; kind: 'predict'; probabilities: number[] }
  | { id: number; kind: 'closed' }
  | { id: number; kind: 'error'; message: string };

/** A request before the pool numbers it. */
export type UnnumberedRequest = ShardRequest extends infer R ? (R extends ShardRequest ? Omit<R, 'id'> : never) : never;
