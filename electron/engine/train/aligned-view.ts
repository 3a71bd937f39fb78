import { hashSeed } from '../../data/synth/rng.ts';
import { augment, augmentMask, type AugmentOptions } from './augment.ts';
import { cropWindow, type Canvas } from './canvas.ts';

/**
 * What a training step sees of one image: an optional square crop of the canvas, then the
 * augmentation, both drawn from the image's seed. The pixels and any mask of them go through
 * the same two draws, so a real mask stays on the pixels it marks.
 */
export interface View {
  /** The whole training canvas the image was resized to. */
  canvas: Canvas;
  /** Side of a square crop, or undefined for the whole canvas. */
  side: number | undefined;
  seed: number;
  augment: AugmentOptions;
}

/** The crop's side capped to the canvas, and the shape the view has. */
export function viewShape(canvas: Canvas, crop: number | undefined): { side: number | undefined; shape: Canvas } {
  const side = crop === undefined ? undefined : Math.min(crop, canvas.height, canvas.width);
  return { side, shape: side === undefined ? canvas : { height: side, width: side } };
}

export function viewPixels(pixels: Float32Array, channels: number, view: View): Float32Array {
  const { side, shape } = viewShape(view.canvas, view.side);
  const window = side === undefined ? pixels : cropWindow(pixels, view.canvas, channels, side, hashSeed(view.seed, 'crop'));
  return augment(window, shape.height, shape.width, channels, view.seed, view.augment);
}

export function viewMask(mask: Uint8Array, view: View): Uint8Array {
  const { side, shape } = viewShape(view.canvas, view.side);
  // cropWindow copies rows of any typed array's values; a 0/1 mask passes through it as floats.
  const window = side === undefined ? mask : Uint8Array.from(cropWindow(Float32Array.from(mask), view.canvas, 1, side, hashSeed(view.seed, 'crop')));
  return augmentMask(window, shape.height, shape.width, view.seed, view.augment);
}
