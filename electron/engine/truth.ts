import type { DatasetItem } from '../data/dataset-types.ts';
import { readMaskBits } from '../data/mask-reader.ts';

export type TruthItem = Pick<DatasetItem, 'path' | 'isDefect' | 'maskPath' | 'exactMaskPath'>;

/** The exact mask when the dataset has one (Kizu's generator writes it), else the weak label. */
export function truthPath(item: TruthItem): { path: string; exact: boolean } | null {
  if (item.exactMaskPath) return { path: item.exactMaskPath, exact: true };
  return item.maskPath ? { path: item.maskPath, exact: false } : null;
}

/**
 * An image's defect pixels for metrics pooled over a split: an OK image's are all negative; a
 * defective image without a mask has none to score (null).
 */
export async function readTruth(item: TruthItem, width: number, height: number): Promise<{ bits: Uint8Array; exact: boolean } | null> {
  if (!item.isDefect) return { bits: new Uint8Array(width * height), exact: true };
  const t = truthPath(item);
  return t ? { bits: await readMaskBits(t.path, width, height), exact: t.exact } : null;
}
