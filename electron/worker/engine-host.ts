import type { BackendSummary, CamMethodName, MapLayer, MapScaleName, ModelSummary, WireMap } from '../api.ts';
import type { MapThresholds } from '../annotate/mask-threshold.ts';
import { readImage } from '../data/image-io.ts';
import { describeBackend, initBackend, type BackendInfo } from '../engine/backend.ts';
import { decisionThreshold } from '../engine/calibration.ts';
import { Explainer, type ExplainEngineInfo, type Explanation } from '../engine/explain.ts';
import type { Manifest, MapScale } from '../engine/manifest.ts';
import { refinerFor, scaledMaps } from '../engine/map-scale.ts';
import { chooseMapsEngine, type MapsEngine } from '../engine/maps-engine.ts';
import { loadModel } from '../engine/model-loader.ts';
import type { MapRefiner } from '../engine/refine-on-image.ts';
import { CAM_LAYERS } from '../engine/resnet-spec.ts';
import { ExplainCache, type CachedExplanation, type MapsByScale } from './explain-cache.ts';
import { PriorityGate, type Priority } from './priority-gate.ts';
import type { ClassifyResult, EngineStatus, ExplainArgs, ExplainResult } from './protocol.ts';

/** Explanations kept in memory: about 10 images of 512 x 512 with all three methods, on the model's scale and per image. */
export const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

interface ActiveModel {
  summary: ModelSummary;
  manifest: Manifest;
  explainer: Explainer;
  /** Bumped on every load, so maps of an older model are never served for a newer one. */
  generation: number;
}

export function backendSummary(info: BackendInfo): BackendSummary {
  return { name: info.name, version: info.version, threads: info.threads, simd: info.simd, label: describeBackend(info) };
}

export function modelSummary(manifest: Manifest, source: string): ModelSummary {
  const size = manifest.inputSize;
  return {
    name: manifest.name,
    path: source,
    classes: manifest.classes,
    defectClass: manifest.defectClass,
    inputChannels: manifest.inputChannels,
    inputSize: size.policy === 'fixed' ? `${size.width}x${size.height}` : `native (longest side at most ${size.maxSide})`,
    metrics: manifest.metrics,
    mapThresholds: manifest.mapScale ? mapThresholdsOf(manifest.mapScale) : null,
    calibrated: manifest.calibration !== undefined,
    decisionThreshold: decisionThreshold(manifest),
    masksOnCalledDefect: manifest.mapScale?.maskedWhen === 'called-defect' && manifest.calibration !== undefined,
    mapsRefinedOnImage: manifest.mapScale?.refinedOnImage !== undefined,
    mapsFromEveryVote: manifest.camScore === 'logit-and-position-margins',
  };
}

function mapThresholdsOf(scale: MapScale): NonNullable<ModelSummary['mapThresholds']> {
  const { layercam, gradcam, gradcampp } = scale.methods;
  return { layercam: { ...layercam.threshold }, gradcam: { ...gradcam.threshold }, gradcampp: { ...gradcampp.threshold } };
}

/** One method's maps per image and, where the model has a map scale, on it (engine/map-scale.ts). */
async function toWireMaps(result: Explanation, method: CamMethodName, scale: MapScale | undefined, refiner: MapRefiner | undefined): Promise<MapsByScale> {
  const maps = result.maps[method];
  if (!maps?.fused) throw new Error(`the engine returned no ${method} maps`);
  const layer = (name: (typeof CAM_LAYERS)[number]) => {
    const m = maps.layers[name];
    if (!m) throw new Error(`the engine returned no ${method} map for ${name}`);
    return m.normalised;
  };
  const perImage = { layer2: layer('layer2'), layer3: layer('layer3'), layer4: layer('layer4'), fused: maps.fused };
  if (!scale) return { 'per-image': perImage };
  const scaled = await scaledMaps(result, method, scale, refiner);
  const [height, width] = result.imageSize;
  const wire = (name: MapLayer): WireMap => ({ width, height, data: scaled[name]! });
  return { 'per-image': perImage, model: { layer2: wire('layer2'), layer3: wire('layer3'), layer4: wire('layer4'), fused: wire('fused') } };
}

/**
 * The engine as the worker thread holds it: the tfjs backend, the model, the map cache, and
 * a gate that runs one inference at a time with the inspector's requests first.
 */
export class EngineHost {
  private backend: BackendInfo | null = null;
  private mapsEngine: MapsEngine | null = null;
  private model: ActiveModel | null = null;
  private modelError: string | null = null;
  private generation = 0;
  readonly gate = new PriorityGate();
  readonly cache: ExplainCache;

  constructor(cacheBytes = DEFAULT_CACHE_BYTES) {
    this.cache = new ExplainCache(cacheBytes);
  }

  async init(modelPath: string | null): Promise<EngineStatus> {
    this.backend = await initBackend();
    this.mapsEngine = await chooseMapsEngine(this.backend);
    if (modelPath === null) {
      this.modelError = 'no model: none was given (--model or KIZU_MODEL) and the default model is not installed';
    } else {
      try {
        await this.loadModel(modelPath);
      } catch (err) {
        this.modelError = `no model: ${(err as Error).message}`;
      }
    }
    return this.status();
  }

  status(): EngineStatus {
    if (!this.backend || !this.mapsEngine) throw new Error('the engine has not started');
    return {
      backend: backendSummary(this.backend), mapsEngine: this.mapsEngine,
      model: this.model?.summary ?? null, modelError: this.model ? null : this.modelError,
    };
  }

  /** Swaps the model; the old one keeps serving until the new one has loaded. */
  loadModel(path: string): Promise<ModelSummary> {
    return this.gate.run('interactive', async () => {
      this.backend ??= await initBackend();
      this.mapsEngine ??= await chooseMapsEngine(this.backend);
      const loaded = await loadModel(path);
      const explainer = Explainer.fromModel(loaded);
      loaded.net.dispose();
      this.model?.explainer.dispose();
      this.cache.clear();
      this.generation++;
      this.model = { summary: modelSummary(loaded.manifest, loaded.source), manifest: loaded.manifest, explainer, generation: this.generation };
      this.modelError = null;
      return this.model.summary;
    });
  }

  /** Which engine runs the current model's passes (onnxruntime or tfjs), once it has opened. */
  explainEngine(): Promise<ExplainEngineInfo> {
    return this.requireModel().explainer.engine();
  }

  get modelName(): string | null {
    return this.model?.summary.name ?? null;
  }

  /** The current model's default mask thresholds on its map scale (null: it has none), for exports to resolve 'model-default'. */
  get mapThresholds(): MapThresholds | null {
    return this.requireModel().summary.mapThresholds;
  }

  /** Whether the current model's default masks are drawn only on images it calls defective. */
  get masksOnCalledDefect(): boolean {
    return this.requireModel().summary.masksOnCalledDefect;
  }

  /** Where the current model calls an image defective by default. */
  get decisionThreshold(): number {
    return this.requireModel().summary.decisionThreshold;
  }

  /**
   * Maps for every requested method on layer2..4 and fused, computed once per image and model,
   * on the model's scale (where it has one) and per image alike: switching scale reads the cache.
   */
  async explain(args: ExplainArgs, priority: Priority = 'interactive'): Promise<ExplainResult> {
    const started = performance.now();
    const model = this.requireModel();
    const key = ExplainCache.key(model.generation, args.path, args.modifiedAt);
    const known = this.cache.get(key);
    const missing = args.methods.filter((m) => !known?.maps[m]);
    let entry: CachedExplanation;
    if (known && missing.length === 0) {
      entry = known;
    } else {
      entry = await this.gate.run(priority, async () => {
        const image = await readImage(args.path);
        const result = await model.explainer.explain(image, { methods: missing, layers: CAM_LAYERS, fused: true });
        const fresh: CachedExplanation = known ?? {
          modelName: model.summary.name,
          targetClass: result.targetClass,
          probabilities: result.probabilities,
          defectProbability: result.defectProbability,
          calibrated: result.calibrated,
          maps: {},
        };
        const refiner = await refinerFor(model.manifest.mapScale, image, result.inputSize);
        for (const m of missing) fresh.maps[m] = await toWireMaps(result, m, model.manifest.mapScale, refiner);
        return fresh;
      });
      if (this.model?.generation === model.generation) this.cache.set(key, entry);
    }
    const scale: MapScaleName = (args.scale ?? 'model') === 'model' && model.manifest.mapScale ? 'model' : 'per-image';
    const maps: ExplainResult['maps'] = {};
    for (const m of args.methods) maps[m] = entry.maps[m]![scale];
    return {
      modelName: entry.modelName, targetClass: entry.targetClass, probabilities: entry.probabilities,
      defectProbability: entry.defectProbability, calibrated: entry.calibrated, maps, scale, elapsedMs: performance.now() - started, cached: missing.length === 0,
    };
  }

  /**
   * The defect probability alone, as background work: re-scoring a gallery after training
   * waits behind whatever the inspector asks for. A cached explanation already knows it.
   */
  async classify(args: Omit<ExplainArgs, 'methods'>): Promise<ClassifyResult> {
    const model = this.requireModel();
    const known = this.cache.get(ExplainCache.key(model.generation, args.path, args.modifiedAt));
    if (known) return { modelName: known.modelName, defectProbability: known.defectProbability };
    return this.gate.run('batch', async () => {
      const result = await model.explainer.classify(await readImage(args.path));
      return { modelName: model.summary.name, defectProbability: result.defectProbability };
    });
  }

  private requireModel(): ActiveModel {
    if (!this.model) throw Object.assign(new Error(this.modelError ?? 'no model is loaded'), { status: 409 });
    return this.model;
  }

  dispose(): void {
    this.model?.explainer.dispose();
    this.model = null;
    this.cache.clear();
  }
}
