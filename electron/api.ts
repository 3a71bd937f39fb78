/**
 * THE contract between Kizu's UI and its back end. The renderer calls these methods through
 * a client that is either Electron IPC (preload.ts) or HTTP (web mode, server.ts); it never
 * knows which. Every request is validated against its schema on the receiving side.
 *
 * Types only and zod schemas: no Node, no DOM, no Electron, so both sides import it.
 */
import { z } from 'zod';

export const REVIEW_STATES = ['unreviewed', 'accepted', 'rejected', 'ok', 'edited'] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];

/** The image-level label an operator gives: all that training needs. */
export const IMAGE_LABELS = ['ok', 'defect'] as const;
export type ImageLabel = (typeof IMAGE_LABELS)[number];

/**
 * The label a review gives an image: a reviewed mask says "defect", "Mark OK" says OK. The
 * other states (a rejected map, an undone review) leave the label as it was: the map was
 * wrong, not the label. The back end stores it; the renderer shows it before the save returns.
 */
export const LABEL_OF_REVIEW: Readonly<Partial<Record<ReviewState, ImageLabel>>> = { accepted: 'defect', edited: 'defect', ok: 'ok' };

export const CAM_METHOD_NAMES = ['layercam', 'gradcam', 'gradcampp'] as const;
export type CamMethodName = (typeof CAM_METHOD_NAMES)[number];

export const CAM_LAYER_NAMES = ['layer2', 'layer3', 'layer4'] as const;
export const MAP_LAYERS = [...CAM_LAYER_NAMES, 'fused'] as const;
export type MapLayer = (typeof MAP_LAYERS)[number];

export const EXPORT_FORMATS = ['coco', 'coco-rle', 'voc', 'yolo', 'labelme', 'png'] as const;

/**
 * Which scale a map is on: the model's one scale (its manifest's mapScale, fitted on its
 * validation split: a value means the same on every image, and an OK image stays dark), or
 * min-max normalised per image (every map stretched to [0, 1]: faint structure shows, but even
 * an OK image has a hottest place). A model without a map scale has per-image maps only.
 */
export const MAP_SCALES = ['model', 'per-image'] as const;
export type MapScaleName = (typeof MAP_SCALES)[number];
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const id = z.string().min(1).max(4096);
const path = z.string().min(1).max(4096);

export const thresholdSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('value'), value: z.number().min(0).max(1) }),
  z.object({ kind: z.literal('fraction-of-max'), fraction: z.number().min(0).max(1) }),
  z.object({ kind: z.literal('otsu') }),
  z.object({ kind: z.literal('top-percent'), percent: z.number().gt(0).max(100) }),
  // The model's own default for the map (ModelSummary.mapThresholds), 0.5 where it has none.
  z.object({ kind: z.literal('model-default') }),
]);

export const cleanupSchema = z.object({
  openRadius: z.number().int().min(0).max(64).default(0),
  closeRadius: z.number().int().min(0).max(64).default(0),
  fillHoles: z.boolean().default(false),
  minArea: z.number().int().min(0).max(1_000_000).default(0),
});

/** How a map became a mask: stored with each review so an export reproduces it exactly. */
export const maskParamsSchema = z.object({
  method: z.enum(CAM_METHOD_NAMES),
  layer: z.enum(MAP_LAYERS),
  threshold: thresholdSchema,
  cleanup: cleanupSchema,
  /** The map thresholded; absent in reviews saved before models had a map scale, whose masks were cut on per-image maps. */
  scale: z.enum(MAP_SCALES).optional(),
});
export type MaskParams = z.infer<typeof maskParamsSchema>;

/** The scale a mask's parameters cut: absent means per image, as every mask was before. */
export const scaleOfParams = (p: Pick<MaskParams, 'scale'>): MapScaleName => p.scale ?? 'per-image';

export const DEFAULT_MASK_PARAMS: MaskParams = {
  method: 'layercam',
  layer: 'fused',
  scale: 'model',
  threshold: { kind: 'model-default' },
  cleanup: { openRadius: 0, closeRadius: 0, fillHoles: true, minArea: 16 },
};

/** A binary mask (0/1 per pixel, row-major) at the image's resolution. */
export const maskSchema = z.object({
  width: z.number().int().positive().max(20_000),
  height: z.number().int().positive().max(20_000),
  data: z.instanceof(Uint8Array),
}).refine((m) => m.data.length === m.width * m.height, { message: 'mask data length must be width * height' });
export type WireMask = z.infer<typeof maskSchema>;

/**
 * The time budget a training run gets when it is given neither minutes nor epochs (the CLI and
 * the app's Train dialog alike): an operator's shift has room for it, and on a 2-core
 * workstation it trains the default recipe to a usable model.
 */
export const DEFAULT_TRAINING_MINUTES = 45;

export const trainingParamsSchema = z.object({
  /** A dataset folder or CSV; absent: the open project's labelled images. */
  data: path.optional(),
  /** Where the model goes; absent (project training only): the project's own models folder. */
  out: path.optional(),
  defectLabel: z.string().min(1).default('defect'),
  epochs: z.number().int().min(1).max(1000).default(15),
  /** A time budget: the run plans its schedule to end within it, instead of `epochs`. */
  minutes: z.number().positive().max(24 * 60).optional(),
  batch: z.number().int().min(1).max(256).default(16),
  lr: z.number().positive().max(10).default(0.001),
  inputSize: z.number().int().min(32).max(2048).default(512),
  init: path.optional(),
  /** Stem width; absent: the recipe's (16 from scratch, else that of --init). */
  width: z.number().int().min(1).max(128).optional(),
  seed: z.number().int().min(0).default(0),
  /**
   * Go on from the checkpoint in `out` with the options it was made with. Without `data`: the
   * project's training that was stopped by closing the app (ProjectInfo.resumableTraining).
   */
  resume: z.boolean().default(false),
  /** `kizu pretrain`: the recipe's pretext alone, on the folder's OK images, no labels needed (a dataset folder only). */
  pretextOnly: z.boolean().default(false),
  /**
   * `kizu train --masks`: training images with a mask (a project's reviewed masks outside its
   * measure set; a dataset's mask files) also supervise the class-score map, at layer4's resolution.
   */
  masks: z.boolean().default(false),
});
export type TrainingParams = z.infer<typeof trainingParamsSchema>;

/** Every method's request schema; the method names are the API. */
export const requestSchemas = {
  engineInfo: z.object({}),
  openFolder: z.object({ path }),
  openImages: z.object({ paths: z.array(path).min(1).max(100_000) }),
  openDemo: z.object({}),
  listImages: z.object({}),
  getImage: z.object({ id }),
  getThumbnail: z.object({ id, size: z.number().int().min(16).max(512) }),
  explain: z.object({
    id,
    methods: z.array(z.enum(CAM_METHOD_NAMES)).min(1).default(['layercam', 'gradcam', 'gradcampp']),
    /** Maps on the model's scale where it has one (the response says which scale it gave), or stretched per image. */
    scale: z.enum(MAP_SCALES).default('model'),
  }),
  getReview: z.object({ id }),
  saveReview: z.object({
    id,
    state: z.enum(REVIEW_STATES),
    params: maskParamsSchema,
    mask: maskSchema.nullable(),
  }),
  startExport: z.object({
    format: z.enum(EXPORT_FORMATS),
    outDir: path,
    which: z.enum(['accepted', 'defective']),
    params: maskParamsSchema.optional(),
    /**
     * Every image of the folder as one batch on the configured work queue (EngineInfo.queue):
     * the model's masks with these params, as `kizu export` makes them (reviews are not read,
     * and `which` is not either); the job follows the batch until its merge has written.
     */
    queue: z.boolean().optional(),
  }),
  setLabels: z.object({ ids: z.array(id).min(1).max(100_000), label: z.enum(IMAGE_LABELS).nullable() }),
  projectInfo: z.object({}),
  trainingSet: z.object({}),
  startTraining: trainingParamsSchema,
  useProjectModel: z.object({ path }),
  startScoring: z.object({}),
  startQualityCheck: z.object({}),
  startEvaluation: z.object({ data: path, model: path.optional() }),
  cancelJob: z.object({ jobId: id }),
  listJobs: z.object({}),
  loadModel: z.object({ path }),
} as const;

export type ApiMethod = keyof typeof requestSchemas;
export type ApiRequest<M extends ApiMethod> = z.input<(typeof requestSchemas)[M]>;
export type ParsedRequest<M extends ApiMethod> = z.output<(typeof requestSchemas)[M]>;

/** tfjs's backend: it computes the maps only where mapsEngine is tfjs (else just the CAM formulas). */
export interface BackendSummary {
  name: 'node' | 'wasm' | 'cpu';
  version: string;
  threads: number;
  simd: boolean;
  /** e.g. "wasm SIMD 4.22.0, 1 thread". */
  label: string;
}

/** What runs the network's passes for maps and scores: what the status bar names. */
export interface MapsEngineSummary {
  name: 'onnxruntime' | 'tfjs';
  /** onnxruntime-node's version, or the tfjs backend's. */
  version: string;
  threads: number;
  /** e.g. "onnxruntime 1.30.0, 2 threads" or "tfjs wasm SIMD 4.22.0, 1 thread". */
  label: string;
  /** Why onnxruntime could not load, where tfjs computes for that reason. */
  fallback?: string;
}

export interface ModelSummary {
  name: string;
  path: string;
  classes: string[];
  defectClass: number;
  inputChannels: 1 | 3;
  inputSize: string;
  metrics: Record<string, unknown>;
  /**
   * The default mask threshold per method and map on the model's map scale, chosen on its
   * validation split (null where none was fitted); null: the model has no map scale, so its
   * maps are normalised per image and the default threshold is 0.5.
   */
  mapThresholds: Record<CamMethodName, Record<MapLayer, number | null>> | null;
  /** Whether defect probabilities are calibrated on the model's validation split (else the raw softmax). */
  calibrated: boolean;
  /** The defect probability at or above which an image is called defective: chosen on the validation split, else 0.5. */
  decisionThreshold: number;
  /** Whether the default masks are drawn only on images called defective, where mapThresholds were fitted (mapScale.maskedWhen). */
  masksOnCalledDefect: boolean;
  /** Whether the maps on the model's scale are refined on the image's own pixels (mapScale.refinedOnImage). */
  mapsRefinedOnImage: boolean;
  /** Whether the maps take every position that votes defect, not only the top-k head's chosen ones (manifest.camScore 'logit-and-position-margins'). */
  mapsFromEveryVote: boolean;
}

export interface EngineInfo {
  backend: BackendSummary;
  mapsEngine: MapsEngineSummary;
  model: ModelSummary | null;
  version: string;
  /** The work queue an export can be sent to (KIZU_REDIS_URL), its URL without the password; absent when none is configured. */
  queue?: { url: string };
}

/** How many images carry each label. */
export interface LabelCounts {
  ok: number;
  defect: number;
}

/** How well the project's model localises, measured on reviewed masks it was not trained on. */
export interface ModelQuality {
  /** The model directory measured. */
  model: string;
  /** Images with a reviewed mask that the model never trained on. */
  images: number;
  method: CamMethodName;
  layer: MapLayer;
  pixelAuroc: number | null;
  /** At the mask threshold the reviews were saved with (by default the model's own for the map, 0.5 on per-image maps). */
  miou: number | null;
  measuredAt: string;
}

export interface ProjectInfo {
  root: string;
  imageCount: number;
  reviewedCount: number;
  labels: LabelCounts;
  /** The model the project uses (trained from it or chosen), and the ones it used before. */
  model: string | null;
  previousModels: string[];
  /** The last measurement of `model` on reviewed masks, if any. */
  quality: ModelQuality | null;
  /**
   * The measurement of the model used before `model`, kept when `model` replaced it: beside
   * `quality`, what the new training (its reviewed masks, say) bought. Absent or null: none.
   */
  previousQuality?: ModelQuality | null;
  /** A training from this project that stopped without finishing (the app was closed): it can go on. */
  resumableTraining?: { out: string; step: number } | null;
  /** Sidecars that could not be read (their images count as unreviewed) and skipped files. */
  problems?: { file: string; message: string }[];
}

export interface ImageEntry {
  /** Path relative to the project root, forward slashes: stable across sessions. */
  id: string;
  name: string;
  state: ReviewState;
  /** What the operator (or a review) said, else what the folder's layout says, else null. */
  label: ImageLabel | null;
  labelFrom: 'user' | 'folder' | null;
  /** Defect probability from the last classification, if any. */
  score: number | null;
  /** File modification time, ms since the epoch. */
  modifiedAt: number;
}

export interface ImagePixels {
  width: number;
  height: number;
  /** An 8-bit PNG for display (16-bit images scaled, grey kept grey). */
  png: Uint8Array;
}

/** A [0, 1] map at the image's resolution, on the scale its response names. */
export interface WireMap {
  width: number;
  height: number;
  data: Float32Array;
}

export interface ExplainResponse {
  id: string;
  modelName: string;
  targetClass: number;
  /** The softmax, uncalibrated. */
  probabilities: number[];
  /** Calibrated on the model's validation split where `calibrated`, else the softmax's. */
  defectProbability: number;
  calibrated: boolean;
  /** maps[method][layer]: every requested method on layer2, layer3, layer4 and fused. */
  maps: Partial<Record<CamMethodName, Record<MapLayer, WireMap>>>;
  /** The scale the maps are on: per image when asked, or when the model has no map scale. */
  scale: MapScaleName;
  /** Wall-clock ms the engine took, for the status bar. */
  elapsedMs: number;
}

export interface ReviewRecord {
  id: string;
  state: ReviewState;
  params: MaskParams;
  mask: WireMask | null;
  score: number | null;
  /** ISO time of the last save, or null if never reviewed. */
  updatedAt: string | null;
}

export type JobKind = 'export' | 'train' | 'evaluate' | 'score' | 'quality';
export type JobState = 'running' | 'done' | 'failed' | 'cancelled';

export interface JobEvent {
  jobId: string;
  kind: JobKind;
  state: JobState;
  done: number;
  total: number;
  etaSeconds: number | null;
  message: string;
  /** Training: one point of the loss/accuracy curve. */
  metrics?: { step: number; epoch: number; loss: number; accuracy: number; lr: number; imagesPerSecond: number };
  /** When done: what the job produced (output folder, model dir, evaluation table...). */
  result?: Record<string, unknown>;
  /** Per-file problems that did not stop the job. */
  failures?: { file: string; message: string }[];
}

export interface JobHandle {
  jobId: string;
}

/** What "train from this folder" would use, before it starts. */
export interface TrainingSetSummary {
  /** Labelled images training would use. */
  ok: number;
  defect: number;
  /** Images with a reviewed mask kept out of training to measure the model (ModelQuality). */
  measure: number;
  /** Defect images in the training part with a reviewed mask: what `masks` learns from (less the validation split's). */
  masks: number;
  /** Below these, training from the project is refused. */
  minimum: LabelCounts;
  enough: boolean;
}

/** The response type of each method. */
export interface ApiResponses {
  engineInfo: EngineInfo;
  openFolder: ProjectInfo;
  openImages: ProjectInfo;
  openDemo: ProjectInfo;
  listImages: ImageEntry[];
  getImage: ImagePixels;
  getThumbnail: ImagePixels;
  explain: ExplainResponse;
  getReview: ReviewRecord;
  saveReview: ReviewRecord;
  setLabels: { entries: ImageEntry[]; labels: LabelCounts };
  projectInfo: ProjectInfo;
  trainingSet: TrainingSetSummary;
  startExport: JobHandle;
  startTraining: JobHandle;
  useProjectModel: ModelSummary;
  startScoring: JobHandle;
  startQualityCheck: JobHandle;
  startEvaluation: JobHandle;
  cancelJob: { cancelled: boolean };
  listJobs: JobEvent[];
  loadModel: ModelSummary;
}

/** What the desktop shell's native menus, dialogs and drag-and-drop ask the UI to do. */
export type AppCommand =
  | { kind: 'project-opened'; project: ProjectInfo }
  | { kind: 'show-layer'; layer: MapLayer }
  | { kind: 'zoom'; action: 'in' | 'out' | 'fit' }
  | { kind: 'export'; outDir: string }
  | { kind: 'show-shortcuts' };

/** What the renderer holds: one async function per method, plus job events. */
export type KizuApi = {
  [M in ApiMethod]: (request: ApiRequest<M>) => Promise<ApiResponses[M]>;
} & {
  onJobEvent(listener: (event: JobEvent) => void): () => void;
  /** Electron only (web mode has no native menus). */
  onAppCommand?(listener: (command: AppCommand) => void): () => void;
};

/** The back end's side: the same methods, given already-validated requests. */
export type KizuHandlers = {
  [M in ApiMethod]: (request: ParsedRequest<M>) => Promise<ApiResponses[M]>;
};

/** An error a caller can act on; `where` names the field or file at fault. */
export interface ApiErrorBody {
  error: string;
  method?: string;
  where?: string;
}

/** Validates one call, with a message naming the method and every offending field. */
export function parseRequest<M extends ApiMethod>(method: M, raw: unknown): ParsedRequest<M> {
  const schema = requestSchemas[method];
  if (!schema) throw new Error(`unknown API method "${String(method)}"`);
  const result = schema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; ');
    throw new Error(`${method}: invalid request: ${problems}`);
  }
  return result.data as ParsedRequest<M>;
}

export function isApiMethod(name: string): name is ApiMethod {
  return Object.prototype.hasOwnProperty.call(requestSchemas, name);
}
