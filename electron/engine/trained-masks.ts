import { stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Which images' masks a model was trained on (`kizu train --masks`), so that no later
 * measurement scores the model on a mask it learnt: paths relative to the dataset's folder
 * (provenance.dataset, or the folder of a CSV).
 */
export const trainedMasksSchema = z.object({
  count: z.number().int().nonnegative(),
  images: z.array(z.string().min(1)),
});
export type TrainedMasks = z.infer<typeof trainedMasksSchema>;

/** The folder a dataset's relative paths start from: the folder itself, or a CSV's folder. */
export async function datasetRoot(dataset: string): Promise<string> {
  const abs = resolve(dataset);
  const isDir = await stat(abs).then((s) => s.isDirectory(), () => false);
  return isDir ? abs : dirname(abs);
}

export async function recordTrainedMasks(dataset: string, imagePaths: readonly string[]): Promise<TrainedMasks> {
  const root = await datasetRoot(dataset);
  return { count: imagePaths.length, images: imagePaths.map((p) => relative(root, resolve(p)).split('\\').join('/')) };
}

/** The images among `paths` whose masks the model was trained on, as they were given. */
export async function trainedOnMasks(record: TrainedMasks | undefined, trainedDataset: string | undefined, paths: readonly string[]): Promise<string[]> {
  if (!record || record.images.length === 0 || !trainedDataset) return [];
  const root = await datasetRoot(trainedDataset);
  const trained = new Set(record.images.map((p) => resolve(root, p)));
  return paths.filter((p) => trained.has(resolve(p)));
}
