import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeImage, readImage, writePng } from '../../../electron/data/image-io.ts';
import { bmp24, bmp8, png16, tiff16 } from './image-fixtures.ts';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'kizu-image-io-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function file(name: string, bytes: Buffer | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

const W = 5, H = 3;
const grey = Uint8Array.from({ length: W * H }, (_, i) => i * 17);
const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 29) % 256);

describe('readImage', () => {
  it('keeps a grey PNG as one channel with its exact levels', async () => {
    const path = await file('grey.png', await sharp(grey, { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').png().toBuffer());
    const img = await readImage(path);
    expect(img).toMatchObject({ width: W, height: H, channels: 1, bitDepth: 8 });
    expect(Array.from(img.data, (v) => Math.round(v * 255))).toEqual(Array.from(grey));
  });

  it('reads RGB and drops alpha from RGBA', async () => {
    const rgba = new Uint8Array(W * H * 4);
    for (let i = 0; i < W * H; i++) rgba.set([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2], 10 + i], i * 4);
    const path = await file('rgba.png', await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png().toBuffer());
    const img = await readImage(path);
    expect(img.channels).toBe(3);
    expect(Array.from(img.data, (v) => Math.round(v * 255))).toEqual(Array.from(rgb));
  });

  it('keeps every level of a 16-bit PNG', async () => {
    const levels = Uint16Array.from({ length: W * H }, (_, i) => i * 4099 + 1);
    const img = await readImage(await file('deep.png', await png16(W, H, levels)));
    expect(img).toMatchObject({ channels: 1, bitDepth: 16 });
    expect(Array.from(img.data, (v) => Math.round(v * 65535))).toEqual(Array.from(levels));
  });

  it('reads 8-bit grey and 16-bit grey and RGB TIFF', async () => {
    const t8 = await file('grey8.tif', await sharp(grey, { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').tiff({ compression: 'lzw' }).toBuffer());
    const img8 = await readImage(t8);
    expect(img8).toMatchObject({ channels: 1, bitDepth: 8 });
    expect(Array.from(img8.data, (v) => Math.round(v * 255))).toEqual(Array.from(grey));

    const g16 = Uint16Array.from({ length: W * H }, (_, i) => 65535 - i * 3001);
    const img16 = await readImage(await file('grey16.tif', tiff16(W, H, 1, g16)));
    expect(img16).toMatchObject({ channels: 1, bitDepth: 16 });
    expect(Array.from(img16.data, (v) => Math.round(v * 65535))).toEqual(Array.from(g16));

    const c16 = Uint16Array.from({ length: W * H * 3 }, (_, i) => i * 1237 + 5);
    const rgb16 = await readImage(await file('rgb16.tif', tiff16(W, H, 3, c16)));
    expect(rgb16).toMatchObject({ channels: 3, bitDepth: 16 });
    expect(Array.from(rgb16.data, (v) => Math.round(v * 65535))).toEqual(Array.from(c16));
  });

  it('reads paletted grey BMP as one channel and 24-bit BMP as RGB, top row first', async () => {
    const palette = Array.from({ length: 256 }, (_, i): [number, number, number] => [i, i, i]);
    const g = await readImage(await file('grey.bmp', bmp8(W, H, grey, palette)));
    expect(g).toMatchObject({ width: W, height: H, channels: 1, bitDepth: 8 });
    expect(Array.from(g.data, (v) => Math.round(v * 255))).toEqual(Array.from(grey));

    const c = await readImage(await file('rgb.bmp', bmp24(W, H, rgb)));
    expect(c.channels).toBe(3);
    expect(Array.from(c.data, (v) => Math.round(v * 255))).toEqual(Array.from(rgb));
  });

  it('applies the EXIF orientation of a JPEG', async () => {
    // A 4x2 image, left half black, right half white, stored with orientation 6 (rotate 90 cw).
    const px = Uint8Array.from({ length: 8 }, (_, i) => (i % 4 < 2 ? 0 : 255));
    const jpeg = await sharp(px, { raw: { width: 4, height: 2, channels: 1 } }).toColourspace('b-w')
      .jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const img = await readImage(await file('rotated.jpg', jpeg));
    expect([img.width, img.height]).toEqual([2, 4]);
    // After a clockwise quarter turn the white half is at the bottom.
    expect(img.data[0]).toBeLessThan(0.3);
    expect(img.data[img.data.length - 1]).toBeGreaterThan(0.7);
    expect((await probeImage(await file('rotated2.jpg', jpeg))).height).toBe(4);
  });

  it('turns CMYK into RGB', async () => {
    const cmyk = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 200, g: 30, b: 10 } } })
      .toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    const img = await readImage(await file('cmyk.jpg', cmyk));
    expect(img.channels).toBe(3);
    expect(img.data[0]).toBeGreaterThan(0.6);
    expect(img.data[1]).toBeLessThan(0.3);
  });
});

describe('readImage errors name the file and the fault', () => {
  it.each([
    ['missing', async () => join(dir, 'nope.png'), /nope\.png: file not found/],
    ['empty', async () => file('empty.png', Buffer.alloc(0)), /empty\.png: file is empty/],
    ['not an image', async () => file('text.png', Buffer.from('this is plainly not an image file')), /text\.png: not an image/],
  ])('%s', async (_name, make, message) => {
    await expect(readImage(await make())).rejects.toThrow(message);
  });

  it('truncated PNG, JPEG and BMP', async () => {
    const big = Uint8Array.from({ length: 64 * 64 }, (_, i) => (i * 7919) % 256);
    const png = await sharp(big, { raw: { width: 64, height: 64, channels: 1 } }).png().toBuffer();
    const jpg = await sharp(big, { raw: { width: 64, height: 64, channels: 1 } }).jpeg().toBuffer();
    const palette = Array.from({ length: 256 }, (_, i): [number, number, number] => [i, i, i]);
    const bmp = bmp8(64, 64, big, palette);
    for (const [name, bytes] of [['cut.png', png], ['cut.jpg', jpg], ['cut.bmp', bmp]] as const) {
      const path = await file(name, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      await expect(readImage(path)).rejects.toThrow(new RegExp(`${name.replace('.', '\\.')}: truncated`));
    }
  });

  it('refuses images over the pixel limit before decoding them', async () => {
    const path = await file('wide.png', await sharp({ create: { width: 300, height: 200, channels: 3, background: '#000' } }).png().toBuffer());
    await expect(readImage(path, { maxPixels: 50_000 })).rejects.toThrow(/wide\.png: too many pixels: 300x200 = 60,000 exceeds the limit of 50,000/);
    const palette = Array.from({ length: 256 }, (_, i): [number, number, number] => [i, i, i]);
    const bmpPath = await file('wide.bmp', bmp8(300, 200, new Uint8Array(60_000), palette));
    await expect(readImage(bmpPath, { maxPixels: 50_000 })).rejects.toThrow(/too many pixels/);
    expect((await readImage(path, { maxPixels: 60_000 })).width).toBe(300);
  });
});

describe('writePng', () => {
  it('round-trips grey (as a one-channel PNG) and RGB', async () => {
    const g = join(dir, 'out', 'grey.png');
    await writePng(g, { width: W, height: H, channels: 1, data: grey });
    expect((await sharp(g).metadata()).channels).toBe(1);
    expect(Array.from((await readImage(g)).data, (v) => Math.round(v * 255))).toEqual(Array.from(grey));
    const c = join(dir, 'out', 'rgb.png');
    await writePng(c, { width: W, height: H, channels: 3, data: rgb });
    expect(Array.from((await readImage(c)).data, (v) => Math.round(v * 255))).toEqual(Array.from(rgb));
  });

  it('rejects pixel data of the wrong length', async () => {
    await expect(writePng(join(dir, 'bad.png'), { width: 4, height: 4, channels: 1, data: new Uint8Array(15) })).rejects.toThrow(/needs 16 bytes, got 15/);
  });
});
