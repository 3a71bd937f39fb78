import { z } from 'zod';
import { datasetSplitSchema } from '../data/split-record.ts';
import { calibrationSchema } from './calibration.ts';
import { CAM_SCORES } from './cam/types.ts';
import { trainedMasksSchema } from './trained-masks.ts';

export const MANIFEST_FILE = 'manifest.json';
export const WEIGHTS_FILE = 'weights.safetensors';
export const MODEL_CARD_FILE = 'MODEL_CARD.md';
export const MANIFEST_SCHEMA_VERSION = 1;

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

const inputSizeSchema = z.discriminatedUnion('policy', [
  z.object({ policy: z.literal('fixed'), height: z.number().int().min(32).max(4096), width: z.number().int().min(32).max(4096) }),
  // Fully convolutional use at the image's own resolution, capped to keep memory bounded.
  z.object({ policy: z.literal('native'), maxSide: z.number().int().min(32).max(8192) }),
]);

const perLayer = <T extends z.ZodType>(value: T) => z.object({ layer2: value, layer3: value, layer4: value });
const methodScaleSchema = z.object({
  /** What a raw map (at its stage's resolution, as the CAM formula gives it) is divided by. */
  divisor: perLayer(z.number().positive()),
  /** The default mask threshold on the scaled map; null where no validation image had a mask. */
  threshold: perLayer(z.number().min(0).max(1).nullable()).extend({ fused: z.number().min(0).max(1).nullable() }),
});

/**
 * One map scale for the whole model, fixed when training ends (engine/map-scale.ts), so a
 * threshold means the same on every image and maps can be pooled across images, as the
 * field's metrics need; a map min-max normalised per image has a "hottest" place even on an
 * OK image.
 */
/** How the maps on the model's scale are refined on the image (refine-on-image.ts). */
export const mapRefinementSchema = z.object({
  method: z.literal('pixel-adaptive'),
  iterations: z.number().int().min(1).max(100),
  /** The neighbours' distances in pixels at the network's input size: 8 neighbours at each. */
  dilations: z.array(z.number().int().min(1).max(128)).min(1).max(16),
  /** The affinity's width, in units of the local spread of grey levels. */
  spread: z.number().positive(),
});
export type MapRefinement = z.infer<typeof mapRefinementSchema>;

export const mapScaleSchema = z.object({
  /** The divisor is the maximum of the raw maps over the images fitted on. */
  statistic: z.literal('max'),
  /** The images it was fitted on (the validation split): all of them, and those with a truth mask or OK. */
  fittedOn: z.object({ images: z.number().int().nonnegative(), withTruth: z.number().int().nonnegative() }),
  methods: z.object({ layercam: methodScaleSchema, gradcam: methodScaleSchema, gradcampp: methodScaleSchema }),
  /**
   * 'called-defect': the default thresholds were fitted with masks drawn only on the images the
   * model calls defective (calibrated p(defect) at or over calibration.decisionThreshold), as the
   * exports write them, and the default mask of an image under it is empty. Absent in models
   * fitted before it: their default masks are drawn on every image.
   */
  maskedWhen: z.literal('called-defect').optional(),
  /**
   * The layers' maps are refined on the image before they are divided and fused, and the
   * thresholds were fitted on the refined maps. Absent in models fitted before it: their maps
   * are the stages' maps upsampled.
   */
  refinedOnImage: mapRefinementSchema.optional(),
});

export const manifestSchema = z
  .object({
    format: z.literal('kizu-model'),
    schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
    name: z.string().min(1),
    architecture: z.object({
      name: z.literal('resnet50'),
      width: z.number().int().positive(),
      blocks: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
      // Absent in older manifests: torchvision's average pooling.
      pooling: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('avg') }),
        z.object({ kind: z.literal('topk'), fraction: z.number().gt(0).max(1) }),
      ]).optional(),
    }),
    classes: z.array(z.string().min(1)).min(2),
    defectClass: z.number().int().nonnegative(),
    inputChannels: z.union([z.literal(1), z.literal(3)]),
    inputSize: inputSizeSchema,
    normalization: z.object({ mean: z.array(z.number()), std: z.array(z.number().positive()) }),
    weights: z.object({ file: z.string().min(1), dtype: z.enum(['float32', 'float16']) }),
    provenance: z.object({
      createdAt: z.string(),
      createdBy: z.string(),
      command: z.string().optional(),
      dataset: z.string().optional(),
      seed: z.number().int().optional(),
      init: z.string().optional(),
      // Absent in older manifests. Which train/test split the training data had, so that
      // `kizu evaluate` re-derives the same one and never scores a training image.
      datasetSplit: datasetSplitSchema.optional(),
      backend: z.string().optional(),
      // Only where `kizu train --masks` used some: kizu evaluate refuses to score them.
      trainedMasks: trainedMasksSchema.optional(),
      notes: z.array(z.string()).default([]),
    }),
    metrics: z.record(z.string(), z.unknown()).default({}),
    // The score y_c the CAMs differentiate (cam/types.ts CamScore); absent in models trained
    // before it existed: the target's logit. The map scale is fitted on maps of this score.
    camScore: z.enum(CAM_SCORES).optional(),
    // Absent in models trained before it existed; `kizu evaluate` then fits it on the validation split.
    mapScale: mapScaleSchema.optional(),
    // Absent in models trained before it existed: their score is the raw softmax, cut at 0.5.
    calibration: calibrationSchema.optional(),
  })
  .superRefine((m, ctx) => {
    if (m.defectClass >= m.classes.length) {
      ctx.addIssue({ code: 'custom', path: ['defectClass'], message: `is ${m.defectClass} but there are only ${m.classes.length} classes` });
    }
    for (const key of ['mean', 'std'] as const) {
      if (m.normalization[key].length !== m.inputChannels) {
        ctx.addIssue({ code: 'custom', path: ['normalization', key], message: `has ${m.normalization[key].length} values for ${m.inputChannels} input channel(s)` });
      }
    }
  });

export type Manifest = z.infer<typeof manifestSchema>;
export type InputSizePolicy = Manifest['inputSize'];
export type MapScale = z.infer<typeof mapScaleSchema>;

/** Validates a parsed manifest, naming the file and every offending field. */
export function parseManifest(raw: unknown, source: string): Manifest {
  const result = manifestSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${source}: invalid model manifest: ${problems}`);
  }
  return result.data;
}
