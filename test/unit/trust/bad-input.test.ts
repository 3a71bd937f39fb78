import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { importAnnotations } from '../../../electron/annotate/formats/index.ts';
import { main } from '../../../electron/cli.ts';
import { openDataset } from '../../../electron/data/datasets.ts';
import { ImageReadError, probeImage, readImage } from '../../../electron/data/image-io.ts';
import { loadModel } from '../../../electron/engine/model-loader.ts';
import { encodeSafetensors } from '../../../electron/engine/safetensors.ts';
import { tiff16 } from '../data/image-fixtures.ts';
import { FIXTURE_DIR, loadTinyFixture } from '../helpers/fixture.ts';
import { identityManifest } from '../helpers/tiny-model.ts';

/*
 * What a factory feeds Kizu: each kind of bad file is refused with what is wrong, which file,
 * and what to do; the awkward-but-valid ones (1x1, 16-bit TIFF, CMYK, EXIF-rotated, paths
 * with spaces and non-ASCII names) work; and a batch goes on past the bad ones, naming each.
 */

const tmp = mkdtempSync(join(tmpdir(), 'kizu bad input ü '));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const W = 64, H = 48;
// Smooth and asymmetric, so JPEG keeps it closely and a wrong turn or an unconverted ink shows.
const pattern = Buffer.from(Uint8Array.from({ length: W * H * 3 }, (_, i) => {
  const x = Math.floor(i / 3) % W, y = Math.floor(i / 3 / W), c = i % 3;
  return c === 0 ? x * 4 : c === 1 ? y * 5 : 40 + x + 2 * y;
}));
const rgb = () => sharp(pattern, { raw: { width: W, height: H, channels: 3 } });
const cut = (bytes: Buffer, fraction = 0.6) => bytes.subarray(0, Math.floor(bytes.length * fraction));

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/** A well-formed PNG whose header claims width x height, with a few KB of data: a decompression bomb's shape. */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc(4096))), pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A grey PNG of width x height whose rows hold nothing but their filter byte (so 0 wide is well-formed). */
function emptyRowsPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc(height * (width + 1)))), pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JPEG whose frame header claims width x height. */
async function jpegClaiming(width: number, height: number): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  let sof = 2;
  while (!(jpeg[sof] === 0xff && jpeg[sof + 1] === 0xc0)) sof++;
  jpeg.writeUInt16BE(height, sof + 5);
  jpeg.writeUInt16BE(width, sof + 7);
  return jpeg;
}

/** An uncompressed 8-bit grey TIFF with its directory before its strip (so a cut leaves the header whole). */
function tiffDirectoryFirst(width: number, height: number, data: Uint8Array): Buffer {
  const tags: [number, number, number][] = [[256, 4, width], [257, 4, height], [258, 3, 8], [259, 3, 1], [262, 3, 1], [273, 4, 0], [277, 3, 1], [278, 4, height], [279, 4, data.length]];
  const dataOffset = 8 + 2 + tags.length * 12 + 4;
  tags[5][2] = dataOffset;
  const buf = Buffer.alloc(dataOffset + data.length);
  buf.write('II', 0, 'ascii');
  buf.writeUInt16LE(42, 2);
  buf.writeUInt32LE(8, 4);
  buf.writeUInt16LE(tags.length, 8);
  tags.forEach(([tag, type, value], i) => {
    const o = 10 + i * 12;
    buf.writeUInt16LE(tag, o);
    buf.writeUInt16LE(type, o + 2);
    buf.writeUInt32LE(1, o + 4);
    if (type === 3) buf.writeUInt16LE(value, o + 8);
    else buf.writeUInt32LE(value, o + 8);
  });
  buf.set(data, dataOffset);
  return buf;
}

/** The bad files of the issue, each with the message it must get. */
async function badFiles(): Promise<[string, Buffer, RegExp][]> {
  const again = 'copy (it|the file) again from its source';
  return [
    ['empty.png', Buffer.alloc(0), new RegExp(`empty\\.png: file is empty \\(0 bytes\\); ${again}, or remove it$`)],
    ['cut.png', cut(await rgb().png().toBuffer()), new RegExp(`cut\\.png: truncated or corrupt .*; ${again}$`)],
    ['cut.jpg', cut(await rgb().jpeg().toBuffer()), new RegExp(`cut\\.jpg: truncated or corrupt .*; ${again}$`)],
    ['cut-lzw.tif', cut(await rgb().tiff({ compression: 'lzw' }).toBuffer()), new RegExp(`cut-lzw\\.tif: truncated or corrupt TIFF .*; ${again}$`)],
    ['cut-strip.tif', cut(tiffDirectoryFirst(W, H, pattern.subarray(0, W * H)), 0.4), new RegExp(`cut-strip\\.tif: truncated or corrupt image data \\(.*Read error.*\\); ${again}$`)],
    ['notes.png', Buffer.from('Lot 4711, line 2: all parts fine.\n'), /notes\.png: not an image, or not a format Kizu reads \(PNG, JPEG, BMP, TIFF\)$/],
    ['bomb.png', pngClaiming(50_000, 50_000), /bomb\.png: too many pixels: 50000x50000 = 2,500,000,000 exceeds the limit of 100,000,000; crop or downscale it$/],
    ['bomb.jpg', await jpegClaiming(65_000, 65_000), /bomb\.jpg: too many pixels: 65000x65000 = 4,225,000,000 exceeds the limit of 100,000,000; crop or downscale it$/],
  ];
}

/** Files that look odd but must work, with what they must give. */
async function awkwardFiles(): Promise<[string, Buffer, { width: number; height: number; channels: 1 | 3; bitDepth: 8 | 16 }][]> {
  const levels = Uint16Array.from({ length: W * H }, (_, i) => (i * 4099) % 65536);
  return [
    ['one pixel.png', await sharp({ create: { width: 1, height: 1, channels: 3, background: '#102030' } }).png().toBuffer(), { width: 1, height: 1, channels: 3, bitDepth: 8 }],
    ['deep 16-bit.tif', tiff16(W, H, 1, levels), { width: W, height: H, channels: 1, bitDepth: 16 }],
    ['cmyk.jpg', await rgb().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(), { width: W, height: H, channels: 3, bitDepth: 8 }],
    ['rotated.jpg', await rgb().rotate(-90).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer(), { width: W, height: H, channels: 3, bitDepth: 8 }],
    ['検査 ü.png', await rgb().png().toBuffer(), { width: W, height: H, channels: 3, bitDepth: 8 }],
  ];
}

describe('bad images: what is wrong, which file, what to do', () => {
  const dir = join(tmp, 'bad images');
  let cases: [string, Buffer, RegExp][];
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    cases = await badFiles();
    for (const [name, bytes] of cases) writeFileSync(join(dir, name), bytes);
  });

  it('readImage refuses each with an ImageReadError naming the file', async () => {
    for (const [name, , message] of cases) {
      const err = await readImage(join(dir, name)).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(ImageReadError);
      expect((err as ImageReadError).path).toBe(join(dir, name));
      expect((err as Error).message, name).toMatch(message);
      expect((err as Error).message.startsWith(`${join(dir, name)}: `)).toBe(true);
    }
  });

  it('probeImage refuses the bombs from their headers, and the files it cannot open, the same way', async () => {
    for (const [name, , message] of cases.filter(([n]) => n.startsWith('bomb') || n === 'empty.png' || n === 'notes.png' || n === 'cut-lzw.tif')) {
      await expect(probeImage(join(dir, name)), name).rejects.toThrow(message);
    }
  });
});

describe('awkward images that must work', () => {
  const dir = join(tmp, 'ライン 2 (夜勤)');
  let cases: Awaited<ReturnType<typeof awkwardFiles>>;
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    cases = await awkwardFiles();
    for (const [name, bytes] of cases) writeFileSync(join(dir, name), bytes);
  });

  it('reads a 1x1 image, a 16-bit TIFF, a CMYK JPEG, an EXIF-rotated JPEG and a non-ASCII name in a folder with spaces', async () => {
    for (const [name, , expected] of cases) {
      expect(await readImage(join(dir, name)), name).toMatchObject(expected);
      expect(await probeImage(join(dir, name)), name).toMatchObject(expected);
    }
  });

  it('keeps every level of the 16-bit TIFF, turns CMYK into the right RGB, and turns the rotated JPEG upright', async () => {
    const deep = await readImage(join(dir, 'deep 16-bit.tif'));
    expect(Array.from(deep.data.subarray(0, 5), (v) => Math.round(v * 65535))).toEqual([0, 4099, 8198, 12297, 16396]);
    const reference = await readImage(join(dir, '検査 ü.png'));
    // CMYK goes through a colour profile and back, a little further from the original than JPEG alone.
    for (const [name, tolerance] of [['cmyk.jpg', 0.06], ['rotated.jpg', 0.02]] as const) {
      const img = await readImage(join(dir, name));
      let error = 0;
      for (let i = 0; i < img.data.length; i++) error += Math.abs(img.data[i] - reference.data[i]);
      // A wrong turn or an unconverted ink is off by tens of levels on average.
      expect(error / img.data.length, name).toBeLessThan(tolerance);
    }
  });
});

describe('a batch carries on past bad files and names each one', () => {
  it('kizu export annotates every good image and reports every bad one with its reason, exiting 1', async () => {
    const folder = join(tmp, 'line 3 — 検査');
    const out = join(tmp, 'export out');
    mkdirSync(folder, { recursive: true });
    const bad = await badFiles();
    const good = await awkwardFiles();
    for (const [name, bytes] of [...bad, ...good]) writeFileSync(join(folder, name), bytes);
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
    const code = await main(['node', 'kizu', 'export', '--images', folder, '--model', join(FIXTURE_DIR, 'weights.safetensors'),
      '--format', 'coco', '--out', out, '--all', '--layer', 'layer3', '--threshold', 'otsu']);
    expect(code).toBe(1);
    const log = stderr.join('');
    for (const [name, , message] of bad) {
      const line = log.split('\n').find((l) => l.includes(join(folder, name)));
      expect(line, name).toBeDefined();
      expect(line!.replace(/^kizu export: /, ''), name).toMatch(message);
      // Named once, not twice.
      expect(line!.split(join(folder, name)).length, name).toBe(2);
    }
    expect(log).toMatch(new RegExp(`${good.length} annotated image\\(s\\) as coco .*; ${bad.length} failed and were left out \\(each named above\\): fix or remove them and run again`));
    const coco = JSON.parse(readFileSync(join(out, 'annotations', 'instances_default.json'), 'utf8')) as { images: { file_name: string; width: number; height: number }[] };
    expect(coco.images.map((i) => [i.file_name, i.width, i.height]).sort()).toEqual(good.map(([name, , e]) => [name, e.width, e.height]).sort());
  });
});

describe('bad models: the file and the field or tensor at fault', async () => {
  const fixture = await loadTinyFixture();
  const manifest = identityManifest(fixture);
  const weights = readFileSync(join(FIXTURE_DIR, 'weights.safetensors'));

  function modelDir(name: string, manifestText: string, weightBytes: Uint8Array = weights): string {
    const dir = join(tmp, 'models', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), manifestText);
    writeFileSync(join(dir, 'weights.safetensors'), weightBytes);
    return dir;
  }

  it('a manifest that is not JSON', async () => {
    const dir = modelDir('not-json', '{"format": "kizu-model", "name": ');
    await expect(loadModel(dir)).rejects.toThrow(new RegExp(`${join(dir, 'manifest.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the model manifest is not JSON`));
  });

  it('a manifest with wrong or missing fields names each one', async () => {
    const { weights: _dropped, ...withoutWeights } = manifest;
    const dir = modelDir('bad-fields', JSON.stringify({ ...withoutWeights, defectClass: 7, inputChannels: 2 }));
    const err = (await loadModel(dir).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/manifest\.json: invalid model manifest: /);
    expect(err.message).toMatch(/inputChannels: /);
    expect(err.message).toMatch(/weights: /);
  });

  it('truncated weights name the weights file and say so', async () => {
    const dir = modelDir('truncated', JSON.stringify(manifest), weights.subarray(0, weights.length - 1000));
    await expect(loadModel(dir)).rejects.toThrow(/weights\.safetensors: not a valid \.safetensors file: tensor "[\w.]+" ends at byte \d+ but the data has only \d+ bytes \(truncated\?\)/);
  });

  it('a .safetensors with a tensor of the wrong shape names the tensor and both shapes', async () => {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, t] of fixture.weights.tensors) {
      if (t.dtype !== 'F32') continue;
      const shape = name === 'layer1.0.conv2.weight' ? [t.shape[0], t.shape[1], 5, 5] : t.shape;
      tensors.set(name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    }
    const path = join(tmp, 'models', 'wrong shapes.safetensors');
    writeFileSync(path, encodeSafetensors(tensors, 'F32'));
    await expect(loadModel(path)).rejects.toThrow(/wrong shapes\.safetensors: tensor "layer1\.0\.conv2\.weight" has shape \[\d+,\d+,5,5\] but the model needs \[\d+,\d+,3,3\]/);
  });

  it('a text file named .safetensors', async () => {
    const path = join(tmp, 'models', 'notes.safetensors');
    writeFileSync(path, 'these are not weights');
    await expect(loadModel(path)).rejects.toThrow(/notes\.safetensors: not a valid \.safetensors file/);
  });
});

describe('annotation files claiming impossible sizes (found by the fuzz test)', () => {
  it('are refused before anything is allocated, naming the file', () => {
    const labelme = JSON.stringify({ shapes: [], imagePath: 'a.png', imageWidth: 100_000, imageHeight: 100_000 });
    expect(() => importAnnotations('labelme', { 'line 1/a.json': labelme })).toThrow('line 1/a.json: size 100000x100000 is over the limit of 100,000,000 pixels');
    const coco = JSON.stringify({ images: [{ id: 3, file_name: 'a.png', width: 60_000, height: 60_000 }], categories: [], annotations: [] });
    expect(() => importAnnotations('coco', { 'annotations/instances_default.json': coco })).toThrow('annotations/instances_default.json: image 3: size 60000x60000 is over the limit');
  });

  it('a mask PNG with no columns is refused naming the file', () => {
    expect(() => importAnnotations('png', { 'masks/a.png': new Uint8Array(emptyRowsPng(0, 32)) })).toThrow(/^masks\/a\.png: /);
  });
});

describe('bad label files: the file and the line, the rest still read', () => {
  const png = async () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toBuffer();

  it('a Labels.txt with garbage lines: each reported by line, the good rows kept', async () => {
    const split = join(tmp, 'dagm', 'Class1', 'Train');
    mkdirSync(join(split, 'Label'), { recursive: true });
    for (const f of ['0000.PNG', '0001.PNG', '0002.PNG']) writeFileSync(join(split, f), await png());
    writeFileSync(join(split, 'Label', '0001_label.PNG'), await png());
    const labels = join(split, 'Label', 'Labels.txt');
    writeFileSync(labels, Buffer.concat([
      Buffer.from('1\n1\t0\t0000.PNG\t0\t0\n'),
      Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0x0a]),
      Buffer.from('2\t1\t0001.PNG\t0\t0001_label.PNG\nthree\tdefect\t0002.PNG\n'),
    ]));
    const ds = await openDataset(join(tmp, 'dagm'), { checkImages: false });
    expect(ds.items.map((i) => [i.path, i.isDefect])).toEqual([[join(split, '0000.PNG'), false], [join(split, '0001.PNG'), true]]);
    expect(ds.problems.map((p) => p.where)).toEqual(expect.arrayContaining([`${labels}:3`, `${labels}:5`]));
  });

  it('a CSV that cannot be parsed names the file and the line', async () => {
    const csv = join(tmp, 'csv', 'labels.csv');
    mkdirSync(join(tmp, 'csv'), { recursive: true });
    writeFileSync(join(tmp, 'csv', 'a.png'), await png());
    writeFileSync(csv, 'path,label\na.png,ok\n"b.png,defect\nc.png,ok\n');
    await expect(openDataset(csv)).rejects.toThrow(/labels\.csv: not a readable CSV \(.*line/i);
    writeFileSync(csv, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a, 0x80]));
    await expect(openDataset(csv)).rejects.toThrow(/labels\.csv: /);
  });
});
