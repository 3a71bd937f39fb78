import { removeSmallComponents } from './components.ts';
import { fillHoles } from './fill-holes.ts';
import { closeMask, openMask } from './morphology.ts';
import { thresholdMap, type ThresholdMethod } from './threshold.ts';
import type { Mask, ScoreMap } from './types.ts';

export interface CleanupOptions {
  /** Disc radius in pixels of a morphological opening (drops specks and thin spurs). */
  openRadius?: number;
  /** Disc radius in pixels of a morphological closing (joins close fragments). */
  closeRadius?: number;
  fillHoles?: boolean;
  /** Components with fewer pixels are dropped. */
  minArea?: number;
}

export interface MaskOptions {
  threshold: ThresholdMethod;
  cleanup?: CleanupOptions;
}

/** Open, then close, then fill holes, then drop small components; each step optional. */
export function cleanMask(mask: Mask, options: CleanupOptions): Mask {
  for (const key of ['openRadius', 'closeRadius', 'minArea'] as const) {
    const v = options[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
      throw new Error(`cleanup: ${key} must be a non-negative number, got ${v}`);
    }
  }
  let m = mask;
  if (options.openRadius) m = openMask(m, options.openRadius);
  if (options.closeRadius) m = closeMask(m, options.closeRadius);
  if (options.fillHoles) m = fillHoles(m);
  if (options.minArea && options.minArea > 1) m = removeSmallComponents(m, options.minArea);
  return m;
}

/** The one path from a map to a defect mask, shared by the live preview and the export. */
export function maskFromMap(map: ScoreMap, options: MaskOptions): { mask: Mask; threshold: number } {
  const { mask, threshold } = thresholdMap(map, options.threshold);
  return { mask: options.cleanup ? cleanMask(mask, options.cleanup) : mask, threshold };
}
