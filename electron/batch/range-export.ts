import { failureLine } from '../commands/failure-line.ts';
import { imagePath, type ImageManifest } from './image-manifest.ts';
import type { MaskExporter } from './mask-exporter.ts';
import { itemRecord, PartWriter, type PartHeader } from './part-store.ts';

export interface RangeResult {
  /** True when an earlier run had already finished the range. */
  alreadyDone: boolean;
  /** Images this run exported or left out for their score. */
  exported: number;
  /** Images an earlier run had done, skipped by this one. */
  skipped: number;
  failed: number;
}

export interface RangeHooks {
  /** After each image of the range, done or skipped. */
  onImage?: (id: string, doneSoFar: number) => void | Promise<void>;
  onFailure?: (line: string) => void;
}

/**
 * Exports one range of the manifest into its part, one image at a time, each record appended
 * as soon as it is made (nothing of the range is held), then writes the done marker.
 */
export async function exportRange(exporter: MaskExporter, manifest: ImageManifest, partsDir: string, header: PartHeader, hooks: RangeHooks = {}): Promise<RangeResult> {
  const writer = await PartWriter.open(partsDir, header);
  if (writer === 'done') return { alreadyDone: true, exported: 0, skipped: header.range.end - header.range.start, failed: 0 };
  const result: RangeResult = { alreadyDone: false, exported: 0, skipped: 0, failed: 0 };
  try {
    for (let i = header.range.start; i < header.range.end; i++) {
      const id = manifest.ids[i];
      if (writer.finished.has(i)) {
        result.skipped++;
      } else {
        const path = imagePath(manifest, i);
        try {
          const outcome = await exporter.exportImage(path, id);
          await writer.add(outcome.kind === 'item' ? itemRecord(i, outcome.item) : { kind: 'below-score', i, id, score: outcome.score });
          result.exported++;
        } catch (err) {
          const line = failureLine(path, err);
          hooks.onFailure?.(line);
          await writer.add({ kind: 'failed', i, id, error: line });
          result.failed++;
        }
      }
      await hooks.onImage?.(id, i + 1 - header.range.start);
    }
    await writer.finish();
    return result;
  } finally {
    await writer.close();
  }
}
