import type { RasterImage } from '../data/image-io.ts';
import { binOf, POOLED_BINS, PooledPixelMetrics, truthRegions } from '../data/pooled-metrics.ts';
import { CAM_METHODS, type CamMethod } from './cam/types.ts';
import type { MapRefinement, MapScale } from './manifest.ts';
import { scaledMaps, SCALED_MAPS, type RawMaps } from './map-scale.ts';
import { DEFAULT_MAP_REFINEMENT, MapRefiner } from './refine-on-image.ts';
import { CAM_LAYERS, type CamLayer } from './resnet-spec.ts';

/** What explain must give for a map scale: every method and layer; the fused map is made from the raws. */
export const MAP_SCALE_EXPLAIN = { methods: CAM_METHODS, layers: CAM_LAYERS, fused: false } as const;

type PerMethodLayer = Record<CamMethod, Record<CamLayer, number>>;

/**
 * The share of the validation split's OK images a default threshold may still draw a mask on.
 * An inspector reads a mask on an OK image as a false alarm, and one on most of them as a tool
 * that does not work: without this floor the mIoU-best threshold sat low enough (a large blob
 * defect gains IoU from a generous mask) to draw on 13 of the demo's 15 OK images.
 */
export const OK_IMAGES_DRAWN = 0.05;

/**
 * The lowest threshold that leaves all but `share` of the OK images without a single pixel at
 * or above it, on the pooled metrics' bin edges; 0 without OK images.
 */
export function okImageFloor(okMaxima: readonly number[], share = OK_IMAGES_DRAWN): number {
  if (okMaxima.length === 0) return 0;
  const sorted = [...okMaxima].sort((a, b) => a - b);
  const mayDraw = Math.floor(sorted.length * share);
  const darkest = sorted[sorted.length - 1 - mayDraw];
  return Math.min(1, (binOf(darkest) + 1) / POOLED_BINS);
}

function rawsOnly(e: RawMaps): RawMaps {
  const maps: RawMaps['maps'] = {};
  for (const method of CAM_METHODS) {
    const layers = e.maps[method]?.layers ?? {};
    maps[method] = { layers: Object.fromEntries(CAM_LAYERS.map((l) => [l, { raw: layers[l]!.raw }])) };
  }
  return { imageSize: e.imageSize, maps };
}

/**
 * Fits a model's map scale from explained images, normally the validation split's.
 *
 * The divisor per method and layer is the maximum of the raw maps over every image added, OK
 * and defective alike. The maximum rather than a high quantile: the default threshold is tuned
 * on this very scale, so the divisor only sets the unit, and the maximum leaves every validation
 * pixel below the clamp at 1, so pooled rankings (AUROC, AP, AUPRO) lose no resolution to ties
 * there; an outlier image only compresses the scale, which the tuned threshold and the pooled
 * metrics' 65,536 bins absorb. The default threshold per method and map is the one that
 * maximises Kizu's mIoU over the pixels of every image with a truth (OK images all negative),
 * the population `kizu evaluate`'s field table scores at it; a threshold tuned on defective
 * images alone would ignore what it lights up on OK ones. It is chosen among the thresholds
 * that leave at least 95 % of the OK images without a mask (OK_IMAGES_DRAWN).
 *
 * Only the raw maps (at their stages' small resolution) and the masks of images with a truth
 * are kept until finish(), since the divisor must be known before any map is scaled.
 *
 * Given which images the model calls defective, finish() fits the thresholds on the masks Kizu
 * draws and exports: none on an image called OK (its defect pixels are missed, its OK pixels
 * right), so the OK images the classifier already clears no longer hold the threshold up. Fitted
 * on every image instead, the threshold sat where the busiest surface's OK maps peak, and the
 * default mask missed most defects elsewhere (RECIPES, "Masks on the images called defective").
 *
 * The maps are refined on their images (refine-on-image.ts) before the thresholds are fitted,
 * unless the fitter is made with `refine: null`; each image is read again in finish() for it,
 * so only the raw maps stay in memory.
 */
export class MapScaleFitter {
  private readonly max: PerMethodLayer = Object.fromEntries(CAM_METHODS.map((m) => [m, { layer2: 0, layer3: 0, layer4: 0 }])) as PerMethodLayer;
  private readonly kept: Array<{ index: number; maps: RawMaps; inputSize?: [number, number]; truth: Uint8Array | 'ok'; image?: () => Promise<RasterImage> }> = [];
  private images = 0;
  private readonly refine: MapRefinement | null;

  constructor(opts: { refine?: MapRefinement | null } = {}) {
    this.refine = opts.refine === undefined ? DEFAULT_MAP_REFINEMENT : opts.refine;
  }

  /**
   * Adds one explained image; `truth` is its defect mask, 'ok' for an OK image, null for a
   * defective one without a mask; `image` reads the image again, for refining its maps (needed
   * unless the fitter was made with `refine: null`).
   */
  add(explanation: RawMaps & { inputSize?: [number, number] }, truth: Uint8Array | 'ok' | null, image?: () => Promise<RasterImage>): void {
    if (this.refine && (!image || !explanation.inputSize)) throw new Error('MapScaleFitter.add: refining the maps on the image needs the image and the size the network saw it at');
    for (const method of CAM_METHODS) {
      for (const layer of CAM_LAYERS) {
        const raw = explanation.maps[method]?.layers[layer]?.raw;
        if (!raw) throw new Error(`MapScaleFitter: the explanation lacks ${method} ${layer}; explain with MAP_SCALE_EXPLAIN`);
        let m = this.max[method][layer];
        for (let i = 0; i < raw.data.length; i++) if (raw.data[i] > m) m = raw.data[i];
        this.max[method][layer] = m;
      }
    }
    if (truth !== null) this.kept.push({ index: this.images, maps: rawsOnly(explanation), inputSize: explanation.inputSize, truth, image });
    this.images++;
  }

  /** `calledDefect(i)`: whether the model calls the i-th image added (from 0) defective; without it, masks are drawn on every image. */
  async finish(calledDefect?: (index: number) => boolean): Promise<MapScale> {
    if (this.images === 0) throw new Error('MapScaleFitter: no images to fit the map scale on');
    const methods = {} as MapScale['methods'];
    for (const method of CAM_METHODS) {
      // A method whose maps were all zero has nothing to scale; any positive divisor keeps them zero.
      const divisor = Object.fromEntries(CAM_LAYERS.map((l) => [l, this.max[method][l] > 0 ? this.max[method][l] : 1])) as Record<CamLayer, number>;
      methods[method] = { divisor, threshold: { layer2: null, layer3: null, layer4: null, fused: null } };
    }
    const scale: MapScale = {
      statistic: 'max', fittedOn: { images: this.images, withTruth: this.kept.length }, methods,
      ...(calledDefect ? { maskedWhen: 'called-defect' as const } : {}),
      ...(this.refine ? { refinedOnImage: this.refine } : {}),
    };
    const pooled = CAM_METHODS.map(() => SCALED_MAPS.map(() => new PooledPixelMetrics()));
    const okMaxima = CAM_METHODS.map(() => SCALED_MAPS.map((): number[] => []));
    for (const { index, maps, inputSize, truth, image } of this.kept) {
      const [height, width] = maps.imageSize;
      const regions = truthRegions(truth === 'ok' ? new Uint8Array(width * height) : truth, width);
      // An image called OK is drawn empty: its maps need no scaling.
      const dark = calledDefect !== undefined && !calledDefect(index) ? new Float32Array(width * height) : null;
      const refiner = this.refine && !dark ? await MapRefiner.ofImage(await image!(), inputSize!, this.refine) : undefined;
      for (const [i, method] of CAM_METHODS.entries()) {
        const scaled = dark ? null : await scaledMaps(maps, method, scale, refiner);
        SCALED_MAPS.forEach((map, j) => {
          const values = dark ?? scaled![map]!;
          pooled[i][j].add(values, regions);
          if (truth === 'ok') okMaxima[i][j].push(values.reduce((a, b) => (b > a ? b : a), 0));
        });
      }
    }
    for (const [i, method] of CAM_METHODS.entries()) {
      SCALED_MAPS.forEach((map, j) => { methods[method].threshold[map] = pooled[i][j].bestMiouThreshold(okImageFloor(okMaxima[i][j]))?.threshold ?? null; });
    }
    return scale;
  }
}
