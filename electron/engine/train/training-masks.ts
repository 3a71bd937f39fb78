import { probeImage } from '../../data/image-io.ts';
import { readMaskBits } from '../../data/mask-reader.ts';
import type { Canvas } from './canvas.ts';

/**
 * A mask at its image's size on the training canvas: a canvas pixel is defect where any image
 * pixel under it is, so a 1-px scratch survives a photograph shrunk several times onto the
 * canvas (a nearest-neighbour resize would drop most of it). Upscaling repeats pixels.
 */
export function maskOnCanvas(bits: Uint8Array, width: number, height: number, canvas: Canvas): Uint8Array {
  const out = new Uint8Array(canvas.height * canvas.width);
  const span = (i: number, from: number, to: number): [number, number] => {
    const lo = Math.floor((i * from) / to);
    return [lo, Math.max(lo + 1, Math.ceil(((i + 1) * from) / to))];
  };
  for (let y = 0; y < canvas.height; y++) {
    const [y0, y1] = span(y, height, canvas.height);
    for (let x = 0; x < canvas.width; x++) {
      const [x0, x1] = span(x, width, canvas.width);
      let hit = 0;
      for (let sy = y0; sy < y1 && !hit; sy++) for (let sx = x0; sx < x1; sx++) if (bits[sy * width + sx]) { hit = 1; break; }
      out[y * canvas.width + x] = hit;
    }
  }
  return out;
}

/**
 * Real masks of training images on the canvas, read once (a mask image or LabelMe JSON, at its
 * image's size: mask-reader.ts) and kept as one byte per canvas pixel.
 */
export class TrainingMaskCache {
  private readonly cache = new Map<number, Uint8Array>();

  constructor(
    private readonly imagePaths: readonly string[],
    /** Per image: the mask to train on, or null. */
    private readonly maskPaths: ReadonlyArray<string | null>,
    readonly canvas: Canvas,
  ) {}

  has(index: number): boolean {
    return Boolean(this.maskPaths[index]);
  }

  async mask(index: number): Promise<Uint8Array | null> {
    const path = this.maskPaths[index];
    if (!path) return null;
    let mask = this.cache.get(index);
    if (!mask) {
      const { width, height } = await probeImage(this.imagePaths[index]);
      mask = maskOnCanvas(await readMaskBits(path, width, height), width, height, this.canvas);
      this.cache.set(index, mask);
    }
    return mask;
  }
}
