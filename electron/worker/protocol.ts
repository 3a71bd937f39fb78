import type {
  BackendSummary, CamMethodName, ExplainResponse, MapScaleName, ExportFormat, JobEvent, MapsEngineSummary, MaskParams, ModelSummary, TrainingParams,
} from '../api.ts';

/** The messages between the service (main thread) and the engine worker. */

export interface EngineStatus {
  backend: BackendSummary;
  mapsEngine: MapsEngineSummary;
  model: ModelSummary | null;
  /** Why there is no model, in words the status bar can show. */
  modelError: string | null;
}

export interface ExplainArgs {
  path: string;
  /** With the path, what identifies the image in the cache: an edited file is a new image. */
  modifiedAt: number;
  methods: CamMethodName[];
  /** The model's map scale where it has one (the default), or per image. */
  scale?: MapScaleName;
}

export interface ExplainResult extends Omit<ExplainResponse, 'id'> {
  /** True when every requested method came from the cache. */
  cached: boolean;
}

export interface ClassifyResult {
  modelName: string;
  /** Calibrated where the model has a calibration. */
  defectProbability: number;
}

export interface ExportPlanItem {
  id: string;
  path: string;
  modifiedAt: number;
  /** The reviewed mask stored for the image, else null: the mask then comes from its map. */
  mask: { path: string; width: number; height: number } | null;
  params: MaskParams;
  /** Known defect probability; null means classify first (for "all defective"). */
  score: number | null;
  /** Reviewed as defective (accepted or edited): exported whatever the score. */
  reviewedDefect: boolean;
}

export interface ExportArgs {
  format: ExportFormat;
  outDir: string;
  items: ExportPlanItem[];
}

export interface ExportResult {
  outDir: string;
  format: ExportFormat;
  /** Images written into the export. */
  images: number;
  /** Candidates left out because the model scored them as OK. */
  skippedAsOk: number;
  files: string[];
  /** Scores computed on the way, for the service to store in the sidecars. */
  scores: { id: string; score: number; model: string }[];
}

export interface DemoArgs {
  dir: string;
  classes?: number;
  size?: number;
}

/** What a training or evaluation job hands back, shown with the job's last event. */
export interface JobResult {
  [key: string]: unknown;
}

export interface EvaluateArgs {
  data: string;
  model: string;
}

export interface EngineOps {
  init: { args: { modelPath: string | null }; result: EngineStatus };
  status: { args: Record<string, never>; result: EngineStatus };
  loadModel: { args: { path: string }; result: ModelSummary };
  explain: { args: ExplainArgs; result: ExplainResult };
  classify: { args: Omit<ExplainArgs, 'methods'>; result: ClassifyResult };
  export: { args: ExportArgs; result: ExportResult };
  makeDemo: { args: DemoArgs; result: { dir: string; created: boolean } };
  /** Training always has its data and output resolved by then (a project's training set is a CSV). */
  train: { args: TrainingParams & { data: string; out: string }; result: JobResult };
  evaluate: { args: EvaluateArgs; result: JobResult };
}

export type EngineOp = keyof EngineOps;

export interface Progress {
  done: number;
  total: number;
  message: string;
  /** When the work knows better than done/total over elapsed time (training does). */
  etaSeconds?: number | null;
  failures?: { file: string; message: string }[];
  metrics?: JobEvent['metrics'];
}

export type ToWorker =
  | { type: 'call'; id: number; op: EngineOp; args: unknown }
  | { type: 'cancel'; id: number }
  /** End the thread at a safe point: no native onnxruntime call in flight. */
  | { type: 'shutdown' };

export type FromWorker =
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; message: string; status?: number; cancelled?: boolean }
  | { type: 'progress'; id: number; progress: Progress };
