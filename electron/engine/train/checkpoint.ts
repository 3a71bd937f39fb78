import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../data/atomic-write.ts';
import { encodeSafetensors, readSafetensors } from '../safetensors.ts';
import type { ParamLayout } from './param-layout.ts';

const CHECKPOINT_VERSION = 1;
const LATEST = 'latest.json';
const SECOND_MOMENT = 'second-moment.safetensors';

const stateSchema = z.object({
  schemaVersion: z.literal(CHECKPOINT_VERSION),
  /** Optimiser steps completed; training resumes at this step. */
  step: z.number().int().nonnegative(),
  /** A fingerprint of the options that must not change across a resume. */
  fingerprint: z.string(),
  savedAt: z.string(),
  extra: z.record(z.string(), z.unknown()).default({}),
});
export type CheckpointState = z.infer<typeof stateSchema>;

export interface Checkpoint {
  state: CheckpointState;
  params: Float32Array;
  /** SGD's velocity, or AdamW's first moment. */
  velocity: Float32Array;
  /** AdamW's second moment; absent for SGD. */
  secondMoment?: Float32Array;
}

function toTensors(layout: ParamLayout, flat: Float32Array): Map<string, { shape: number[]; data: Float32Array }> {
  return new Map(layout.slots.map((s) => [s.name, { shape: s.shape, data: flat.subarray(s.offset, s.offset + s.size) }]));
}

async function fromFile(layout: ParamLayout, path: string): Promise<Float32Array> {
  const file = await readSafetensors(path);
  const flat = new Float32Array(layout.size);
  for (const s of layout.slots) {
    const t = file.tensors.get(s.name);
    if (!t) throw new Error(`${path}: checkpoint has no tensor "${s.name}"`);
    if (t.shape.join('x') !== s.shape.join('x')) throw new Error(`${path}: tensor "${s.name}" is ${t.shape.join('x')}, expected ${s.shape.join('x')}`);
    flat.set(t.toFloat32(), s.offset);
  }
  return flat;
}

/**
 * Each checkpoint is a new folder (step-N/: weights, momentum, state), made complete before
 * latest.json is atomically pointed at it; a kill at any moment leaves the previous one
 * intact and current. Older folders are pruned after the switch.
 */
export async function saveCheckpoint(dir: string, layout: ParamLayout, ckpt: Checkpoint, keep = 2): Promise<void> {
  const name = `step-${String(ckpt.state.step).padStart(8, '0')}`;
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  await writeFileAtomic(join(folder, 'params.safetensors'), encodeSafetensors(toTensors(layout, ckpt.params), 'F32'));
  await writeFileAtomic(join(folder, 'velocity.safetensors'), encodeSafetensors(toTensors(layout, ckpt.velocity), 'F32'));
  if (ckpt.secondMoment) await writeFileAtomic(join(folder, SECOND_MOMENT), encodeSafetensors(toTensors(layout, ckpt.secondMoment), 'F32'));
  await writeFileAtomic(join(folder, 'state.json'), `${JSON.stringify(ckpt.state, null, 2)}\n`);
  await writeFileAtomic(join(dir, LATEST), `${JSON.stringify({ folder: name })}\n`);
  const old = (await readdir(dir)).filter((f) => f.startsWith('step-') && f < name).sort();
  for (const f of old.slice(0, Math.max(0, old.length - (keep - 1)))) await rm(join(dir, f), { recursive: true, force: true });
}

/** The latest complete checkpoint, or null when there is none. */
export async function loadCheckpoint(dir: string, layout: ParamLayout): Promise<Checkpoint | null> {
  let pointer: string;
  try {
    pointer = await readFile(join(dir, LATEST), 'utf8');
  } catch {
    return null;
  }
  const { folder } = z.object({ folder: z.string().regex(/^step-\d+$/) }).parse(JSON.parse(pointer));
  const statePath = join(dir, folder, 'state.json');
  const parsed = stateSchema.safeParse(JSON.parse(await readFile(statePath, 'utf8')));
  if (!parsed.success) throw new Error(`${statePath}: invalid checkpoint state: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return {
    state: parsed.data,
    params: await fromFile(layout, join(dir, folder, 'params.safetensors')),
    velocity: await fromFile(layout, join(dir, folder, 'velocity.safetensors')),
    secondMoment: existsSync(join(dir, folder, SECOND_MOMENT)) ? await fromFile(layout, join(dir, folder, SECOND_MOMENT)) : undefined,
  };
}

export function newCheckpointState(step: number, fingerprint: string, extra: Record<string, unknown> = {}): CheckpointState {
  return { schemaVersion: CHECKPOINT_VERSION, step, fingerprint, savedAt: new Date().toISOString(), extra };
}

const BEST = 'best';
const bestStateSchema = z.object({ step: z.number().int().nonnegative(), epoch: z.number().int().positive(), validationAuroc: z.number(), validationAccuracy: z.number(), validationLoss: z.number() });
export type BestState = z.infer<typeof bestStateSchema>;

/**
 * The parameters that scored best on the validation split so far, beside the checkpoints, so a
 * resumed run still knows them. Written weights first, then its state: a kill between the two
 * leaves the previous state pointing at weights at least as good.
 */
export async function saveBest(dir: string, layout: ParamLayout, params: Float32Array, state: BestState): Promise<void> {
  await mkdir(join(dir, BEST), { recursive: true });
  await writeFileAtomic(join(dir, BEST, 'params.safetensors'), encodeSafetensors(toTensors(layout, params), 'F32'));
  await writeFileAtomic(join(dir, BEST, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

export async function loadBest(dir: string, layout: ParamLayout): Promise<{ params: Float32Array; state: BestState } | null> {
  const statePath = join(dir, BEST, 'state.json');
  if (!existsSync(statePath)) return null;
  const parsed = bestStateSchema.safeParse(JSON.parse(await readFile(statePath, 'utf8')));
  if (!parsed.success) throw new Error(`${statePath}: invalid best-parameters state: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { params: await fromFile(layout, join(dir, BEST, 'params.safetensors')), state: parsed.data };
}

const EPOCHS = 'epochs';
const epochFile = /^epoch-(\d+)\.safetensors$/;

/**
 * The parameters at a fine-tune epoch's end, for --average-last: the newest `keep` are kept
 * beside the checkpoints, so a resumed run still averages the epochs it ran before the stop.
 */
export async function saveEpochWeights(dir: string, layout: ParamLayout, epoch: number, params: Float32Array, keep: number): Promise<void> {
  const folder = join(dir, EPOCHS);
  await mkdir(folder, { recursive: true });
  await writeFileAtomic(join(folder, `epoch-${String(epoch).padStart(5, '0')}.safetensors`), encodeSafetensors(toTensors(layout, params), 'F32'));
  const saved = (await readdir(folder)).filter((f) => epochFile.test(f)).sort();
  for (const f of saved.slice(0, Math.max(0, saved.length - keep))) await rm(join(folder, f), { force: true });
}

/** A run that starts afresh in an old --out must not average the old run's epochs with its own. */
export async function clearEpochWeights(dir: string): Promise<void> {
  await rm(join(dir, EPOCHS), { recursive: true, force: true });
}

/** The epoch-end parameters saveEpochWeights kept, oldest first. */
export async function loadEpochWeights(dir: string, layout: ParamLayout): Promise<Array<{ epoch: number; params: Float32Array }>> {
  const folder = join(dir, EPOCHS);
  if (!existsSync(folder)) return [];
  const files = (await readdir(folder)).filter((f) => epochFile.test(f)).sort();
  return Promise.all(files.map(async (f) => ({ epoch: Number(epochFile.exec(f)![1]), params: await fromFile(layout, join(folder, f)) })));
}
