import type { ModelSummary } from '../../../electron/api.ts';
import { t } from '../i18n/index.ts';

/** What the model calls an image: defective at or above its decision threshold, OK below; null unscored. */
export function verdictOf(score: number | null, decisionThreshold: number): 'defect' | 'ok' | null {
  if (score === null) return null;
  return score >= decisionThreshold ? 'defect' : 'ok';
}

/** A score's tooltip: the probability, whether it is calibrated, and where the model draws the line. */
export function scoreTitle(score: number, model: Pick<ModelSummary, 'calibrated' | 'decisionThreshold'> | null): string {
  if (!model) return t.gallery.score(score);
  return model.calibrated ? t.gallery.scoreCalibrated(score, model.decisionThreshold) : t.gallery.scoreUncalibrated(score);
}
