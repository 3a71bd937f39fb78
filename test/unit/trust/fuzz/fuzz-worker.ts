import { writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { importAnnotations } from '../../../../electron/annotate/formats/index.ts';
import { ImageReadError, probeImage, readImage } from '../../../../electron/data/image-io.ts';
import { mutate, Rng } from './mutate.ts';
import type { AnnotationSeed, ImageSeed } from './seeds.ts';

/**
 * Runs fuzz cases [from, to) of one target and reports to the test: 'start' before each case
 * (so a hang is pinned to its case), 'done' with the counts and anything unexpected.
 */

export interface FuzzJob {
  target: 'images' | 'annotations';
  seed: number;
  from: number;
  to: number;
  dir: string;
  images: ImageSeed[];
  annotations: AnnotationSeed[];
}

export interface Unexpected {
  index: number;
  input: string;
  error: string;
}

export type FuzzMessage =
  | { kind: 'start'; index: number }
  | { kind: 'done'; accepted: number; refused: number; unexpected: Unexpected[]; messages: string[] };

/** Each case has its own generator: case i is the same whatever ran before it. */
export function caseRng(seed: number, index: number): Rng {
  return new Rng(Math.imul(seed ^ 0x9e3779b9, 2654435761) ^ Math.imul(index + 1, 0x85ebca6b));
}

const describe = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}\n${(err.stack ?? '').split('\n').slice(1, 4).join('\n')}` : String(err));

function checkRaster(img: Awaited<ReturnType<typeof readImage>>): string | null {
  if (img.data.length !== img.width * img.height * img.channels) return `data has ${img.data.length} values for ${img.width}x${img.height}x${img.channels}`;
  for (const v of img.data) if (!(v >= 0 && v <= 1)) return `value ${v} outside [0, 1]`;
  return null;
}

async function imageCase(job: FuzzJob, index: number): Promise<{ accepted: boolean; message?: string; unexpected?: Unexpected }> {
  const rng = caseRng(job.seed, index);
  const seed = rng.pick(job.images);
  const bytes = mutate(rng, seed.bytes, job.images.map((s) => s.bytes), false);
  const path = join(job.dir, `case ${index % 4}${extname(seed.name)}`);
  await writeFile(path, bytes);
  const input = `case ${index}: mutated ${seed.name}`;
  try {
    await probeImage(path);
    const img = await readImage(path);
    const bad = checkRaster(img);
    return bad ? { accepted: true, unexpected: { index, input, error: `readImage returned garbage: ${bad}` } } : { accepted: true };
  } catch (err) {
    if (err instanceof ImageReadError && err.message.startsWith(`${path}: `)) return { accepted: false, message: err.reason };
    return { accepted: false, unexpected: { index, input, error: describe(err) } };
  }
}

function annotationCase(job: FuzzJob, index: number): { accepted: boolean; message?: string; unexpected?: Unexpected } {
  const rng = caseRng(job.seed, index);
  const seed = rng.pick(job.annotations);
  const key = rng.next() < 0.5 ? seed.targets[0] : rng.pick(seed.targets);
  const donors = job.annotations.flatMap((s) => Object.entries(s.files).filter(([k]) => extname(k) === extname(key)).map(([, v]) => v));
  const files = { ...seed.files, [key]: mutate(rng, seed.files[key], donors, extname(key) !== '.png') };
  const input = `case ${index}: ${seed.format}, mutated ${key}`;
  try {
    const result = importAnnotations(seed.format, files, seed.images ? { images: seed.images } : {});
    for (const item of result.items) {
      if (item.mask.data.length !== item.width * item.height || item.mask.width !== item.width || item.mask.height !== item.height) {
        return { accepted: true, unexpected: { index, input, error: `item ${item.fileName}: mask does not match its ${item.width}x${item.height} size` } };
      }
    }
    return { accepted: true };
  } catch (err) {
    // A refusal must be a plain Error that names the file at fault (or the format, for a set with a file missing).
    const named = err instanceof Error && (Object.keys(files).some((k) => err.message.includes(k)) || err.message.startsWith(`${seed.format.replace('-rle', '')} import:`));
    if (err instanceof Error && err.constructor === Error && named) return { accepted: false, message: err.message };
    return { accepted: false, unexpected: { index, input, error: describe(err) } };
  }
}

if (parentPort) {
  const job = workerData as FuzzJob;
  const port = parentPort;
  let accepted = 0;
  let refused = 0;
  const unexpected: Unexpected[] = [];
  const messages = new Set<string>();
  for (let index = job.from; index < job.to; index++) {
    port.postMessage({ kind: 'start', index } satisfies FuzzMessage);
    const outcome = job.target === 'images' ? await imageCase(job, index) : annotationCase(job, index);
    if (outcome.accepted) accepted++;
    else refused++;
    if (outcome.unexpected) unexpected.push(outcome.unexpected);
    if (outcome.message && messages.size < 200) messages.add(outcome.message.replace(/\d+/g, 'N'));
  }
  port.postMessage({ kind: 'done', accepted, refused, unexpected, messages: [...messages] } satisfies FuzzMessage);
}
