import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { decodeBmp, isBmp, readBmpSize } from './bmp.ts';
import { ImageReadError } from './image-error.ts';

/** Pixels as the model sees them: HWC interleaved, in [0, 1], 16-bit sources keep every level. */
export interface RasterImage {
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16;
  data: Float32Array;
}

export interface ImageInfo {
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16;
  format: string;
}

export const DEFAULT_MAX_PIXELS = 100_000_000;

export { ImageReadError };

interface ReadOptions { maxPixels?: number }

async function readBytes(path: string): Promise<Buffer> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new ImageReadError(path, 'not a file');
    size = s.size;
  } catch (err) {
    if (err instanceof ImageReadError) throw err;
    throw new ImageReadError(path, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String((err as Error).message));
  }
  if (size === 0) throw new ImageReadError(path, 'file is empty (0 bytes); copy it again from its source, or remove it');
  return readFile(path);
}

function checkPixels(path: string, width: number, height: number, maxPixels: number): void {
  if (!(width > 0 && height > 0)) throw new ImageReadError(path, `invalid image size ${width}x${height}`);
  if (width * height > maxPixels) {
    throw new ImageReadError(path,
      `too many pixels: ${width}x${height} = ${(width * height).toLocaleString('en-US')} exceeds the limit of ${maxPixels.toLocaleString('en-US')}; crop or downscale it`);
  }
}

/** The format a file's first bytes claim, whatever its name says. */
function claimedFormat(bytes: Buffer): string | null {
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47) return 'PNG';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'JPEG';
  if (bytes.length >= 4 && (bytes.readUInt32BE(0) === 0x49492a00 || bytes.readUInt32BE(0) === 0x4d4d002a)) return 'TIFF';
  return null;
}

/** Turns libvips' terse messages into ones an operator can act on. */
function explainSharpError(path: string, err: unknown, bytes: Buffer): ImageReadError {
  const raw = err instanceof Error ? err.message : String(err);
  const first = raw.split('\n').find((l) => l.trim() !== '') ?? raw;
  if (/unsupported image format/i.test(raw)) {
    // A file that starts like an image but cannot be opened was cut short or damaged (a TIFF's directory often sits at its end).
    const claimed = claimedFormat(bytes);
    if (claimed) return new ImageReadError(path, `truncated or corrupt ${claimed} (it starts like one but cannot be read); copy the file again from its source`);
    return new ImageReadError(path, 'not an image, or not a format Kizu reads (PNG, JPEG, BMP, TIFF)');
  }
  if (/exceeds pixel limit/i.test(raw)) return new ImageReadError(path, 'too many pixels for the configured limit');
  if (/premature end|truncat|corrupt|read error|bogus|incomplete|unexpected end/i.test(raw)) {
    return new ImageReadError(path, `truncated or corrupt image data (${first.trim()}); copy the file again from its source`);
  }
  return new ImageReadError(path, `cannot decode image (${first.trim()}); the file may be damaged: copy it again from its source`);
}

function isGreySpace(space: string | undefined): boolean {
  return space === 'b-w' || space === 'grey16';
}

async function infoOf(path: string, bytes: Buffer, maxPixels: number): Promise<ImageInfo> {
  if (isBmp(bytes)) {
    const { width, height, grey } = readBmpSize(path, bytes);
    checkPixels(path, width, height, maxPixels);
    return { width, height, channels: grey ? 1 : 3, bitDepth: 8, format: 'bmp' };
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw explainSharpError(path, err, bytes);
  }
  const w = meta.autoOrient?.width ?? meta.width ?? 0;
  const h = meta.autoOrient?.height ?? meta.height ?? 0;
  checkPixels(path, w, h, maxPixels);
  if (meta.depth !== 'uchar' && meta.depth !== 'ushort') {
    throw new ImageReadError(path, `unsupported sample format '${meta.depth}' (Kizu reads 8- and 16-bit integer images)`);
  }
  return {
    width: w, height: h, channels: isGreySpace(meta.space) ? 1 : 3,
    bitDepth: meta.depth === 'ushort' ? 16 : 8, format: meta.format ?? 'unknown',
  };
}

/** Reads only the header: size, channels Kizu will use, bit depth. Cheap enough to check a whole dataset. */
export async function probeImage(path: string, opts: ReadOptions = {}): Promise<ImageInfo> {
  return infoOf(path, await readBytes(path), opts.maxPixels ?? DEFAULT_MAX_PIXELS);
}

/**
 * Decodes PNG, JPEG (EXIF orientation applied), BMP and 8/16-bit TIFF. Grey stays one channel,
 * alpha is dropped, CMYK becomes RGB.
 */
export async function readImage(path: string, opts: ReadOptions = {}): Promise<RasterImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const bytes = await readBytes(path);
  const info = await infoOf(path, bytes, maxPixels);
  if (info.format === 'bmp') {
    const bmp = decodeBmp(path, bytes);
    const data = new Float32Array(bmp.data.length);
    for (let i = 0; i < data.length; i++) data[i] = bmp.data[i] / 255;
    return { width: bmp.width, height: bmp.height, channels: bmp.channels, bitDepth: 8, data };
  }
  try {
    // libtiff reports strips cut short as errors, not truncation: without 'error' they come back as black rows.
    const failOn = info.format === 'tiff' ? 'error' : 'truncated';
    let pipeline = sharp(bytes, { limitInputPixels: maxPixels, failOn }).autoOrient();
    const sixteen = info.bitDepth === 16;
    if (info.channels === 1) {
      pipeline = pipeline.removeAlpha().toColourspace(sixteen ? 'grey16' : 'b-w');
    } else {
      pipeline = pipeline.removeAlpha().toColourspace(sixteen ? 'rgb16' : 'srgb');
    }
    const { data: raw, info: out } = await pipeline
      .raw({ depth: sixteen ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (out.channels !== info.channels) {
      throw new ImageReadError(path, `decoded ${out.channels} channels where ${info.channels} were expected`);
    }
    const data = new Float32Array(out.width * out.height * out.channels);
    if (sixteen) {
      const src = new Uint16Array(raw.buffer, raw.byteOffset, data.length);
      for (let i = 0; i < data.length; i++) data[i] = src[i] / 65535;
    } else {
      for (let i = 0; i < data.length; i++) data[i] = raw[i] / 255;
    }
    return { width: out.width, height: out.height, channels: info.channels, bitDepth: info.bitDepth, data };
  } catch (err) {
    if (err instanceof ImageReadError) throw err;
    throw explainSharpError(path, err, bytes);
  }
}

export interface PngPixels {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** Encodes 8-bit pixels as PNG in memory; grey input gives a one-channel PNG, as DAGM's are. */
export async function encodePng(img: PngPixels, compressionLevel = 6): Promise<Buffer> {
  const expected = img.width * img.height * img.channels;
  if (img.data.length !== expected) {
    throw new Error(`encodePng: ${img.width}x${img.height}x${img.channels} needs ${expected} bytes, got ${img.data.length}`);
  }
  let pipeline = sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });
  if (img.channels === 1) pipeline = pipeline.toColourspace('b-w');
  return pipeline.png({ compressionLevel }).toBuffer();
}

export async function writePng(path: string, img: PngPixels, compressionLevel = 6): Promise<void> {
  const png = await encodePng(img, compressionLevel);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, png);
}
