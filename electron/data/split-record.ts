import { z } from 'zod';

/**
 * The --view-pattern that named the images' views, where one did: the validation split (and a
 * seeded test split) kept those views whole, and kizu evaluate must name them the same way.
 */
const viewPatternSchema = z.string().min(1).optional();

/**
 * Where a dataset's train/test split came from, as a model's manifest records it: 'layout' when
 * the dataset brings its own (DAGM Train/Test, MVTec train/test, a CSV split column), 'seeded'
 * when Kizu made one. The digests let `kizu evaluate` prove it re-derived the very split that
 * `kizu train` used, so it never scores a training image.
 */
export const datasetSplitSchema = z.discriminatedUnion('policy', [
  z.object({
    policy: z.literal('layout'),
    /**
     * Where the layout's training split has no defective image (MVTec AD: train/good only), a
     * seeded share of its test defects, stratified by kind, moved to training: weak supervision
     * needs defective images to learn from. Absent when the layout's split was kept as it is.
     */
    defectsForTraining: z.object({
      seed: z.number().int().nonnegative(),
      fraction: z.number().gt(0).lt(1),
      moved: z.number().int().positive(),
      /** sha256 of the moved images' relative paths. */
      movedDigest: z.string().regex(/^[0-9a-f]{64}$/),
    }).optional(),
    viewPattern: viewPatternSchema,
  }),
  z.object({
    policy: z.literal('seeded'),
    seed: z.number().int().nonnegative(),
    testFraction: z.number().gt(0).lt(1),
    stratifiedBy: z.literal('kind'),
    /** 'view': whole views went to test (DatasetItem.view), not images stratified by kind. */
    groupedBy: z.literal('view').optional(),
    viewPattern: viewPatternSchema,
    train: z.number().int().nonnegative(),
    test: z.number().int().nonnegative(),
    /** sha256 of every image's relative path and label: which dataset was split. */
    itemsDigest: z.string().regex(/^[0-9a-f]{64}$/),
    /** sha256 of the test images' relative paths: what the split made of it. */
    testDigest: z.string().regex(/^[0-9a-f]{64}$/),
  }),
]);
export type DatasetSplitRecord = z.infer<typeof datasetSplitSchema>;
export type SeededSplitRecord = Extract<DatasetSplitRecord, { policy: 'seeded' }>;
export type LayoutSplitRecord = Extract<DatasetSplitRecord, { policy: 'layout' }>;
