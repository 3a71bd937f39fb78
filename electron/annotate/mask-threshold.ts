import type { ThresholdMethod } from './threshold.ts';

/** The default threshold where a map has no model default: on a per-image map, its middle. */
export const FALLBACK_THRESHOLD = 0.5;

/** A mask's threshold as the review stores it: a rule, or the model's own default for the map. */
export type MaskThreshold = ThresholdMethod | { kind: 'model-default' };

/** Default thresholds per CAM method and map, as a model's map scale holds them (ModelSummary.mapThresholds). */
export type MapThresholds = Readonly<Record<string, Readonly<Record<string, number | null>>>>;

/**
 * The model's default threshold for one map on the scale it is on: only a map on the model's
 * scale has one (a per-image map's values mean something else on every image); null otherwise.
 */
export function modelDefaultThreshold(thresholds: MapThresholds | null, method: string, map: string, scale: 'model' | 'per-image'): number | null {
  if (scale !== 'model' || thresholds === null) return null;
  return thresholds[method]?.[map] ?? null;
}

/**
 * The rule the mask is cut by: 'model-default' becomes the model's value for the map, else
 * FALLBACK_THRESHOLD. The preview and every export resolve it here, so they cut alike.
 */
export function resolveThreshold(threshold: MaskThreshold, modelDefault: number | null): ThresholdMethod {
  return threshold.kind === 'model-default' ? { kind: 'value', value: modelDefault ?? FALLBACK_THRESHOLD } : threshold;
}

/**
 * Whether the model's default mask is drawn on an image: on a model whose thresholds were fitted
 * on the images it calls defective (mapScale.maskedWhen), only where p(defect) reaches its
 * decision threshold, as the exports write masks; an image it calls OK keeps an empty default
 * mask. A threshold the inspector set cuts every image: that is their call, not the model's; and a
 * per-image map has no model default to withhold.
 */
export function defaultMaskDrawn(threshold: MaskThreshold, scale: 'model' | 'per-image', maskedWhenCalledDefect: boolean, probability: number | null, decisionThreshold: number): boolean {
  if (threshold.kind !== 'model-default' || scale !== 'model' || !maskedWhenCalledDefect || probability === null) return true;
  return probability >= decisionThreshold;
}
