import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../electron/cli.ts';
import { initBackend } from '../../../electron/engine/backend.ts';
import { initialiseResNet } from '../../../electron/engine/init-weights.ts';
import { MANIFEST_SCHEMA_VERSION, type MapScale } from '../../../electron/engine/manifest.ts';
import { saveModelDir } from '../../../electron/engine/model-dir.ts';
import { resnetSpec } from '../../../electron/engine/resnet-spec.ts';
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

  it("writes maps on the model's scale where it has one (--stretch: per image) and the calibrated p(defect)", async () => {
    await initBackend();
    const model = join(dir, 'scaled model');
    // A divisor far above any raw value: on this scale every map is nearly black.
    const method = { divisor: { layer2: 1e6, layer3: 1e6, layer4: 1e6 }, threshold: { layer2: 0.5, layer3: 0.5, layer4: 0.5, fused: 0.5 } };
    const mapScale: MapScale = { statistic: 'max', fittedOn: { images: 2, withTruth: 2 }, methods: { layercam: method, gradcam: method, gradcampp: method } };
    const net = initialiseResNet(resnetSpec({ numClasses: 2, inChannels: 1, width: 8, blocks: [1, 1, 1, 1] }), 2);
    try {
      await saveModelDir(model, {
        format: 'kizu-model', schemaVersion: MANIFEST_SCHEMA_VERSION, name: 'scaled', architecture: { name: 'resnet50', width: 8, blocks: [1, 1, 1, 1] },
        classes: ['ok', 'defect'], defectClass: 1, inputChannels: 1, inputSize: { policy: 'fixed', height: 64, width: 64 },
        normalization: { mean: [0.5], std: [0.25] }, weights: { file: 'weights.safetensors', dtype: 'float32' },
        provenance: { createdAt: new Date(0).toISOString(), createdBy: 'explain-cli.test', notes: [] }, metrics: {}, mapScale,
        calibration: { method: 'platt', slope: 1, intercept: -2, decisionThreshold: 0.3, criterion: 'balanced-accuracy', fittedOn: { ok: 1, defect: 1 }, balancedAccuracy: 1 },
      }, net);
    } finally {
      net.dispose();
    }
    const image = join(dir, 'plain.png');
    const pixels = Buffer.from(Array.from({ length: 40 * 40 }, (_, i) => (i * 37) % 256));
    await sharp(pixels, { raw: { width: 40, height: 40, channels: 1 } }).png().toFile(image);
    const maxOf = (folder: string) => {
      const npy = readFileSync(join(folder, 'plain.layercam.fused.npy'));
      return Math.max(...new Float32Array(npy.buffer.slice(npy.byteOffset + npy.length - 40 * 40 * 4, npy.byteOffset + npy.length)));
    };
    const stderr: string[] = [];
    const stdout: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (stderr.push(String(s)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (stdout.push(String(s)), true));
    expect(await main(['node', 'kizu', 'explain', image, '--model', model, '--layer', 'fused', '--out', join(dir, 'on scale'), '--raw'])).toBe(0);
    expect(stderr.join('')).toContain("maps on the model's scale; p(defect) calibrated on the validation split");
    expect(stdout.join('')).toMatch(/p\(defect\)=0\.\d{4} \(calibrated\)/);
    expect(maxOf(join(dir, 'on scale'))).toBeLessThan(0.01);
    expect(await main(['node', 'kizu', 'explain', image, '--model', model, '--layer', 'fused', '--out', join(dir, 'stretched'), '--raw', '--stretch'])).toBe(0);
    expect(stderr.join('')).toContain('maps stretched per image (--stretch)');
    expect(maxOf(join(dir, 'stretched'))).toBeCloseTo(1, 5);
  });
});
