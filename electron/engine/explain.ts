import * as tf from '@tensorflow/tfjs-core';
import type { RasterImage } from '../data/image-io.ts';
import { defectScore } from './calibration.ts';
import { TfjsEvidence } from './cam/evidence.ts';
import { parseExplainEngine, type EvidenceSource, type ExplainEngineName } from './cam/evidence-source.ts';
import { CAM_FORMULAS } from './cam/methods.ts';
import { fuse, minMaxNormalise, upsample } from './cam/resize.ts';
import { CAM_METHODS, type CamMethod } from './cam/types.ts';
import type { Manifest } from './manifest.ts';
import type { LoadedModel } from './model-dir.ts';
import { networkInputSize, toInputTensor } from './preprocess.ts';
import { chooseExplainEngine, OnnxEvidence } from './onnx/onnx-evidence.ts';
import { FoldedResNet } from './resnet50.ts';
import { CAM_LAYERS, type CamLayer } from './resnet-spec.ts';

export interface ExplainOptions {
  methods?: readonly CamMethod[];
  layers?: readonly CamLayer[];
  /** Defaults to the manifest's defect class. */
  targetClass?: number;
  /** Fusion sharpness, tanh(gamma * M / max M); the authors use 2. */
  gamma?: number;
  /** Also return the fused map of the chosen layers (default true when there are several). */
  fused?: boolean;
}

/** A row-major single-channel map. */
export interface Map2D {
  width: number;
  height: number;
  data: Float32Array;
}

export interface LayerMaps {
  /** Non-negative map at the stage's own resolution, as the formula gives it. */
  raw: Map2D;
  /** Bilinear (align_corners=False) to the original image, min-max normalised to [0, 1]. */
  normalised: Map2D;
}

export interface MethodMaps {
  layers: Partial<Record<CamLayer, LayerMaps>>;
  fused?: Map2D;
}

export interface Explanation {
  targetClass: number;
  logits: number[];
  probabilities: number[];
  /** The defect class's probability: calibrated where the model has a calibration, else the softmax's. */
  defectProbability: number;
  calibrated: boolean;
  /** The size the network ran at, [height, width]. */
  inputSize: [number, number];
  imageSize: [number, number];
  maps: Partial<Record<CamMethod, MethodMaps>>;
}

export interface Classification {
  logits: number[];
  /** The softmax, uncalibrated. */
  probabilities: number[];
  /** Calibrated where the model has a calibration (manifest.calibration), else the softmax's. */
  defectProbability: number;
  calibrated: boolean;
}

async function toMap(t: tf.Tensor2D): Promise<Map2D> {
  const [height, width] = t.shape;
  return { width, height, data: (await t.data()) as Float32Array };
}

export interface ExplainerOptions {
  /** Which library runs the passes; default KIZU_EXPLAIN_ENGINE, else onnxruntime where it loads, else tfjs. */
  engine?: ExplainEngineName;
}

/** The engine an Explainer runs on, and why a preferred one was skipped. */
export interface ExplainEngineInfo {
  name: ExplainEngineName;
  fallback?: string;
}

/**
 * The CAM engine for one model: ONE forward and ONE backward pass per image serve every
 * requested method and layer. It holds the BatchNorm-folded weights; dispose() frees them.
 * The passes run on onnxruntime's CPU kernels where the optional onnxruntime-node loads
 * (several times faster than tfjs-wasm here), else on tfjs; the maps are the same to float
 * precision, and the known-answer tests hold on both.
 */
export class Explainer {
  private readonly folded: FoldedResNet;
  private readonly requested: ExplainEngineName | undefined;
  private opened?: Promise<{ source: EvidenceSource; info: ExplainEngineInfo }>;
  private ready?: EvidenceSource;
  private disposed = false;

  constructor(readonly manifest: Manifest, model: Pick<LoadedModel, 'net'>, options: ExplainerOptions = {}) {
    this.folded = FoldedResNet.fold(model.net);
    this.requested = options.engine ?? parseExplainEngine(process.env.KIZU_EXPLAIN_ENGINE);
  }

  static fromModel(model: LoadedModel, options?: ExplainerOptions): Explainer {
    return new Explainer(model.manifest, model, options);
  }

  private open(): Promise<{ source: EvidenceSource; info: ExplainEngineInfo }> {
    this.opened ??= (async () => {
      const { name, fallback } = await chooseExplainEngine(this.requested);
      const source = name === 'onnxruntime' ? await OnnxEvidence.create(this.folded) : new TfjsEvidence(this.folded);
      return { source, info: fallback ? { name, fallback } : { name } };
    })();
    return this.opened;
  }

  private async source(): Promise<EvidenceSource> {
    if (this.disposed) throw new Error('this explainer has been disposed');
    this.ready ??= (await this.open()).source;
    return this.ready;
  }

  /** Which engine runs this model's passes (opening it if it is not yet). */
  async engine(): Promise<ExplainEngineInfo> {
    return (await this.open()).info;
  }

  inputSizeFor(image: Pick<RasterImage, 'height' | 'width'>): [number, number] {
    return networkInputSize(this.manifest.inputSize, image.height, image.width);
  }

  async classify(image: RasterImage): Promise<Classification> {
    const source = await this.source();
    const x = toInputTensor(image, this.manifest);
    let values: number[];
    try {
      values = await source.logits(x);
    } finally {
      x.dispose();
    }
    const score = defectScore(values, this.manifest);
    return { logits: values, probabilities: softmax(values), defectProbability: score.probability, calibrated: score.calibrated };
  }

  async explain(image: RasterImage, opts: ExplainOptions = {}): Promise<Explanation> {
    const methods = opts.methods ?? ['layercam'];
    for (const m of methods) if (!CAM_METHODS.includes(m)) throw new Error(`unknown CAM method "${m}" (use ${CAM_METHODS.join(', ')})`);
    const layers = CAM_LAYERS.filter((l) => (opts.layers ?? CAM_LAYERS).includes(l));
    const targetClass = opts.targetClass ?? this.manifest.defectClass;
    const gamma = opts.gamma ?? 2;
    const wantFused = opts.fused ?? layers.length > 1;
    const { height, width } = image;

    if (layers.length === 0) throw new Error('explain needs at least one of layer2, layer3, layer4');
    const source = await this.source();
    const x = toInputTensor(image, this.manifest);
    const inputSize: [number, number] = [x.shape[1], x.shape[2]];
    const pass = await (async () => {
      try {
        return await source.gather(x, layers, targetClass, this.manifest.camScore ?? 'logit');
      } finally {
        x.dispose();
      }
    })();
    const tensors: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor>(t: T): T => {
      tensors.push(t);
      return t;
    };
    try {
      const logits = Array.from(await pass.logits.data());
      const maps: Explanation['maps'] = {};
      for (const method of methods) {
        const raws = pass.evidence.map((e) => keep(CAM_FORMULAS[method](e)));
        const result: MethodMaps = { layers: {} };
        for (let i = 0; i < raws.length; i++) {
          const normalised = keep(tf.tidy(() => minMaxNormalise(upsample(raws[i], height, width))));
          result.layers[pass.evidence[i].layer] = { raw: await toMap(raws[i]), normalised: await toMap(normalised) };
        }
        if (wantFused) result.fused = await toMap(keep(fuse(raws, height, width, gamma)));
        maps[method] = result;
      }
      const score = defectScore(logits, this.manifest);
      return {
        targetClass,
        logits,
        probabilities: softmax(logits),
        defectProbability: score.probability,
        calibrated: score.calibrated,
        inputSize,
        imageSize: [height, width],
        maps,
      };
    } finally {
      tf.dispose(tensors);
      tf.dispose([pass.logits, ...pass.evidence.flatMap((e) => [e.activations, e.gradients])]);
    }
  }

  dispose(): void {
    this.disposed = true;
    const opened = this.opened;
    if (!opened || this.ready) {
      this.ready?.dispose();
      this.folded.dispose();
      return;
    }
    // Still opening (onnxruntime reads the folded weights as it builds its graph): free both after.
    void opened.then(({ source }) => source.dispose(), () => undefined).finally(() => this.folded.dispose());
  }
}

export function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / total);
}
