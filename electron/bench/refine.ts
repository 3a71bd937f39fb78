import { Rng } from '../data/synth/rng.ts';
import { loadOnnxRuntime } from '../engine/onnx/runtime.ts';
import { DEFAULT_MAP_REFINEMENT, ImageAffinities, MapRefiner } from '../engine/refine-on-image.ts';
import { median, timeIt } from './timing.ts';

const SIZE = 512;
const WARMUP = 1;
const RUNS = 5;

/**
 * Median ms to refine maps on a 512x512 image (refine-on-image.ts), the cost the review and
 * the exports add per image where a model's maps are refined: in JavaScript the affinities once
 * per image, then the three layers' maps of one method together; on onnxruntime, where it loads,
 * the whole graph (affinities and the three maps) for one method.
 */
export async function benchRefine(): Promise<Record<string, number>> {
  const rng = new Rng(2026);
  const grey = Float32Array.from({ length: SIZE * SIZE }, () => rng.uniform(0, 1));
  const maps = [0, 1, 2].map(() => Float32Array.from({ length: SIZE * SIZE }, () => rng.uniform(0, 1)));
  let affinities = ImageAffinities.ofGrey(grey, SIZE, SIZE, DEFAULT_MAP_REFINEMENT);
  const build = async (): Promise<unknown> => (affinities = ImageAffinities.ofGrey(grey, SIZE, SIZE, DEFAULT_MAP_REFINEMENT));
  const refine = async (): Promise<unknown> => affinities.refine(...maps);
  await timeIt(build, WARMUP);
  await timeIt(refine, WARMUP);
  const out: Record<string, number> = {
    refine512_js_affinities_ms: median(await timeIt(build, RUNS)),
    refine512_js_three_maps_ms: median(await timeIt(refine, RUNS)),
  };
  // onnxruntime is optional: without it the maps are refined in JavaScript, timed above.
  if (await loadOnnxRuntime().then(() => true, () => false)) {
    const onOrt = new MapRefiner(grey, SIZE, SIZE, DEFAULT_MAP_REFINEMENT, 'onnxruntime');
    const ort = async (): Promise<unknown> => onOrt.refine(...maps);
    await timeIt(ort, WARMUP + 2);
    out.refine512_onnxruntime_three_maps_ms = median(await timeIt(ort, RUNS));
  }
  return out;
}
