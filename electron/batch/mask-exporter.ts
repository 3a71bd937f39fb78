import { maskFromMap } from '../annotate/cleanup.ts';
import { readImage } from '../data/image-io.ts';
import { packExportItem, type PackedExportItem } from '../data/packed-export-items.ts';
import { initBackend } from '../engine/backend.ts';
import { Explainer } from '../engine/explain.ts';
import type { MapScale } from '../engine/manifest.ts';
import { refinerFor, scaledMap } from '../engine/map-scale.ts';
import { mapsEngineLine } from '../engine/maps-engine.ts';
import { loadModel } from '../engine/model-loader.ts';
import { CAM_LAYERS, type CamLayer } from '../engine/resnet-spec.ts';
import type { ExportSettings } from './export-settings.ts';

/** What became of one image: annotated (its packed item), or left out because its score was below --min-score. */
export type ImageOutcome = { kind: 'item'; item: PackedExportItem } | { kind: 'below-score'; score: number };

/**
 * The engine half of an export, one image at a time: classify and explain it (the score
 * calibrated where the model has a calibration), make its map a mask with the maskFromMap the
 * app previews with, on the model's map scale where it has one, and pack it. A single `kizu export`, a
 * shard and a queue worker all go through here, which is what makes their parts merge into
 * the very bytes a single export writes.
 */
export class MaskExporter {
  private constructor(
    private readonly explainer: Explainer,
    private readonly settings: ExportSettings,
    readonly modelName: string,
    readonly engine: string,
    private readonly mapScale: MapScale | undefined,
  ) {}

  static async open(modelPath: string, settings: ExportSettings): Promise<MaskExporter> {
    const backend = await initBackend();
    const model = await loadModel(modelPath);
    const explainer = Explainer.fromModel(model);
    model.net.dispose();
    return new MaskExporter(explainer, settings, model.manifest.name, await mapsEngineLine(explainer, backend), model.manifest.mapScale);
  }

  async exportImage(path: string, fileName: string): Promise<ImageOutcome> {
    const s = this.settings;
    const layers: CamLayer[] = s.layer === 'fused' ? [...CAM_LAYERS] : [s.layer];
    const image = await readImage(path);
    const result = await this.explainer.explain(image, { methods: [s.method], layers, fused: s.layer === 'fused' });
    const score = result.defectProbability;
    if (!s.all && !(score >= s.minScore)) return { kind: 'below-score', score };
    const maps = result.maps[s.method]!;
    const map = this.mapScale
      ? { width: image.width, height: image.height, data: await scaledMap(result, s.method, s.layer, this.mapScale, await refinerFor(this.mapScale, image, result.inputSize)) }
      : s.layer === 'fused' ? maps.fused! : maps.layers[s.layer]!.normalised;
    const { mask } = maskFromMap(map, {
      threshold: s.threshold,
      cleanup: { minArea: s.minArea, openRadius: s.open, closeRadius: s.close, fillHoles: s.fillHoles },
    });
    return { kind: 'item', item: packExportItem({ fileName, width: image.width, height: image.height, mask, score, map, channels: image.channels }) };
  }

  dispose(): void {
    this.explainer.dispose();
  }
}
