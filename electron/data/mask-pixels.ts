import { readImage, type RasterImage } from './image-io.ts';

/**
 * A mask image as defect (1) / background (0) per pixel. Masks come as 0/255, as 0/1 (class
 * indices, which look black) and now and then as JPEG with ringing, and in any channel of a
 * colour image: a pixel is defect when its brightest channel reaches half the mask's brightest
 * value, so 0/1 and 0/255 masks read the same and JPEG noise near zero stays background.
 */
export function maskBits(img: RasterImage): Uint8Array {
  const n = img.width * img.height, c = img.channels;
  const peak = new Float32Array(n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let k = 0; k < c; k++) v = Math.max(v, img.data[i * c + k]);
    peak[i] = v;
    if (v > max) max = v;
  }
  const out = new Uint8Array(n);
  if (max === 0) return out;
  const threshold = max / 2;
  for (let i = 0; i < n; i++) out[i] = peak[i] >= threshold ? 1 : 0;
  return out;
}

/** True when every pixel of the mask is zero: an image with such a mask is OK. */
export async function maskIsEmpty(path: string): Promise<boolean> {
  const img = await readImage(path);
  for (let i = 0; i < img.data.length; i++) if (img.data[i] !== 0) return false;
  return true;
}
