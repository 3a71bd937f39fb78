import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../electron/cli.ts';
import { FIXTURE_DIR } from '../helpers/fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'kizu explain é '));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const out = join(dir, 'out');

function npyShape(bytes: Buffer): number[] {
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  expect((10 + headerLength) % 64).toBe(0);
  expect(header).toContain("'descr': '<f4'");
  return header.match(/'shape': \(([^)]*)\)/)![1].split(',').filter((s) => s.trim()).map(Number);
}

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = 0;
});

describe('kizu explain', () => {
  it('writes heatmap, overlay and .npy per map, reports a bad file and still does the rest', async () => {
    const grey = join(dir, 'grey 16.png');
    const rgb = join(dir, 'colour.jpg');
    const bad = join(dir, 'notes.png');
    const pixels = Buffer.alloc(70 * 50 * 2);
    for (let i = 0; i < 70 * 50; i++) pixels.writeUInt16LE((i * 97) % 65536, i * 2);
    await sharp(pixels, { raw: { width: 70, height: 50, channels: 1, premultiplied: false } }).toColourspace('grey16').png().toFile(grey);
    await sharp({ create: { width: 45, height: 61, channels: 3, background: { r: 120, g: 30, b: 200 } } }).jpeg().toFile(rgb);
    writeFileSync(bad, 'this is not an image');
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (stderr.push(String(s)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);

    const code = await main(['node', 'kizu', 'explain', grey, bad, rgb, '--model', join(FIXTURE_DIR, 'weights.safetensors'),
      '--method', 'layercam,gradcam', '--layer', 'layer2', '--layer', 'fused', '--input-size', '64', '--out', out, '--raw']);

    expect(code).toBe(1);
    expect(stderr.join('')).toMatch(/notes\.png: .*not an image/);
    expect(stderr.join('')).toMatch(/1 of 3 image\(s\) failed/);
    for (const [stem, w, h] of [['grey 16', 70, 50], ['colour', 45, 61]] as const) {
      for (const method of ['layercam', 'gradcam']) {
        for (const layer of ['layer2', 'fused']) {
          const base = join(out, `${stem}.${method}.${layer}`);
          const meta = await sharp(`${base}.overlay.png`).metadata();
          expect([meta.width, meta.height, meta.channels]).toEqual([w, h, 3]);
          expect((await sharp(`${base}.heatmap.png`).metadata()).width).toBe(w);
          const npy = readFileSync(`${base}.npy`);
          expect(npyShape(npy)).toEqual([h, w]);
          const values = new Float32Array(npy.buffer.slice(npy.byteOffset + npy.length - w * h * 4, npy.byteOffset + npy.length));
          expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
          expect(Math.max(...values)).toBeLessThanOrEqual(1);
        }
      }
      expect(existsSync(join(out, `${stem}.layercam.layer3.overlay.png`))).toBe(false);
    }
  });

  it('refuses an unknown method with a message naming the option', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await main(['node', 'kizu', 'explain', 'x.png', '--method', 'scorecam', '--out', out]);
    expect(code).not.toBe(0);
  });
});
