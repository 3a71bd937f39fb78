import {
  DEFAULT_MASK_PARAMS,
  LABEL_OF_REVIEW,
  type ApiRequest,
  type ApiResponses,
  type ExplainResponse,
  type ImageEntry,
  type ImageLabel,
  type JobEvent,
  type KizuApi,
  type LabelCounts,
  type MapLayer,
  type MapsEngineSummary,
  type ModelQuality,
  type ModelSummary,
  type ReviewRecord,
} from '../../../electron/api.ts';

export const SIZE = 32;

/**
 * A deterministic map: two Gaussian blobs of different heights, so raising the threshold
 * first shrinks, then drops one of them (two components, then one).
 */
/** How much dimmer the fake model's maps are on its scale than stretched per image. */
export const MODEL_SCALE_FACTOR = 0.5;

export function blobMap(width = SIZE, height = SIZE, shift = 0): Float32Array {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = Math.exp(-((x - 8 - shift) ** 2 + (y - 8) ** 2) / 18);
      const b = 0.6 * Math.exp(-((x - 24) ** 2 + (y - 22) ** 2) / 12);
      data[y * width + x] = Math.max(a, b);
    }
  }
  return data;
}

type Calls = { [M in keyof ApiResponses]?: ApiRequest<M>[] };

/** Default thresholds on the model's scale for LayerCAM's maps; none fitted for the other methods. */
export const LAYERCAM_THRESHOLDS: NonNullable<ModelSummary['mapThresholds']> = {
  layercam: { layer2: 0.2, layer3: 0.25, layer4: 0.35, fused: 0.3 },
  gradcam: { layer2: null, layer3: null, layer4: null, fused: null },
  gradcampp: { layer2: null, layer3: null, layer4: null, fused: null },
};

/** An in-memory back end with the API's shapes; records every call. */
export class FakeApi implements KizuApi {
  readonly calls: Calls = {};
  readonly reviews = new Map<string, ReviewRecord>();
  entries: ImageEntry[];
  failExplain = new Set<string>();
  hasModel = true;
  /** What the status bar should name as computing the maps. */
  mapsEngine: MapsEngineSummary = { name: 'onnxruntime', version: '1.30.0', threads: 2, label: 'onnxruntime 1.30.0, 2 threads' };
  /** The model the engine runs, which is also the project's. */
  modelPath = '/models/fake-model';
  /**
   * The model's default thresholds on its map scale (null: per-image maps only, as before
   * models had one). Its maps on that scale are the per-image ones at MODEL_SCALE_FACTOR.
   */
  mapThresholds: ModelSummary['mapThresholds'] = null;
  /** The model's decision threshold on its (calibrated) defect probability. */
  decisionThreshold = 0.5;
  /** Whether the model's default masks are drawn only on images scored at or over decisionThreshold. */
  masksOnCalledDefect = false;
  /** Whether the model's maps on its scale are refined on the image. */
  mapsRefinedOnImage = false;
  /** Whether the model's maps take every position that votes defect (manifest.camScore). */
  mapsFromEveryVote = false;

  /**
   * A calibrated model with LayerCAM thresholds on its map scale whose default masks are drawn
   * only on images it calls defective, and which calls the fake's every image (scored 0.6) OK.
   */
  callsEveryImageOk(): void {
    this.mapThresholds = LAYERCAM_THRESHOLDS;
    this.masksOnCalledDefect = true;
    this.decisionThreshold = 0.7;
  }
  previousModels: string[] = [];
  quality: ModelQuality | null = null;
  previousQuality: ModelQuality | null = null;
  /** A training the app was closed in the middle of; a resume takes it. */
  resumable: { out: string; step: number } | null = null;
  /** Below these label counts, training from the project is refused. */
  minimum: LabelCounts = { ok: 2, defect: 2 };
  /** The labels the folder's layout gives, which a cleared user label falls back to. */
  readonly folderLabels = new Map<string, ImageLabel>();
  private listeners = new Set<(e: JobEvent) => void>();

  constructor(count = 5) {
    this.entries = Array.from({ length: count }, (_, i) => ({
      id: `img/${String(i).padStart(4, '0')}.png`,
      name: `${String(i).padStart(4, '0')}.png`,
      state: 'unreviewed' as const,
      label: null,
      labelFrom: null,
      score: null,
      modifiedAt: 1_700_000_000_000 + i * 1000,
    }));
  }

  private labelCounts(): LabelCounts {
    return { ok: this.entries.filter((e) => e.label === 'ok').length, defect: this.entries.filter((e) => e.label === 'defect').length };
  }

  private log<M extends keyof ApiResponses>(method: M, request: ApiRequest<M>): void {
    ((this.calls[method] ??= []) as ApiRequest<M>[]).push(request);
  }

  count(method: keyof ApiResponses): number {
    return this.calls[method]?.length ?? 0;
  }

  emit(event: JobEvent): void {
    for (const l of this.listeners) l(event);
  }

  onJobEvent(listener: (e: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async engineInfo(r: ApiRequest<'engineInfo'>): Promise<ApiResponses['engineInfo']> {
    this.log('engineInfo', r);
    return {
      backend: { name: 'wasm', version: '4.22.0', threads: 1, simd: true, label: 'wasm SIMD 4.22.0, 1 thread' },
      mapsEngine: this.mapsEngine,
      model: !this.hasModel ? null : this.summaryOf(this.modelPath),
      version: '0.1.0',
    };
  }

  private root = '/demo';

  private info(root = this.root): ApiResponses['openFolder'] {
    this.root = root;
    return {
      root,
      imageCount: this.entries.length,
      reviewedCount: this.entries.filter((e) => e.state !== 'unreviewed').length,
      labels: this.labelCounts(),
      model: this.hasModel ? this.modelPath : null,
      previousModels: [...this.previousModels],
      quality: this.quality,
      previousQuality: this.previousQuality,
      resumableTraining: this.resumable,
    };
  }

  async openFolder(r: ApiRequest<'openFolder'>): Promise<ApiResponses['openFolder']> {
    this.log('openFolder', r);
    if (r.path === '/missing') throw new Error('folder not found: /missing');
    return this.info(r.path);
  }

  async openImages(r: ApiRequest<'openImages'>): Promise<ApiResponses['openImages']> {
    this.log('openImages', r);
    return this.info('/images');
  }

  async openDemo(r: ApiRequest<'openDemo'>): Promise<ApiResponses['openDemo']> {
    this.log('openDemo', r);
    return this.info('/demo');
  }

  async listImages(r: ApiRequest<'listImages'>): Promise<ApiResponses['listImages']> {
    this.log('listImages', r);
    return this.entries.map((e) => ({ ...e }));
  }

  async getImage(r: ApiRequest<'getImage'>): Promise<ApiResponses['getImage']> {
    this.log('getImage', r);
    return { width: SIZE, height: SIZE, png: new Uint8Array([137, 80, 78, 71]) };
  }

  async getThumbnail(r: ApiRequest<'getThumbnail'>): Promise<ApiResponses['getThumbnail']> {
    this.log('getThumbnail', r);
    return { width: r.size, height: r.size, png: new Uint8Array([137, 80, 78, 71]) };
  }

  async explain(r: ApiRequest<'explain'>): Promise<ApiResponses['explain']> {
    this.log('explain', r);
    if (!this.hasModel) throw new Error('no model is loaded');
    if (this.failExplain.has(r.id)) throw new Error('image is corrupt: bad PNG signature');
    const maps: ExplainResponse['maps'] = {};
    const layers: MapLayer[] = ['layer2', 'layer3', 'layer4', 'fused'];
    const scale = (r.scale ?? 'model') === 'model' && this.mapThresholds ? 'model' : 'per-image';
    const factor = scale === 'model' ? MODEL_SCALE_FACTOR : 1;
    for (const method of r.methods ?? ['layercam']) {
      maps[method] = Object.fromEntries(layers.map((l, i) => [l, { width: SIZE, height: SIZE, data: blobMap(SIZE, SIZE, i).map((v) => v * factor) }])) as Record<MapLayer, { width: number; height: number; data: Float32Array }>;
    }
    return {
      // A calibrated model (any decision threshold but 0.5) scores its images 0.6 where the softmax says 0.8.
      id: r.id, modelName: this.summaryOf(this.modelPath).name, targetClass: 1, probabilities: [0.2, 0.8],
      defectProbability: this.decisionThreshold !== 0.5 ? 0.6 : 0.8, calibrated: this.decisionThreshold !== 0.5, maps, scale, elapsedMs: 12,
    };
  }

  async getReview(r: ApiRequest<'getReview'>): Promise<ApiResponses['getReview']> {
    this.log('getReview', r);
    return this.reviews.get(r.id) ?? { id: r.id, state: 'unreviewed', params: DEFAULT_MASK_PARAMS, mask: null, score: null, updatedAt: null };
  }

  async saveReview(r: ApiRequest<'saveReview'>): Promise<ApiResponses['saveReview']> {
    this.log('saveReview', r);
    const record: ReviewRecord = {
      id: r.id,
      state: r.state,
      params: r.params as ReviewRecord['params'],
      mask: r.mask ? { width: r.mask.width, height: r.mask.height, data: new Uint8Array(r.mask.data) } : null,
      score: 0.8,
      updatedAt: new Date(0).toISOString(),
    };
    this.reviews.set(r.id, record);
    const label = LABEL_OF_REVIEW[r.state];
    this.entries = this.entries.map((e) => (e.id !== r.id ? e : { ...e, state: r.state, ...(label ? { label, labelFrom: 'user' as const } : {}) }));
    return record;
  }

  async setLabels(r: ApiRequest<'setLabels'>): Promise<ApiResponses['setLabels']> {
    this.log('setLabels', r);
    const ids = new Set(r.ids);
    const relabel = (e: ImageEntry): ImageEntry => {
      if (r.label !== null) return { ...e, label: r.label, labelFrom: 'user' };
      const folder = this.folderLabels.get(e.id) ?? null;
      return { ...e, label: folder, labelFrom: folder === null ? null : 'folder' };
    };
    this.entries = this.entries.map((e) => (ids.has(e.id) ? relabel(e) : e));
    return { entries: this.entries.filter((e) => ids.has(e.id)).map((e) => ({ ...e })), labels: this.labelCounts() };
  }

  async projectInfo(r: ApiRequest<'projectInfo'>): Promise<ApiResponses['projectInfo']> {
    this.log('projectInfo', r);
    return this.info();
  }

  async trainingSet(r: ApiRequest<'trainingSet'>): Promise<ApiResponses['trainingSet']> {
    this.log('trainingSet', r);
    // A third of the reviewed masks are kept out of training, to measure the model on; the rest can teach it.
    const reviewed = this.entries.filter((e) => e.state === 'accepted' || e.state === 'edited').length;
    const measure = Math.floor(reviewed / 3);
    const { ok, defect } = this.labelCounts();
    const used = { ok, defect: defect - measure };
    return { ...used, measure, masks: reviewed - measure, minimum: { ...this.minimum }, enough: used.ok >= this.minimum.ok && used.defect >= this.minimum.defect };
  }

  async useProjectModel(r: ApiRequest<'useProjectModel'>): Promise<ApiResponses['useProjectModel']> {
    this.log('useProjectModel', r);
    const before = this.modelPath;
    const summary = this.load(r.path);
    this.previousModels = [before, ...this.previousModels.filter((p) => p !== before && p !== r.path)];
    return summary;
  }

  async startScoring(r: ApiRequest<'startScoring'>): Promise<ApiResponses['startScoring']> {
    this.log('startScoring', r);
    return { jobId: 'score-1' };
  }

  async startQualityCheck(r: ApiRequest<'startQualityCheck'>): Promise<ApiResponses['startQualityCheck']> {
    this.log('startQualityCheck', r);
    if (!this.entries.some((e) => e.state === 'accepted' || e.state === 'edited')) {
      throw new Error('no image with a reviewed mask the model did not train on');
    }
    return { jobId: 'quality-1' };
  }

  async startExport(r: ApiRequest<'startExport'>): Promise<ApiResponses['startExport']> {
    this.log('startExport', r);
    return { jobId: 'export-1' };
  }

  async startTraining(r: ApiRequest<'startTraining'>): Promise<ApiResponses['startTraining']> {
    this.log('startTraining', r);
    if (r.resume) {
      if (!this.resumable) throw new Error('no stopped training to resume in this folder');
      this.resumable = null;
    }
    return { jobId: 'train-1' };
  }

  async startEvaluation(r: ApiRequest<'startEvaluation'>): Promise<ApiResponses['startEvaluation']> {
    this.log('startEvaluation', r);
    return { jobId: 'eval-1' };
  }

  async cancelJob(r: ApiRequest<'cancelJob'>): Promise<ApiResponses['cancelJob']> {
    this.log('cancelJob', r);
    return { cancelled: true };
  }

  async listJobs(r: ApiRequest<'listJobs'>): Promise<ApiResponses['listJobs']> {
    this.log('listJobs', r);
    return [];
  }

  async loadModel(r: ApiRequest<'loadModel'>): Promise<ApiResponses['loadModel']> {
    this.log('loadModel', r);
    return this.load(r.path);
  }

  private load(path: string): ApiResponses['loadModel'] {
    if (!path.endsWith('.safetensors') && !path.startsWith('/models')) throw new Error(`no manifest.json in ${path}`);
    this.modelPath = path;
    return this.summaryOf(path);
  }

  private summaryOf(path: string): ApiResponses['loadModel'] {
    return {
      name: path.split('/').at(-1) ?? path, path, classes: ['ok', 'defect'], defectClass: 1, inputChannels: 1, inputSize: 'native', metrics: {},
      mapThresholds: this.mapThresholds, calibrated: this.decisionThreshold !== 0.5, decisionThreshold: this.decisionThreshold, masksOnCalledDefect: this.masksOnCalledDefect, mapsRefinedOnImage: this.mapsRefinedOnImage, mapsFromEveryVote: this.mapsFromEveryVote,
    };
  }
}
