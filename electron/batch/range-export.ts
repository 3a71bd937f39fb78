import { failureLine } from '../failure-line.ts';
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
  /** Milliseconds inside the engine step (read, explain, mask, pack): what a plain export spends per image too. */
  engineMs: number;
  /** Milliseconds appending records to the part, and in onImage (a queue job's progress). */
  partMs: number;
  hookMs: number;
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
  if (writer === 'done') return { alreadyDone: true, exported: 0, skipped: header.range.end - header.range.start, failed: 0, engineMs: 0, partMs: 0, hookMs: 0 };
  const result: RangeResult = { alreadyDone: false, exported: 0, skipped: 0, failed: 0, engineMs: 0, partMs: 0, hookMs: 0 };
  try {
    for (let i = header.range.start; i < header.range.end; i++) {
      const id = manifest.ids[i];
      if (writer.finished.has(i)) {
        result.skipped++;
      } else {
        const path = imagePath(manifest, i);
        const t0 = performance.now();
        try {
          const outcome = await exporter.exportImage(path, id);
          const t1 = performance.now();
          result.engineMs += t1 - t0;
          await writer.add(outcome.kind === 'item' ? itemRecord(i, outcome.item) : { kind: 'below-score', i, id, score: outcome.score });
          result.partMs += performance.now() - t1;
          result.exported++;
        } catch (err) {
          const line = failureLine(path, err);
          hooks.onFailure?.(line);
          await writer.add({ kind: 'failed', i, id, error: line });
          result.failed++;
        }
      }
      const t2 = performance.now();
      await hooks.onImage?.(id, i + 1 - header.range.start);
      result.hookMs += performance.now() - t2;
    }
    await writer.finish();
    return result;
  } finally {
    await writer.close();
  }
}
