import { join } from 'node:path';
import { writeFileAtomic } from '../data/atomic-write.ts';
import { readImage } from '../data/image-io.ts';
import { initBackend } from './backend.ts';
import { fitCalibration, type Calibration } from './calibration.ts';
import { Explainer } from './explain.ts';
import { MANIFEST_FILE } from './manifest.ts';
import { loadModelDir, readManifest } from './model-dir.ts';

/** What calibration needs of an image: where it is and whether it is defective. */
export interface LabelledImage {
  path: string;
  isDefect: boolean;
}

/**
 * Classifies `items` (the validation split's images) with the model in `modelDir`, fits its
 * calibration and decision threshold on their logits (calibration.ts) and writes them into the
 * model's manifest. Returns null, writing nothing, when the items lack OK or defective images.
 */
export async function fitModelCalibration(
  modelDir: string,
  items: readonly LabelledImage[],
  onProgress?: (done: number, total: number, what: string) => void,
): Promise<Calibration | null> {
  if (!items.some((i) => i.isDefect) || !items.some((i) => !i.isDefect)) return null;
  await initBackend();
  const model = await loadModelDir(modelDir);
  const explainer = Explainer.fromModel(model);
  model.net.dispose();
  try {
    const logits: number[][] = [];
    for (const [k, item] of items.entries()) {
      logits.push((await explainer.classify(await readImage(item.path))).logits);
      onProgress?.(k + 1, items.length, item.path);
    }
    const calibration = fitCalibration(logits, items.map((i) => i.isDefect), model.manifest.defectClass);
    if (calibration === null) return null;
    const manifest = await readManifest(modelDir);
    await writeFileAtomic(join(modelDir, MANIFEST_FILE), `${JSON.stringify({ ...manifest, calibration }, null, 2)}\n`);
    return calibration;
  } finally {
    explainer.dispose();
  }
}
