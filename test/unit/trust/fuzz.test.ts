import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnWorker } from '../../../electron/spawn-worker.ts';
import type { FuzzJob, FuzzMessage, Unexpected } from './fuzz/fuzz-worker.ts';
import { annotationSeeds, imageSeeds } from './fuzz/seeds.ts';

/*
 * Thousands of seeded mutations (bit flips, interesting bytes, truncations, splices,
 * insertions, deletions, duplications, troublesome numbers) of valid PNG, JPEG, TIFF and BMP
 * files and of COCO, LabelMe, YOLO and VOC annotation sets, fed to readImage/probeImage and
 * to the importers. Each must either work (and give well-formed data) or refuse with its own
 * error type naming the file. A case that makes no progress for STALL_MS is a hang: the
 * worker is stopped and the case named, so it can be replayed from SEED and its index.
 */

const SEED = 20261126;
const IMAGE_CASES = 2000;
const ANNOTATION_CASES = 3000;
const STALL_MS = 20_000;

const dir = mkdtempSync(join(tmpdir(), 'kizu-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  accepted: number;
  refused: number;
  unexpected: Unexpected[];
  messages: string[];
  hang?: string;
}

function run(job: FuzzJob): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const worker = spawnWorker(new URL('./fuzz/fuzz-worker.ts', import.meta.url), { workerData: job });
    let current = -1;
    let timer: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        void worker.terminate();
        resolve({ accepted: 0, refused: 0, unexpected: [], messages: [], hang: `${job.target} case ${current} made no progress for ${STALL_MS} ms` });
      }, STALL_MS);
    };
    arm();
    worker.on('message', (m: FuzzMessage) => {
      if (m.kind === 'start') {
        current = m.index;
        arm();
        return;
      }
      clearTimeout(timer);
      void worker.terminate();
      resolve(m);
    });
    worker.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${job.target} case ${current} crashed the worker: ${err.stack ?? err.message}`));
    });
  });
}

describe('fuzzing the image readers and the annotation importers', async () => {
  const images = await imageSeeds();
  const annotations = annotationSeeds();
  const outcomes = Promise.all([
    run({ target: 'images', seed: SEED, from: 0, to: IMAGE_CASES, dir, images, annotations: [] }),
    run({ target: 'annotations', seed: SEED, from: 0, to: ANNOTATION_CASES, dir, images: [], annotations }),
  ]);

  it(`readImage and probeImage: ${IMAGE_CASES} mutated PNG/JPEG/TIFF/BMP files, no crash, no hang, only ImageReadError naming the file`, async () => {
    const [result] = await outcomes;
    expect(result.hang).toBeUndefined();
    expect(result.unexpected).toEqual([]);
    // Not vacuous: mutations both break files and leave some readable.
    expect(result.refused).toBeGreaterThan(IMAGE_CASES / 10);
    expect(result.accepted).toBeGreaterThan(IMAGE_CASES / 20);
    expect(result.messages.join('\n')).toMatch(/truncated or corrupt/);
  });

  it(`importers: ${ANNOTATION_CASES} mutated COCO, LabelMe, YOLO and VOC sets, no crash, no hang, only errors naming the file`, async () => {
    const [, result] = await outcomes;
    expect(result.hang).toBeUndefined();
    expect(result.unexpected).toEqual([]);
    expect(result.refused).toBeGreaterThan(ANNOTATION_CASES / 10);
    expect(result.accepted).toBeGreaterThan(ANNOTATION_CASES / 20);
  });
});
