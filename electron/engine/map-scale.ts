import * as tf from '@tensorflow/tfjs-core';
import { upsample } from './cam/resize.ts';
import type { CamMethod } from './cam/types.ts';
import type { Map2D } from './explain.ts';
import type { MapScale } from './manifest.ts';
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

/** A raw map brought to the image's size as explain does (bilinear, align_corners=False), then divided. */
async function upsampledOver(raw: Map2D, [height, width]: [number, number], divisor: number): Promise<Float32Array> {
  const up = tf.tidy(() => tf.div(upsample(tf.tensor2d(raw.data, [raw.height, raw.width]), height, width), divisor));
  try {
    return (await up.data()) as Float32Array;
  } finally {
    up.dispose();
  }
}

/**
 * One method's maps on the model's scale at the image's resolution, for every layer the
 * explanation holds and their fusion: a layer's map is clamp(raw / divisor, 0, 1); the fused map
 * is the element-wise maximum over those layers of tanh(2 * raw / divisor), the LayerCAM
 * authors' fusion with each image's own maximum replaced by the model's divisor (tanh is taken
 * after upsampling). Unlike the min-max normalised maps, these mean the same on every image, so
 * one threshold serves them all and an OK image's map stays dark.
 */
export async function scaledMaps(explanation: RawMaps, method: CamMethod, scale: MapScale): Promise<Partial<Record<ScaledMapName, Float32Array>>> {
  const layers = explanation.maps[method]?.layers;
  if (!layers) throw new Error(`scaledMaps: the explanation has no ${method} maps`);
  const out: Partial<Record<ScaledMapName, Float32Array>> = {};
  let fused: Float32Array | undefined;
  for (const layer of CAM_LAYERS) {
    const raw = layers[layer]?.raw;
    if (!raw) continue;
    const ratio = await upsampledOver(raw, explanation.imageSize, scale.methods[method].divisor[layer]);
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
export async function scaledMap(explanation: RawMaps, method: CamMethod, map: ScaledMapName, scale: MapScale): Promise<Float32Array> {
  const maps = await scaledMaps(explanation, method, scale);
  const m = maps[map];
  if (!m) throw new Error(`scaledMap: the explanation has no ${method} ${map} map`);
  return m;
}
