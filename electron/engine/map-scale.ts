import * as tf from '@tensorflow/tfjs-core';
import type { RasterImage } from '../data/image-io.ts';
import { upsample } from './cam/resize.ts';
import type { CamMethod } from './cam/types.ts';
import type { Map2D } from './explain.ts';
import type { MapScale } from './manifest.ts';
import { MapRefiner, resizeMap } from './refine-on-image.ts';
import { CAM_LAYERS, type CamLayer } from './resnet-spec.ts';

export const SCALED_MAPS = [...CAM_LAYERS, 'fused'] as const;
export type ScaledMapName = (typeof SCALED_MAPS)[number];

/** The fusion's sharpness, tanh(gamma * M / divisor), as the LayerCAM authors' gamma = 2. */
const FUSION_GAMMA = 2;

/** What a map on the model's scale needs of an explanation (an Explanation is one). */
export interface RawMaps {
  /** [height, width] of the image. */
  imageSize: [number, number];
  maps: Partial<Record<CamMethod, { layers: Partial<Record<CamLayer, { raw: Map2D }>> }>>;
}

/** A raw map brought to [height, width] as explain does (bilinear, align_corners=False), then divided. */
async function upsampledOver(raw: Map2D, [height, width]: [number, number], divisor: number): Promise<Float32Array> {
  const up = tf.tidy(() => tf.div(upsample(tf.tensor2d(raw.data, [raw.height, raw.width]), height, width), divisor));
  try {
    return (await up.data()) as Float32Array;
  } finally {
    up.dispose();
  }
}

/** Raw maps over their divisors at the image's size: refined on the image first (together) where the scale says so. */
async function ratioMaps(maps: Array<{ raw: Map2D; divisor: number }>, imageSize: [number, number], scale: MapScale, refiner: MapRefiner | undefined): Promise<Float32Array[]> {
  if (!scale.refinedOnImage) return Promise.all(maps.map(({ raw, divisor }) => upsampledOver(raw, imageSize, divisor)));
  if (!refiner) throw new Error("scaledMaps: this model's maps are refined on the image (mapScale.refinedOnImage): pass the image's refiner");
  const at: [number, number] = [refiner.height, refiner.width];
  const upsampled = await Promise.all(maps.map(({ raw, divisor }) => upsampledOver(raw, at, divisor)));
  return (await refiner.refine(...upsampled)).map((map) => resizeMap(map, at, imageSize));
}

/** The refiner scaledMaps needs of an image under `scale`, at the size the network saw it; undefined where the scale does not refine. */
export async function refinerFor(scale: MapScale | undefined, image: RasterImage, inputSize: [number, number]): Promise<MapRefiner | undefined> {
  return scale?.refinedOnImage ? MapRefiner.ofImage(image, inputSize, scale.refinedOnImage) : undefined;
}

/**
 * One method's maps on the model's scale at the image's resolution, for every layer the
 * explanation holds and their fusion: a layer's map is clamp(raw / divisor, 0, 1); the fused map
 * is the element-wise maximum over those layers of tanh(2 * raw / divisor), the LayerCAM
 * authors' fusion with each image's own maximum replaced by the model's divisor (tanh is taken
 * after upsampling). Unlike the min-max normalised maps, these mean the same on every image, so
 * one threshold serves them all and an OK image's map stays dark. Where the scale says the maps
 * are refined on the image (refinedOnImage), each layer's map is refined at the network's input
 * size before it is divided, clamped and fused, with the image's `refiner` (refinerFor).
 */
export async function scaledMaps(explanation: RawMaps, method: CamMethod, scale: MapScale, refiner?: MapRefiner): Promise<Partial<Record<ScaledMapName, Float32Array>>> {
  const layers = explanation.maps[method]?.layers;
  if (!layers) throw new Error(`scaledMaps: the explanation has no ${method} maps`);
  const present = CAM_LAYERS.filter((layer) => layers[layer]?.raw);
  const ratios = await ratioMaps(present.map((layer) => ({ raw: layers[layer]!.raw, divisor: scale.methods[method].divisor[layer] })), explanation.imageSize, scale, refiner);
  const out: Partial<Record<ScaledMapName, Float32Array>> = {};
  let fused: Float32Array | undefined;
  for (const [j, layer] of present.entries()) {
    const ratio = ratios[j];
    const clamped = new Float32Array(ratio.length);
    fused ??= new Float32Array(ratio.length);
    for (let i = 0; i < ratio.length; i++) {
      const r = Math.max(0, ratio[i]);
      clamped[i] = Math.min(1, r);
      fused[i] = Math.max(fused[i], Math.tanh(FUSION_GAMMA * r));
    }
    out[layer] = clamped;
  }
  if (!fused) throw new Error(`scaledMaps: the explanation has no ${method} layer maps`);
  out.fused = fused;
  return out;
}

/** One map (a layer or the fusion of the layers the explanation holds) on the model's scale. */
export async function scaledMap(explanation: RawMaps, method: CamMethod, map: ScaledMapName, scale: MapScale, refiner?: MapRefiner): Promise<Float32Array> {
  const maps = await scaledMaps(explanation, method, scale, refiner);
  const m = maps[map];
  if (!m) throw new Error(`scaledMap: the explanation has no ${method} ${map} map`);
  return m;
}
