import { labelComponents } from '../../../electron/annotate/components.ts';
import { countForeground } from '../../../electron/annotate/mask.ts';
import type { Mask } from '../../../electron/annotate/types.ts';

export interface MaskStats {
  components: number;
  area: number;
  /** Defect area as a fraction of the image. */
  fraction: number;
}

export function maskStats(mask: Mask): MaskStats {
  const area = countForeground(mask);
  const components = area === 0 ? 0 : labelComponents(mask).components.length;
  return { components, area, fraction: area / (mask.width * mask.height) };
}
