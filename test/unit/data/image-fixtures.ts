import sharp from 'sharp';

// Builders for test images in formats sharp cannot write (BMP, 16-bit TIFF), kept minimal:
// uncompressed, one strip, little-endian.

/** An 8-bit paletted BMP (BITMAPINFOHEADER), bottom-up rows padded to 4 bytes. */
export function bmp8(width: number, height: number, pixels: Uint8Array, palette: Array<[number, number, number]>): Buffer {
  const rowBytes = Math.ceil(width / 4) * 4;
  const paletteBytes = palette.length * 4;
  const offset = 14 + 40 + paletteBytes;
  const buf = Buffer.alloc(offset + rowBytes * height);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(offset, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(8, 28);
  buf.writeUInt32LE(rowBytes * height, 34);
  buf.writeUInt32LE(palette.length, 46);
  palette.forEach(([r, g, b], i) => {
    buf[54 + i * 4] = b;
    buf[54 + i * 4 + 1] = g;
    buf[54 + i * 4 + 2] = r;
  });
  for (let y = 0; y < height; y++) {
    const row = offset + (height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) buf[row + x] = pixels[y * width + x];
  }
  return buf;
}

/** A 24-bit BMP, bottom-up; rgb is HWC. */
export function bmp24(width: number, height: number, rgb: Uint8Array): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const buf = Buffer.alloc(54 + rowBytes * height);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(rowBytes * height, 34);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      buf[row + x * 3] = rgb[s + 2];
      buf[row + x * 3 + 1] = rgb[s + 1];
      buf[row + x * 3 + 2] = rgb[s];
    }
  }
  return buf;
}

/** An uncompressed 16-bit TIFF, grey (1 sample) or RGB (3 samples, interleaved). */
export function tiff16(width: number, height: number, samples: 1 | 3, data: Uint16Array): Buffer {
  const tags: Array<[number, number, number, number]> = []; // tag, type, count, value
  const SHORT = 3, LONG = 4;
  const dataBytes = data.length * 2;
  const header = 8;
  const bitsOffset = header + dataBytes;
  const ifdOffset = bitsOffset + (samples === 3 ? 6 : 0);
  tags.push([256, LONG, 1, width], [257, LONG, 1, height]);
  tags.push(samples === 3 ? [258, SHORT, 3, bitsOffset] : [258, SHORT, 1, 16]);
  tags.push([259, SHORT, 1, 1], [262, SHORT, 1, samples === 3 ? 2 : 1], [273, LONG, 1, header]);
  tags.push([277, SHORT, 1, samples], [278, LONG, 1, height], [279, LONG, 1, dataBytes], [284, SHORT, 1, 1]);
  const buf = Buffer.alloc(ifdOffset + 2 + tags.length * 12 + 4);
  buf.write('II', 0, 'ascii');
  buf.writeUInt16LE(42, 2);
  buf.writeUInt32LE(ifdOffset, 4);
  for (let i = 0; i < data.length; i++) buf.writeUInt16LE(data[i], header + i * 2);
  if (samples === 3) for (let i = 0; i < 3; i++) buf.writeUInt16LE(16, bitsOffset + i * 2);
  buf.writeUInt16LE(tags.length, ifdOffset);
  tags.forEach(([tag, type, count, value], i) => {
    const o = ifdOffset + 2 + i * 12;
    buf.writeUInt16LE(tag, o);
    buf.writeUInt16LE(type, o + 2);
    buf.writeUInt32LE(count, o + 4);
    if (type === SHORT && count === 1) buf.writeUInt16LE(value, o + 8);
    else buf.writeUInt32LE(value, o + 8);
  });
  return buf;
}

/** A 16-bit grey PNG with exactly these levels. */
export async function png16(width: number, height: number, data: Uint16Array): Promise<Buffer> {
  return sharp(data, { raw: { width, height, channels: 1 } }).toColourspace('grey16').png().toBuffer();
}
