import type { DatasetItem } from './dataset-types.ts';
import { DatasetError, type ProblemLog } from './dataset-problems.ts';
import { ImageReadError } from './image-error.ts';
import { probeImage } from './image-io.ts';
import { probeMaskSize } from './mask-reader.ts';

/**
 * Checks that every mask opens and has its image's size, a few at a time, reading headers only.
 * A mask of another size is a fault of the whole set (masks exported at another resolution, a
 * JPEG set given PNG masks from elsewhere), so it fails at once, naming both files and sizes,
 * whatever `strict` says: scoring against a stretched mask would be silently wrong. An
 * unreadable mask is reported and its image kept without it.
 */
export async function checkMaskSizes(items: DatasetItem[], log: ProblemLog, concurrency = 8): Promise<void> {
  const jobs = items.flatMap((item) => (['maskPath', 'exactMaskPath'] as const).filter((k) => item[k] !== undefined).map((key) => ({ item, key })));
  let next = 0;
  let fault: DatasetError | undefined;
  const run = async () => {
    while (next < jobs.length && !fault) {
      const { item, key } = jobs[next++];
      const mask = item[key]!;
      let maskSize;
      try {
        maskSize = await probeMaskSize(mask);
      } catch (err) {
        log.report(mask, `unreadable mask of ${item.path}: ${err instanceof ImageReadError ? err.reason : String(err)}; image kept without it`);
        delete item[key];
        continue;
      }
      let image;
      try {
        image = await probeImage(item.path);
      } catch {
        continue; // the reader has reported it, or was told not to check images
      }
      if (image.width !== maskSize.width || image.height !== maskSize.height) {
        fault ??= new DatasetError({
          where: item.path,
          message: `image is ${image.width}x${image.height} but its mask ${mask} is ${maskSize.width}x${maskSize.height}; masks must have their image's size`,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, run));
  if (fault) throw fault;
}
