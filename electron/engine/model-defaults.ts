import { decisionThreshold } from './calibration.ts';
import { FALLBACK_THRESHOLD } from '../annotate/mask-threshold.ts';
import { isModelDir, readManifest } from './model-dir.ts';
import type { CamMethod } from './cam/types.ts';
import type { ScaledMapName } from './map-scale.ts';

/** A model's defaults for a batch export: the mask threshold of one map on its scale, and the score an image needs. */
export interface ModelDefaults {
  /** The map's default threshold on the model's scale; FALLBACK_THRESHOLD without one. */
  threshold: number;
  /** Whether `threshold` is the model's (fitted on its validation split). */
  thresholdFromModel: boolean;
  /** The decision threshold on the defect probability; 0.5 for an uncalibrated model. */
  minScore: number;
  /** Whether `minScore` is the model's (chosen on its validation split). */
  minScoreFromModel: boolean;
}

/** The defaults of the model at `path` (a model directory; a bare .safetensors has none of its own). */
export async function modelDefaults(path: string, method: CamMethod, map: ScaledMapName): Promise<ModelDefaults> {
  const manifest = (await isModelDir(path)) ? await readManifest(path) : null;
  const fitted = manifest?.mapScale?.methods[method].threshold[map] ?? null;
  return {
    threshold: fitted ?? FALLBACK_THRESHOLD,
    thresholdFromModel: fitted !== null,
    minScore: manifest ? decisionThreshold(manifest) : 0.5,
    minScoreFromModel: manifest?.calibration !== undefined,
  };
}
