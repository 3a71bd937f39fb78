import { Rng } from '../data/synth/rng.ts';
import { DEFAULT_MAP_REFINEMENT, ImageAffinities } from '../engine/refine-on-image.ts';
import { median, timeIt } from './timing.ts';

const SIZE = 512;
const WARMUP = 1;
const RUNS = 5;

/**
 * Median ms to refine maps on a 512x512 image (refine-on-image.ts), the cost the review and
 * the exports add per image where a model's maps are refined: the affinities once per image,
 * then the three layers' maps of one method together.
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
  return {
    refine512_affinities_ms: median(await timeIt(build, RUNS)),
    refine512_three_maps_ms: median(await timeIt(refine, RUNS)),
  };
}
