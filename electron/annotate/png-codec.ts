import { decode, encode } from 'fast-png';

/** A single-channel raster read from a PNG: palette indices, grey levels, or class ids. */
export interface PngValues {
  width: number;
  height: number;
  values: Uint8Array | Uint16Array;
  /** The PNG's palette when it is indexed, as [r, g, b(, a)] entries. */
  palette?: number[][];
}

/** 8-bit (values < 256) or 16-bit greyscale PNG. */
export function encodeGreyPng(width: number, height: number, values: Uint8Array | Uint16Array): Uint8Array {
  return encode({ width, height, data: values, channels: 1, depth: values instanceof Uint16Array ? 16 : 8 });
}

/** 8-bit indexed PNG with the given palette of [r, g, b] entries. */
export function encodeIndexedPng(width: number, height: number, indices: Uint8Array, palette: number[][]): Uint8Array {
  return encode({ width, height, data: indices, channels: 1, depth: 8, palette });
}

/**
 * Reads a label PNG as one value per pixel: indexed images give their indices (what VOC and
 * PIL's "P" mode mean), grey images their grey level (alpha dropped), colour images the
 * index of their colour in `colours` (so RGB label maps can be read against a palette).
 */
export function decodeLabelPng(bytes: Uint8Array, file: string, colours?: number[][]): PngValues {
  let png;
  try {
    png = decode(bytes);
  } catch (err) {
    throw new Error(`${file}: not a readable PNG (${err instanceof Error ? err.message : String(err)})`);
  }
  const { width, height, channels, depth } = png;
  const n = width * height;
  if (png.palette && channels === 1) {
    return { width, height, values: unpack(png.data as Uint8Array, width, height, depth), palette: png.palette };
  }
  if (channels === 1 || channels === 2) {
    const raw = depth < 8 ? unpack(png.data as Uint8Array, width, height, depth) : png.data;
    if (channels === 1) return { width, height, values: raw instanceof Uint8ClampedArray ? new Uint8Array(raw) : raw };
    const values = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++) values[i] = raw[2 * i];
    return { width, height, values };
  }
  if (!colours) throw new Error(`${file}: a ${channels}-channel colour PNG, expected a greyscale or indexed label image`);
  const lookup = new Map<number, number>();
  colours.forEach((c, i) => {
    if (!lookup.has(colourKey(c[0], c[1], c[2]))) lookup.set(colourKey(c[0], c[1], c[2]), i);
  });
  const shift = depth === 16 ? 8 : 0;
  const values = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    const key = colourKey(png.data[o] >> shift, png.data[o + 1] >> shift, png.data[o + 2] >> shift);
    const index = lookup.get(key);
    if (index === undefined) {
      throw new Error(
        `${file}: pixel (${i % width}, ${Math.floor(i / width)}) has colour ${png.data[o] >> shift},${png.data[o + 1] >> shift},${png.data[o + 2] >> shift}, which is not in the label palette`,
      );
    }
    values[i] = index;
  }
  return { width, height, values };
}

function colourKey(r: number, g: number, b: number): number {
  return (r << 16) | (g << 8) | b;
}

/** Unpacks 1-, 2- and 4-bit rows (each starting on a byte) to one byte per pixel. */
function unpack(data: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  if (depth === 8) return new Uint8Array(data.buffer, data.byteOffset, width * height);
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const perByte = 8 / depth;
  const maskBits = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = data[y * rowBytes + Math.floor(x / perByte)];
      const shift = 8 - depth * ((x % perByte) + 1);
      out[y * width + x] = (byte >> shift) & maskBits;
    }
  }
  return out;
}

/**
 * The Pascal VOC colour map: index i gets its colour from the bits of i spread over the
 * high bits of r, g and b (the devkit's labelcolormap), so 1 is (128, 0, 0).
 */
export function vocColourMap(size = 256): number[][] {
  const map: number[][] = [];
  for (let i = 0; i < size; i++) {
    let r = 0;
    let g = 0;
    let b = 0;
    let c = i;
    for (let j = 7; j >= 0; j--) {
      r |= (c & 1) << j;
      g |= ((c >> 1) & 1) << j;
      b |= ((c >> 2) & 1) << j;
      c >>= 3;
    }
    map.push([r, g, b]);
  }
  return map;
}
