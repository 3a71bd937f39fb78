import sharp, { type Sharp } from 'sharp';
import type { ImagePixels } from '../api.ts';
import { encodePng, probeImage, readImage } from '../data/image-io.ts';

/**
 * An image as the viewer shows it: an 8-bit PNG, upright (EXIF orientation applied), grey
 * kept grey, 16-bit scaled to 8, optionally shrunk to fit `maxSide` (thumbnails). libvips
 * does the work on its own threads.
 */
export async function displayPng(path: string, maxSide?: number): Promise<ImagePixels> {
  const info = await probeImage(path);
  let pipeline: Sharp;
  // libvips reads neither BMP nor (to 8 bits, faithfully) 16-bit grey: go through the model's own reader.
  if (info.format === 'bmp' || info.bitDepth === 16) {
    const image = await readImage(path);
    const bytes = new Uint8Array(image.data.length);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(image.data[i] * 255);
    if (maxSide === undefined) {
      return { width: image.width, height: image.height, png: new Uint8Array(await encodePng({ width: image.width, height: image.height, channels: image.channels, data: bytes })) };
    }
    pipeline = sharp(bytes, { raw: { width: image.width, height: image.height, channels: image.channels } });
  } else {
    pipeline = sharp(path, { limitInputPixels: false }).autoOrient().removeAlpha();
  }
  if (maxSide !== undefined) pipeline = pipeline.resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true });
  pipeline = pipeline.toColourspace(info.channels === 1 ? 'b-w' : 'srgb');
  const { data, info: out } = await pipeline.png({ compressionLevel: maxSide === undefined ? 6 : 9 }).toBuffer({ resolveWithObject: true });
  return { width: out.width, height: out.height, png: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
