import { scaleOfParams, type CamMethodName, type MapLayer, type MaskParams, type ModelQuality } from '../api.ts';
import { maskFromMap } from '../annotate/cleanup.ts';
import { modelDefaultThreshold, resolveThreshold, type MapThresholds } from '../annotate/mask-threshold.ts';
import { emptyCounts, miou, PixelRoc, segmentationCounts } from '../data/metrics.ts';
import { readMaskPng } from '../data/project-store.ts';
import type { ExplainArgs, ExplainResult } from '../worker/protocol.ts';

/** A reviewed mask to measure a model on: the image, and the mask the inspector accepted or drew. */
export interface QualityItem {
  id: string;
  path: string;
  modifiedAt: number;
  mask: { path: string; width: number; height: number };
  params: MaskParams;
}

export interface QualityRun {
  explain: (args: ExplainArgs) => Promise<ExplainResult>;
  /** The model's default thresholds on its map scale (ModelSummary.mapThresholds), for reviews saved with 'model-default'. */
  mapThresholds: MapThresholds | null;
  signal: AbortSignal;
  progress: (done: number, total: number, what: string) => void;
}

/** The map the inspectors used most: the one whose masks the figures should speak for. */
function usualMap(items: readonly QualityItem[]): { method: CamMethodName; layer: MapLayer } {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(`${i.params.method}/${i.params.layer}`, (counts.get(`${i.params.method}/${i.params.layer}`) ?? 0) + 1);
  const [best] = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
  const [method, layer] = best.split('/') as [CamMethodName, MapLayer];
  return { method, layer };
}

/**
 * How well `model`'s maps find the defects the inspectors marked: pixel AUROC of the map
 * against the reviewed masks, and mIoU of the mask the app would propose (each review's own
 * threshold and clean-up, through the preview's very code) against them. The caller passes
 * only images the model did not train on.
 */
export async function measureQuality(model: string, items: readonly QualityItem[], run: QualityRun, now = new Date()): Promise<ModelQuality> {
  if (items.length === 0) throw new Error('no reviewed mask to measure on');
  const { method, layer } = usualMap(items);
  const roc = new PixelRoc();
  const counts = emptyCounts();
  for (const [n, item] of items.entries()) {
    if (run.signal.aborted) throw Object.assign(new Error('cancelled'), { cancelled: true });
    const truth = await readMaskPng(item.mask.path, item.mask.width, item.mask.height);
    const result = await run.explain({ path: item.path, modifiedAt: item.modifiedAt, methods: [method], scale: scaleOfParams(item.params) });
    const map = result.maps[method]?.[layer];
    if (!map) throw new Error(`${item.id}: the engine returned no ${method} ${layer} map`);
    if (map.width !== truth.width || map.height !== truth.height) {
      throw new Error(`${item.id}: its reviewed mask is ${truth.width}x${truth.height}, the image ${map.width}x${map.height}`);
    }
    roc.add(map.data, truth.data);
    const threshold = resolveThreshold(item.params.threshold, modelDefaultThreshold(run.mapThresholds, method, layer, result.scale));
    segmentationCounts(maskFromMap(map, { threshold, cleanup: item.params.cleanup }).mask.data, truth.data, counts);
    run.progress(n + 1, items.length, item.id);
  }
  const pixelAuroc = roc.auroc();
  return {
    model, images: items.length, method, layer,
    pixelAuroc: Number.isNaN(pixelAuroc) ? null : pixelAuroc, miou: miou(counts), measuredAt: now.toISOString(),
  };
}
