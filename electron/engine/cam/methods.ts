import { gradCam } from './gradcam.ts';
import { gradCamPlusPlus } from './gradcampp.ts';
import { layerCam } from './layercam.ts';
import type { CamFormula, CamMethod } from './types.ts';

export const CAM_FORMULAS: Record<CamMethod, CamFormula> = {
  layercam: layerCam,
  gradcam: gradCam,
  gradcampp: gradCamPlusPlus,
};
