import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { maskFromMap } from '../../../electron/annotate/cleanup.ts';
import { importAnnotations } from '../../../electron/annotate/formats/index.ts';
import { main } from '../../../electron/cli.ts';
import { parseThreshold } from '../../../electron/commands/export.ts';
import { readImage } from '../../../electron/data/image-io.ts';
import { Explainer } from '../../../electron/engine/explain.ts';
import { loadModel } from '../../../electron/engine/model-loader.ts';
import { CAM_LAYERS } from '../../../electron/engine/resnet-spec.ts';
import { FIXTURE_DIR } from '../helpers/fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'kizu-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const images = join(dir, 'images');
const model = join(FIXTURE_DIR, 'weights.safetensors');

beforeAll(async () => {
  mkdirSync(join(images, 'sub'), { recursive: true });
  for (let k = 0; k < 3; k++) {
    const raw = Buffer.alloc(64 * 48);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * (31 + k * 7) + k * 50) % 251;
    await sharp(raw, { raw: { width: 64, height: 48, channels: 1 } }).png().toFile(join(images, k === 2 ? 'sub/2.png' : `${k}.png`));
  }
});

afterEach(() => vi.restoreAllMocks());

describe('kizu export', () => {
  it('parses every threshold form and names the option on a bad one', () => {
    expect(parseThreshold('0.4')).toEqual({ kind: 'value', value: 0.4 });
    expect(parseThreshold('otsu')).toEqual({ kind: 'otsu' });
    expect(parseThreshold('max:0.6')).toEqual({ kind: 'fraction-of-max', fraction: 0.6 });
    expect(parseThreshold('top:2')).toEqual({ kind: 'top-percent', percent: 2 });
    expect(() => parseThreshold('1.5')).toThrow(/--threshold must be/);
    expect(() => parseThreshold('top:abc')).toThrow(/--threshold must be/);
  });

  it('writes COCO RLE whose masks are exactly the ones maskFromMap makes from the maps', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = join(dir, 'coco');
    const code = await main(['node', 'kizu', 'export', '--images', images, '--model', model, '--format', 'coco-rle', '--out', out,
      '--all', '--layer', 'fused', '--threshold', 'max:0.5', '--min-area', '4']);
    expect(code).toBe(0);
    const json = readFileSync(join(out, 'annotations/instances_default.json'), 'utf8');
    const coco = JSON.parse(json) as { images: { file_name: string }[]; annotations: { area: number; bbox: number[]; iscrowd: number; score: number }[] };
    expect(coco.images.map((i) => i.file_name).sort()).toEqual(['0.png', '1.png', 'sub/2.png']);
    expect(coco.annotations.length).toBeGreaterThan(0);
    for (const a of coco.annotations) {
      expect(a.area).toBeGreaterThanOrEqual(4);
      expect(a.bbox).toHaveLength(4);
    }

    const loaded = await loadModel(model);
    const explainer = Explainer.fromModel(loaded);
    loaded.net.dispose();
    const imported = importAnnotations('coco-rle', { 'annotations/instances_default.json': json });
    for (const name of ['0.png', 'sub/2.png']) {
      const image = await readImage(join(images, name));
      const result = await explainer.explain(image, { methods: ['layercam'], layers: CAM_LAYERS, fused: true });
      const { mask } = maskFromMap(result.maps.layercam!.fused!, { threshold: { kind: 'fraction-of-max', fraction: 0.5 }, cleanup: { minArea: 4, openRadius: 0, closeRadius: 0, fillHoles: true } });
      const back = imported.items.find((i) => i.fileName === name)!;
      expect([back.mask.width, back.mask.height]).toEqual([64, 48]);
      expect(Array.from(back.mask.data, (v) => (v ? 1 : 0))).toEqual(Array.from(mask.data));
    }
    explainer.dispose();
  });
});
