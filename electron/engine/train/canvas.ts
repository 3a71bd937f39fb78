import { Rng } from '../../data/synth/rng.ts';
import { pasteDefect, type PastedDefect } from './synthetic-defects.ts';

/** The network's input during training, height x width, the same for every image of a run. */
export interface Canvas {
  height: number;
  width: number;
}

/** Stage outputs halve five times: sides that are multiples of 32 keep every grid cell whole. */
const GRID = 32;
/** Beyond this the long side's cells outnumber the short side's too far for 3x3 context at layer4. */
const MAX_ASPECT = 4;

/**
 * The training canvas for a set of images: about side x side pixels, shaped like the set's
 * median image. Squashing a 1130x460 photograph into a square halves its width and stretches
 * its height, so a round pit becomes an ellipse the network never sees at test time in any
 * other shape; keeping the aspect keeps the defects' shapes and the same scale on both axes.
 * A square set (DAGM, MVTec AD) gets the square side x side canvas it always had.
 */
export function trainingCanvas(sizes: ReadonlyArray<{ width: number; height: number }>, side: number): Canvas {
  if (sizes.length === 0) return { height: side, width: side };
  const aspects = sizes.map((s) => s.width / s.height).sort((a, b) => a - b);
  const median = aspects[Math.floor((aspects.length - 1) / 2)];
  const aspect = Math.min(MAX_ASPECT, Math.max(1 / MAX_ASPECT, median));
  // Sides off the grid (tests' tiny inputs) are only rounded to whole pixels.
  const unit = side % GRID === 0 ? GRID : 1;
  const round = (v: number) => Math.max(unit, Math.round(v / unit) * unit);
  return { height: round(side / Math.sqrt(aspect)), width: round(side * Math.sqrt(aspect)) };
}

/** A side x side window of an HWC image on the canvas, placed by `seed`, and where it lies. */
function placedWindow(pixels: Float32Array, canvas: Canvas, channels: number, side: number, seed: number): { window: Float32Array; x0: number; y0: number } {
  const { height, width } = canvas;
  const rng = new Rng(seed);
  const x0 = rng.int(0, width - side);
  const y0 = rng.int(0, height - side);
  const window = new Float32Array(side * side * channels);
  for (let y = 0; y < side; y++) {
    window.set(pixels.subarray(((y0 + y) * width + x0) * channels, ((y0 + y) * width + x0 + side) * channels), y * side * channels);
  }
  return { window, x0, y0 };
}

/** A side x side window of an HWC image on the canvas, placed by `seed`. */
export function cropWindow(pixels: Float32Array, canvas: Canvas, channels: number, side: number, seed: number): Float32Array {
  const { height, width } = canvas;
  if (side >= height && side >= width) return pixels;
  if (side > height || side > width) throw new Error(`a ${side}-px crop does not fit a ${width}x${height} canvas`);
  return placedWindow(pixels, canvas, channels, side, seed).window;
}

/**
 * A synthetic defect on an image of any shape: drawn in a square window as large as the short
 * side (the drawing works on squares), placed by `seed`, and written back with its mask at the
 * same place, so the mask stays aligned with the pixels it marks.
 */
export function pasteOnCanvas(pixels: Float32Array, canvas: Canvas, channels: number, seed: number): PastedDefect {
  const { height, width } = canvas;
  if (height === width) return pasteDefect(pixels, width, channels, seed);
  const side = Math.min(height, width);
  const { window, x0, y0 } = placedWindow(pixels, canvas, channels, side, seed);
  const pasted = pasteDefect(window, side, channels, seed);
  const out = Float32Array.from(pixels);
  const mask = new Uint8Array(height * width);
  for (let y = 0; y < side; y++) {
    out.set(pasted.pixels.subarray(y * side * channels, (y + 1) * side * channels), ((y0 + y) * width + x0) * channels);
    mask.set(pasted.mask.subarray(y * side, (y + 1) * side), (y0 + y) * width + x0);
  }
  return { pixels: out, mask, kinds: pasted.kinds };
}
