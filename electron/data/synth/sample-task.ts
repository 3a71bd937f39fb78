import { writePng } from '../image-io.ts';
import type { DefectKind } from './defects.ts';
import { renderSample } from './render-sample.ts';

/** One image of a generated dataset, as sent to a worker. */
export interface SampleTask {
  id: number;
  family: string;
  seed: number;
  size: number;
  /** The defect to draw, or false for a clean image. */
  defect: DefectKind | false;
  /** Absolute path of the image; the label and mask go to Label/ beside it when defective. */
  imagePath: string;
  weakLabelPath: string;
  maskPath: string;
}

/** zlib level 6: fast, and the noisy images gain under 1% from more. */
const IMAGE_PNG_LEVEL = 6;

export async function runSampleTask(task: SampleTask): Promise<void> {
  const s = renderSample(task.family, task.seed, task.size, task.defect);
  const grey = (data: Uint8Array) => ({ width: task.size, height: task.size, channels: 1 as const, data });
  const writes = [writePng(task.imagePath, grey(s.image), IMAGE_PNG_LEVEL)];
  if (task.defect) {
    // Labels are mostly flat: the best compression costs little time there.
    writes.push(writePng(task.weakLabelPath, grey(s.weakLabel), 9), writePng(task.maskPath, grey(s.mask), 9));
  }
  await Promise.all(writes);
}
