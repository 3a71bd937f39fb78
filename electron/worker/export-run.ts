import { scaleOfParams } from '../api.ts';
import { maskFromMap } from '../annotate/cleanup.ts';
import { defaultMaskDrawn, modelDefaultThreshold, resolveThreshold } from '../annotate/mask-threshold.ts';
import { exportAnnotations } from '../annotate/formats/index.ts';
import { createMask } from '../annotate/mask.ts';
import type { ExportItem } from '../annotate/types.ts';
import { writeExport } from '../data/export-writer.ts';
import { packedBytes, packExportItem, unpackExportItems, type PackedExportItem } from '../data/packed-export-items.ts';
import { readMaskPng } from '../data/project-store.ts';
import type { EngineHost } from './engine-host.ts';
import type { ExportArgs, ExportPlanItem, ExportResult, Progress } from './protocol.ts';

export class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'Cancelled';
  }
}

/**
 * One export: each image's reviewed mask, or the mask its stored parameters make from its
 * map on the scale they name (maskFromMap, the preview's own path, with the model's default
 * threshold resolved as the preview resolves it), into one annotation format. An unreviewed
 * image goes into "all defective" when its score reaches the model's decision threshold. An image that fails
 * is reported and left out; the files are written only once every image is done, so a
 * cancelled export writes nothing, and until then each mask is held deflated.
 */
export async function runExport(
  host: EngineHost,
  args: ExportArgs,
  signal: AbortSignal,
  progress: (p: Progress) => void,
  /** Told, after each image, the bytes the export holds until it writes (the long-run bench reports them). */
  onHeldBytes?: (bytes: number) => void,
): Promise<ExportResult> {
  const items: PackedExportItem[] = [];
  let heldBytes = 0;
  const failures: { file: string; message: string }[] = [];
  const scores: ExportResult['scores'] = [];
  let skippedAsOk = 0;
  const total = args.items.length;
  progress({ done: 0, total, message: `exporting ${total} image(s) as ${args.format}` });
  for (const [index, plan] of args.items.entries()) {
    if (signal.aborted) throw new Cancelled();
    try {
      const item = await exportItem(host, plan, scores);
      if (item === null) skippedAsOk++;
      else {
        const packed = packExportItem(item);
        items.push(packed);
        heldBytes += packedBytes(packed);
      }
    } catch (err) {
      failures.push({ file: plan.path, message: (err as Error).message });
    }
    onHeldBytes?.(heldBytes);
    progress({ done: index + 1, total, message: plan.id, failures: failures.length ? failures : undefined });
  }
  if (signal.aborted) throw new Cancelled();
  const files = await writeExport(args.outDir, exportAnnotations(args.format, unpackExportItems(items)));
  return { outDir: args.outDir, format: args.format, images: items.length, skippedAsOk, files, scores };
}

async function exportItem(host: EngineHost, plan: ExportPlanItem, scores: ExportResult['scores']): Promise<ExportItem | null> {
  let explained: Awaited<ReturnType<EngineHost['explain']>> | undefined;
  const explain = async () => {
    explained ??= await host.explain({ path: plan.path, modifiedAt: plan.modifiedAt, methods: [plan.params.method], scale: scaleOfParams(plan.params) }, 'batch');
    return explained;
  };
  let score = plan.score;
  // A reviewed defect is exported whatever its score; anything else must be scored first.
  if (score === null && !plan.reviewedDefect) {
    const result = await explain();
    score = result.defectProbability;
    scores.push({ id: plan.id, score, model: result.modelName });
  }
  if (!plan.reviewedDefect && score! < host.decisionThreshold) return null;
  const mask = plan.mask ? await readMaskPng(plan.mask.path, plan.mask.width, plan.mask.height) : derivedMask(host, plan, await explain(), score);
  return { fileName: plan.id, width: mask.width, height: mask.height, mask, ...(score === null ? {} : { score }) };
}

/** The mask an image's parameters make of its map: the preview's computation (review store), threshold resolved alike. */
function derivedMask(host: EngineHost, plan: ExportPlanItem, explained: Awaited<ReturnType<EngineHost['explain']>>, score: number | null) {
  const { method, layer, threshold, cleanup } = plan.params;
  const modelDefault = modelDefaultThreshold(host.mapThresholds, method, layer, explained.scale);
  const { mask } = maskFromMap(explained.maps[method]![layer], { threshold: resolveThreshold(threshold, modelDefault), cleanup });
  const drawn = defaultMaskDrawn(threshold, explained.scale, host.masksOnCalledDefect, score ?? explained.defectProbability, host.decisionThreshold);
  return drawn ? mask : createMask(mask.width, mask.height);
}
