import { join } from 'node:path';
import { writeFileAtomic } from '../data/atomic-write.ts';
import { readImage } from '../data/image-io.ts';
import { initBackend } from './backend.ts';
import { calibratedProbability, fitCalibration, type Calibration } from './calibration.ts';
import { Explainer } from './explain.ts';
import { MAP_SCALE_EXPLAIN, MapScaleFitter } from './fit-map-scale.ts';
import { MANIFEST_FILE, type MapScale } from './manifest.ts';
import { loadModelDir, readManifest } from './model-dir.ts';
import { readTruth, type TruthItem } from './truth.ts';

/** What a model learns from its validation split once trained. */
export interface ValidationFits {
  /** The maps' one scale and default thresholds (fit-map-scale.ts); null without images. */
  mapScale: MapScale | null;
  /** p(defect)'s calibration and decision threshold (calibration.ts); null without both OK and defective images. */
  calibration: Calibration | null;
}

/**
 * Explains `items` (the validation split's images) once with the model in `modelDir` and fits
 * from that one pass both its map scale (from the maps) and its calibration (from the logits
 * the same pass gives), written into the manifest together: a model is never left with one
 * and not the other, and no image is run twice. The calibration comes first: its decision
 * threshold says on which images the default masks are drawn, and so where they are fitted.
 * What is not fitted is left out of the manifest.
 */
export async function fitOnValidation(
  modelDir: string,
  items: readonly TruthItem[],
  onProgress?: (done: number, total: number, what: string) => void,
): Promise<ValidationFits> {
  if (items.length === 0) return { mapScale: null, calibration: null };
  await initBackend();
  const model = await loadModelDir(modelDir);
  const explainer = Explainer.fromModel(model);
  model.net.dispose();
  try {
    const fitter = new MapScaleFitter();
    const logits: number[][] = [];
    for (const [k, item] of items.entries()) {
      const image = await readImage(item.path);
      const truth = item.isDefect ? (await readTruth(item, image.width, image.height))?.bits ?? null : 'ok';
      const explanation = await explainer.explain(image, MAP_SCALE_EXPLAIN);
      fitter.add(explanation, truth, () => readImage(item.path));
      logits.push(explanation.logits);
      onProgress?.(k + 1, items.length, item.path);
    }
    const calibration = fitCalibration(logits, items.map((i) => i.isDefect), model.manifest.defectClass);
    const called = calibration ? (i: number) => calibratedProbability(logits[i], model.manifest.defectClass, calibration) >= calibration.decisionThreshold : undefined;
    const mapScale = await fitter.finish(called);
    const manifest = await readManifest(modelDir);
    const written = { ...manifest, mapScale, calibration: calibration ?? undefined };
    await writeFileAtomic(join(modelDir, MANIFEST_FILE), `${JSON.stringify(written, null, 2)}\n`);
    return { mapScale, calibration };
  } finally {
    explainer.dispose();
  }
}
