import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { importLabelme } from '../annotate/formats/labelme.ts';
import { probeImage, readImage } from './image-io.ts';
import { maskBits } from './mask-pixels.ts';

/**
 * A dataset's ground truth comes as a mask image or as a LabelMe JSON file of polygons (BSData,
 * sets drawn in LabelMe or X-AnyLabeling): both read here, so a reader only has to point at the
 * file and every consumer (size check, evaluation, training on masks) sees the same pixels.
 */
function isLabelme(path: string): boolean {
  return path.toLowerCase().endsWith('.json');
}

async function labelmeMask(path: string): Promise<{ width: number; height: number; bits: Uint8Array }> {
  const text = await readFile(path, 'utf8');
  const [item] = importLabelme({ [path]: text }).items;
  const bits = new Uint8Array(item.width * item.height);
  for (let i = 0; i < bits.length; i++) bits[i] = item.mask.data[i] !== 0 ? 1 : 0;
  return { width: item.width, height: item.height, bits };
}

const labelmeSize = z.object({ imageWidth: z.number().int().positive(), imageHeight: z.number().int().positive() });

/**
 * The mask's size from its header (an image) or from LabelMe's imageWidth/imageHeight, without
 * drawing the polygons: every dataset open checks every mask's size.
 */
export async function probeMaskSize(path: string): Promise<{ width: number; height: number }> {
  if (!isLabelme(path)) return probeImage(path);
  const parsed = labelmeSize.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: not a LabelMe annotation with imageWidth and imageHeight`);
  return { width: parsed.data.imageWidth, height: parsed.data.imageHeight };
}

/** Defect (1) / background (0) per pixel; fails when the mask's size is not its image's. */
export async function readMaskBits(path: string, width: number, height: number): Promise<Uint8Array> {
  const mask = isLabelme(path) ? await labelmeMask(path) : await readImage(path).then((img) => ({ width: img.width, height: img.height, bits: maskBits(img) }));
  if (mask.width !== width || mask.height !== height) throw new Error(`${path}: mask is ${mask.width}x${mask.height} but its image is ${width}x${height}`);
  return mask.bits;
}
