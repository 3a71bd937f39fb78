import { decode } from 'bmp-ts';
import { ImageReadError } from './image-error.ts';

// libvips (and so sharp) has no BMP loader; bmp-ts decodes, this module validates around it.

export interface BmpPixels {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

const FILE_HEADER = 14;

export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

function fail(path: string, reason: string): ImageReadError {
  return new ImageReadError(path, reason);
}

/** Header fields only, so the pixel limit is checked before anything is allocated. */
export function readBmpSize(path: string, bytes: Buffer): { width: number; height: number; grey: boolean } {
  if (bytes.length < FILE_HEADER + 16) throw fail(path, 'truncated BMP header');
  const headerSize = bytes.readUInt32LE(FILE_HEADER);
  if (headerSize < 40) throw fail(path, `unsupported BMP header (${headerSize} bytes; Windows V3 or later needed)`);
  if (bytes.length < FILE_HEADER + headerSize) throw fail(path, 'truncated BMP header');
  const width = bytes.readInt32LE(FILE_HEADER + 4);
  const height = Math.abs(bytes.readInt32LE(FILE_HEADER + 8));
  const bitsPerPixel = bytes.readUInt16LE(FILE_HEADER + 14);
  return { width, height, grey: bitsPerPixel <= 8 && paletteIsGrey(bytes, headerSize, bitsPerPixel) };
}

function paletteIsGrey(bytes: Buffer, headerSize: number, bitsPerPixel: number): boolean {
  const used = bytes.readUInt32LE(FILE_HEADER + 32);
  const entries = used === 0 ? 1 << bitsPerPixel : used;
  const start = FILE_HEADER + headerSize;
  if (start + entries * 4 > bytes.length) return false;
  for (let i = 0; i < entries; i++) {
    const b = bytes[start + i * 4], g = bytes[start + i * 4 + 1], r = bytes[start + i * 4 + 2];
    if (r !== g || g !== b) return false;
  }
  return true;
}

export function decodeBmp(path: string, bytes: Buffer): BmpPixels {
  const { grey } = readBmpSize(path, bytes);
  let bmp;
  try {
    bmp = decode(bytes);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (err instanceof RangeError || /out of range/i.test(msg)) throw fail(path, 'truncated BMP pixel data');
    throw fail(path, `cannot decode BMP (${msg})`);
  }
  const n = bmp.width * bmp.height;
  const channels = grey ? 1 : 3;
  const data = new Uint8Array(n * channels);
  // bmp-ts yields ABGR per pixel in its default mode (its RGBA mode mislays paletted images).
  const src = bmp.data;
  for (let i = 0; i < n; i++) {
    if (grey) {
      data[i] = src[i * 4 + 3];
    } else {
      data[i * 3] = src[i * 4 + 3];
      data[i * 3 + 1] = src[i * 4 + 2];
      data[i * 3 + 2] = src[i * 4 + 1];
    }
  }
  return { width: bmp.width, height: bmp.height, channels, data };
}
