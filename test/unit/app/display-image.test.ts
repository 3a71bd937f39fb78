import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeLabelPng } from '../../../electron/annotate/png-codec.ts';
import { displayPng } from '../../../electron/service/display-image.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kizu-display-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('displayPng', () => {
  it('scales a 16-bit grey image to 8 bits, keeping it grey', async () => {
    const levels = new Uint16Array(70 * 50);
    for (let i = 0; i < levels.length; i++) levels[i] = (i * 97) % 65536;
    const path = join(tmp, 'grey16.png');
    await sharp(levels, { raw: { width: 70, height: 50, channels: 1 } }).toColourspace('grey16').png().toFile(path);
    const out = await displayPng(path);
    const png = decodeLabelPng(out.png, 'out');
    expect([out.width, out.height, png.width, png.values.length]).toEqual([70, 50, 70, 3500]);
    for (const i of [0, 1, 100, 3499]) expect(png.values[i]).toBe(Math.round(levels[i] / 257));
  });

  it('turns an EXIF-rotated JPEG upright and shrinks thumbnails to fit', async () => {
    const path = join(tmp, 'rotated.jpg');
    await sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 200, g: 10, b: 10 } } }).jpeg().withMetadata({ orientation: 6 }).toFile(path);
    const full = await displayPng(path);
    expect([full.width, full.height]).toEqual([20, 40]);
    const thumb = await displayPng(path, 10);
    expect([thumb.width, thumb.height]).toEqual([5, 10]);
    expect((await sharp(thumb.png).metadata()).channels).toBe(3);
  });

  it('says which file is not an image', async () => {
    await expect(displayPng(join(tmp, 'missing.png'))).rejects.toThrow(/missing\.png: file not found/);
  });
});
