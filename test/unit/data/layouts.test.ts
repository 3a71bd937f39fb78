import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError, detectDatasetFormat, openDataset, type DatasetItem } from '../../../electron/data/datasets.ts';
import { applySeededSplit, borrowTestDefects } from '../../../electron/data/seeded-split.ts';
import { datasetSplitSchema } from '../../../electron/data/split-record.ts';
import { splitTrainVal } from '../../../electron/engine/train/sampler.ts';
import { readMaskBits } from '../../../electron/data/mask-reader.ts';
import { bmp8 } from './image-fixtures.ts';

// Small trees in each layout the readers know, built with sharp in a temporary folder.

let root: string;
beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'kizu-layouts-')); });
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

async function put(path: string, content: Buffer | string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  return path;
}

/** A grey image, or a mask when `mark` is set: 0 everywhere but a `mark`-valued square. */
function grey(width: number, height: number, fill: number, mark?: number): Sharp {
  const raw = Buffer.alloc(width * height, fill);
  if (mark !== undefined) for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) raw[y * width + x] = mark;
  return sharp(raw, { raw: { width, height, channels: 1 } });
}
const png = (w: number, h: number, fill: number, mark?: number) => grey(w, h, fill, mark).png().toBuffer();
const jpg = (w: number, h: number, fill: number) => grey(w, h, fill).jpeg().toBuffer();
const mask = (w: number, h: number, value = 255) => png(w, h, 0, value);
const emptyMask = (w: number, h: number) => png(w, h, 0);
function labelBmp(w: number, h: number, marked: boolean): Buffer {
  const px = new Uint8Array(w * h);
  if (marked) px.fill(1, 0, w * 2);
  return bmp8(w, h, px, [[0, 0, 0], [255, 255, 255]]);
}

/** Items without their seeded split, for comparing what a reader found. */
const found = (items: DatasetItem[]) => items.map(({ split: _, ...rest }) => rest);

describe('MVTec AD layout', () => {
  let cat: string;
  beforeAll(async () => {
    cat = join(root, 'mvtec', 'bottle');
    await put(join(cat, 'train', 'good', '000.png'), await png(16, 16, 100));
    await put(join(cat, 'train', 'good', '001.png'), await png(16, 16, 110));
    await put(join(cat, 'test', 'good', '000.png'), await png(16, 16, 100));
    await put(join(cat, 'test', 'broken_large', '000.png'), await png(16, 16, 120));
    await put(join(cat, 'test', 'broken_large', '001.png'), await png(16, 16, 120));
    await put(join(cat, 'test', 'contamination', '000.png'), await png(16, 16, 130));
    await put(join(cat, 'ground_truth', 'broken_large', '000_mask.png'), await mask(16, 16));
    await put(join(cat, 'ground_truth', 'broken_large', '001_mask.png'), await mask(16, 16));
    // contamination/000 has no mask: reported, kept.
    const other = join(root, 'mvtec', 'screw');
    await put(join(other, 'train', 'good', '000.png'), await png(16, 16, 90));
    await put(join(other, 'test', 'good', '000.png'), await png(16, 16, 90));
    await put(join(other, 'test', 'scratch_neck', '000.png'), await png(16, 16, 95));
    await put(join(other, 'ground_truth', 'scratch_neck', '000_mask.png'), await mask(16, 16));
  });

  it('reads train/good, test/good and test/<kind> with ground_truth masks, kinds kept as kinds', async () => {
    expect(await detectDatasetFormat(cat)).toBe('mvtec');
    const ds = await openDataset(cat);
    expect(ds.format).toBe('mvtec');
    // train/ holds no defect: one of broken_large's two moves to training; contamination's only one stays in test.
    expect(ds.split).toMatchObject({ policy: 'layout', defectsForTraining: { seed: 0, fraction: 0.5, moved: 1 } });
    const gt = join(cat, 'ground_truth', 'broken_large');
    expect(ds.items).toEqual([
      { path: join(cat, 'train', 'good', '000.png'), label: 'good', isDefect: false, split: 'train' },
      { path: join(cat, 'train', 'good', '001.png'), label: 'good', isDefect: false, split: 'train' },
      { path: join(cat, 'test', 'broken_large', '000.png'), label: 'broken_large', isDefect: true, split: 'test', defectKind: 'broken_large', maskPath: join(gt, '000_mask.png') },
      { path: join(cat, 'test', 'broken_large', '001.png'), label: 'broken_large', isDefect: true, split: 'train', defectKind: 'broken_large', maskPath: join(gt, '001_mask.png') },
      { path: join(cat, 'test', 'contamination', '000.png'), label: 'contamination', isDefect: true, split: 'test', defectKind: 'contamination' },
      { path: join(cat, 'test', 'good', '000.png'), label: 'good', isDefect: false, split: 'test' },
    ]);
    expect(ds.problems).toEqual([{
      where: join(cat, 'test', 'contamination', '000.png'),
      message: 'no mask in ground_truth/contamination/ (looked for 000_mask.png); kept without a mask',
    }]);
  });

  it('reads the root of several categories, each one a group', async () => {
    const ds = await openDataset(join(root, 'mvtec'));
    expect(ds.format).toBe('mvtec');
    expect(new Set(ds.items.map((i) => i.group))).toEqual(new Set(['bottle', 'screw']));
    expect(ds.items.filter((i) => i.group === 'screw' && i.isDefect).map((i) => i.defectKind)).toEqual(['scratch_neck']);
  });

  it('fails naming the image and both sizes when a mask has another size', async () => {
    const bad = join(root, 'mvtec-bad', 'pill');
    await put(join(bad, 'train', 'good', '000.png'), await png(16, 16, 100));
    await put(join(bad, 'test', 'crack', '000.png'), await png(16, 16, 100));
    await put(join(bad, 'ground_truth', 'crack', '000_mask.png'), await mask(8, 8));
    await expect(openDataset(bad)).rejects.toThrow(`${join(bad, 'test', 'crack', '000.png')}: image is 16x16 but its mask ${join(bad, 'ground_truth', 'crack', '000_mask.png')} is 8x8`);
  });
});

describe('images with masks beside them', () => {
  let set: string;
  beforeAll(async () => {
    set = join(root, 'beside');
    await put(join(set, 'good', 'a.jpg'), await jpg(16, 12, 100));
    await put(join(set, 'good', 'a2.jpg'), await jpg(16, 12, 100));
    await put(join(set, 'good', 'a2.png'), await emptyMask(16, 12));
    // <stem>.png beside a .jpg; one of them all zero, which makes an OK image.
    await put(join(set, 'scratch', 'b.jpg'), await jpg(16, 12, 100));
    await put(join(set, 'scratch', 'b.png'), await mask(16, 12));
    await put(join(set, 'scratch', 'c.jpg'), await jpg(16, 12, 100));
    await put(join(set, 'scratch', 'c.png'), await emptyMask(16, 12));
    // <stem>_mask.* and <stem>_label.*, masks as 0/1 class indices.
    await put(join(set, 'dent', 'd.png'), await png(16, 12, 100));
    await put(join(set, 'dent', 'd_mask.png'), await mask(16, 12, 1));
    await put(join(set, 'dent', 'e.bmp'), bmp8(16, 12, new Uint8Array(16 * 12).fill(1), [[0, 0, 0], [99, 99, 99]]));
    await put(join(set, 'dent', 'e_label.bmp'), labelBmp(16, 12, true));
    await put(join(set, 'dent', 'stray_mask.png'), await mask(16, 12));
    // A sibling masks/ folder mirroring the label folders, and a GT/ folder beside images/.
    await put(join(set, 'hole', 'f.png'), await png(16, 12, 100));
    await put(join(set, 'masks', 'hole', 'f.png'), await mask(16, 12));
    await put(join(set, 'crack', 'images', 'g.jpg'), await jpg(16, 12, 100));
    await put(join(set, 'crack', 'GT', 'g.png'), await mask(16, 12));
    await put(join(set, 'crack', 'images', 'h.jpg'), await jpg(16, 12, 100));
  });

  it('finds each mask by its convention, keeps defect kinds, and makes an all-zero mask an OK image', async () => {
    expect(await detectDatasetFormat(set)).toBe('folders');
    const ds = await openDataset(set);
    expect(found(ds.items)).toEqual([
      { path: join(set, 'crack', 'images', 'g.jpg'), label: 'crack', isDefect: true, defectKind: 'crack', maskPath: join(set, 'crack', 'GT', 'g.png') },
      { path: join(set, 'crack', 'images', 'h.jpg'), label: 'crack', isDefect: true, defectKind: 'crack' },
      { path: join(set, 'dent', 'd.png'), label: 'dent', isDefect: true, defectKind: 'dent', maskPath: join(set, 'dent', 'd_mask.png') },
      { path: join(set, 'dent', 'e.bmp'), label: 'dent', isDefect: true, defectKind: 'dent', maskPath: join(set, 'dent', 'e_label.bmp') },
      { path: join(set, 'good', 'a.jpg'), label: 'good', isDefect: false },
      { path: join(set, 'good', 'a2.jpg'), label: 'good', isDefect: false, maskPath: join(set, 'good', 'a2.png') },
      { path: join(set, 'hole', 'f.png'), label: 'hole', isDefect: true, defectKind: 'hole', maskPath: join(set, 'masks', 'hole', 'f.png') },
      { path: join(set, 'scratch', 'b.jpg'), label: 'scratch', isDefect: true, defectKind: 'scratch', maskPath: join(set, 'scratch', 'b.png') },
      { path: join(set, 'scratch', 'c.jpg'), label: 'scratch', isDefect: false, maskPath: join(set, 'scratch', 'c.png') },
    ]);
    expect(ds.problems).toEqual([
      { where: join(set, 'dent', 'stray_mask.png'), message: 'named like a mask but no image of its name is beside it; ignored' },
    ]);
  });

  it('takes the OK folder from --ok-label (Magnetic-tile style: MT_Free, MT_<kind>/Imgs)', async () => {
    const mt = join(root, 'magnetic');
    await put(join(mt, 'MT_Free', 'Imgs', 'p1.jpg'), await jpg(16, 12, 100));
    await put(join(mt, 'MT_Free', 'Imgs', 'p1.png'), await emptyMask(16, 12));
    await put(join(mt, 'MT_Crack', 'Imgs', 'p2.jpg'), await jpg(16, 12, 100));
    await put(join(mt, 'MT_Crack', 'Imgs', 'p2.png'), await mask(16, 12));
    await expect(openDataset(mt)).rejects.toThrow(/no usable images.*unknown label/);
    const ds = await openDataset(mt, { okLabel: 'mt_free' });
    expect(found(ds.items).map((i) => [i.label, i.isDefect, i.defectKind])).toEqual([['MT_Crack', true, 'MT_Crack'], ['MT_Free', false, undefined]]);
    await expect(openDataset(mt, { okLabel: 'MT_Good' })).rejects.toThrow(/no folder 'MT_Good' for the OK images \(folders found: mt_crack, mt_free\)/);
  });

  it('reports a marked mask in the OK folder and keeps the image OK without it', async () => {
    const dir = join(root, 'ok-marked');
    await put(join(dir, 'ok', 'x.png'), await png(16, 12, 100));
    await put(join(dir, 'ok', 'x_mask.png'), await mask(16, 12));
    await put(join(dir, 'ng', 'y.png'), await png(16, 12, 100));
    const ds = await openDataset(dir);
    expect(found(ds.items).find((i) => i.path.endsWith('x.png'))).toEqual({ path: join(dir, 'ok', 'x.png'), label: 'ok', isDefect: false });
    expect(ds.problems).toEqual([{ where: join(dir, 'ok', 'x_mask.png'), message: `the mask marks a defect but ${join(dir, 'ok', 'x.png')} is in the OK folder 'ok'; kept as OK, without the mask` }]);
  });

  it('fails clearly on a JPEG set whose PNG masks have another size, naming the image and both sizes', async () => {
    const dir = join(root, 'jpeg-other-size');
    await put(join(dir, 'ok', 'a.jpg'), await jpg(32, 24, 100));
    await put(join(dir, 'defect', 'b.jpg'), await jpg(32, 24, 100));
    await put(join(dir, 'defect', 'b.png'), await mask(16, 12));
    const err = await openDataset(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toBe(`${join(dir, 'defect', 'b.jpg')}: image is 32x24 but its mask ${join(dir, 'defect', 'b.png')} is 16x12; masks must have their image's size`);
  });
});

describe('part folders with labelled masks', () => {
  it('reads <part>/<name>.jpg|.bmp with <name>_label.bmp, the mask saying OK or defect', async () => {
    const dir = join(root, 'kolektor');
    await put(join(dir, 'kos01', 'Part0.jpg'), await jpg(16, 24, 100));
    await put(join(dir, 'kos01', 'Part0_label.bmp'), labelBmp(16, 24, true));
    await put(join(dir, 'kos01', 'Part1.jpg'), await jpg(16, 24, 100));
    await put(join(dir, 'kos01', 'Part1_label.bmp'), labelBmp(16, 24, false));
    await put(join(dir, 'kos02', 'Part0.bmp'), bmp8(16, 24, new Uint8Array(16 * 24).fill(1), [[0, 0, 0], [80, 80, 80]]));
    await put(join(dir, 'kos02', 'Part0_label.bmp'), labelBmp(16, 24, false));
    expect(await detectDatasetFormat(dir)).toBe('parts');
    const ds = await openDataset(dir);
    expect(ds.format).toBe('parts');
    expect(found(ds.items)).toEqual([
      { path: join(dir, 'kos01', 'Part0.jpg'), label: 'defect', isDefect: true, group: 'kos01', maskPath: join(dir, 'kos01', 'Part0_label.bmp') },
      { path: join(dir, 'kos01', 'Part1.jpg'), label: 'ok', isDefect: false, group: 'kos01', maskPath: join(dir, 'kos01', 'Part1_label.bmp') },
      { path: join(dir, 'kos02', 'Part0.bmp'), label: 'ok', isDefect: false, group: 'kos02', maskPath: join(dir, 'kos02', 'Part0_label.bmp') },
    ]);
    expect(ds.problems).toEqual([]);
  });

  it('takes train/ and test/ part folders as the split (KolektorSDD2: <name>_GT.png)', async () => {
    const dir = join(root, 'ksdd2');
    await put(join(dir, 'train', '10000.png'), await png(16, 24, 100));
    await put(join(dir, 'train', '10000_GT.png'), await mask(16, 24));
    await put(join(dir, 'train', '10001.png'), await png(16, 24, 100));
    await put(join(dir, 'train', '10001_GT.png'), await emptyMask(16, 24));
    await put(join(dir, 'test', '20000.png'), await png(16, 24, 100));
    await put(join(dir, 'test', '20000_GT.png'), await mask(16, 24));
    const ds = await openDataset(dir);
    expect(ds.format).toBe('parts');
    expect(ds.split).toEqual({ policy: 'layout' });
    expect(ds.items.map((i) => [i.split, i.isDefect])).toEqual([['test', true], ['train', true], ['train', false]]);
  });

  it('is not taken for part folders when a folder is named as a label', async () => {
    const dir = join(root, 'labelled-folders');
    await put(join(dir, 'defect', 'a.jpg'), await jpg(16, 24, 100));
    await put(join(dir, 'defect', 'a_label.bmp'), labelBmp(16, 24, true));
    await put(join(dir, 'ok', 'b.jpg'), await jpg(16, 24, 100));
    await put(join(dir, 'ok', 'b_label.bmp'), labelBmp(16, 24, false));
    expect(await detectDatasetFormat(dir)).toBe('folders');
  });
});

describe('seeded split where the layout has none', () => {
  let dir: string;
  beforeAll(async () => {
    dir = join(root, 'to-split');
    const img = await png(8, 8, 100);
    for (let i = 0; i < 20; i++) await put(join(dir, 'ok', `ok${i}.png`), img);
    for (let i = 0; i < 10; i++) await put(join(dir, 'scratch', `s${i}.png`), img);
    for (let i = 0; i < 5; i++) await put(join(dir, 'dent', `d${i}.png`), img);
    await put(join(dir, 'lone', 'l0.png'), img);
  });

  it('splits each kind by the seed, the same every time, a fifth to test, recorded for the manifest', async () => {
    const a = await openDataset(dir, { okLabel: 'ok' });
    const b = await openDataset(dir, { okLabel: 'ok' });
    expect(a.items.map((i) => i.split)).toEqual(b.items.map((i) => i.split));
    const tests = (kind: string | undefined) => a.items.filter((i) => i.defectKind === kind && i.split === 'test').length;
    expect([tests(undefined), tests('scratch'), tests('dent'), tests('lone')]).toEqual([4, 2, 1, 0]);
    const record = datasetSplitSchema.parse(a.split);
    expect(record).toMatchObject({ policy: 'seeded', seed: 0, testFraction: 0.2, stratifiedBy: 'kind', train: 29, test: 7 });
    expect(b.split).toEqual(a.split);
    const other = await openDataset(dir, { okLabel: 'ok', split: { seed: 7 } });
    expect(other.split).toMatchObject({ seed: 7, itemsDigest: (record as { itemsDigest: string }).itemsDigest });
    expect(other.items.map((i) => i.split)).not.toEqual(a.items.map((i) => i.split));
  });

  it('keeps each image on its side when the items come in another order', () => {
    const items = (): DatasetItem[] => Array.from({ length: 30 }, (_, i) => ({ path: `/d/ok/${i}.png`, label: 'ok', isDefect: false }));
    const forward = items(), backward = items().reverse();
    const r1 = applySeededSplit('/d', forward), r2 = applySeededSplit('/d', backward);
    expect(r1).toEqual(r2);
    const side = (list: DatasetItem[]) => Object.fromEntries(list.map((i) => [i.path, i.split]));
    expect(side(backward)).toEqual(side(forward));
  });

  it('keeps every view on one side of the test split and of the validation split, where a CSV names views', async () => {
    const csvDir = join(root, 'csv-views');
    const img = await png(8, 8, 100);
    const rows = ['path,label,view'];
    // Ten views photographed six times each, a defect on every other photograph, and four lone images.
    for (let v = 0; v < 10; v++) {
      for (let t = 0; t < 6; t++) {
        await put(join(csvDir, `v${v}-t${t}.png`), img);
        rows.push(`v${v}-t${t}.png,${t % 2 ? 'defect' : 'ok'},pos${v}`);
      }
    }
    for (let i = 0; i < 4; i++) {
      await put(join(csvDir, `lone${i}.png`), img);
      rows.push(`lone${i}.png,ok,`);
    }
    const csv = await put(join(csvDir, 'list.csv'), `${rows.join('\n')}\n`);
    const ds = await openDataset(csv);
    expect(ds.items.filter((i) => i.view !== undefined)).toHaveLength(60);
    const sides = (list: Array<{ view?: string; side: string }>) => {
      const byView = new Map<string, Set<string>>();
      for (const { view, side } of list) if (view !== undefined) byView.set(view, (byView.get(view) ?? new Set()).add(side));
      return [...byView.values()].map((s) => s.size);
    };
    expect(sides(ds.items.map((i) => ({ view: i.view, side: i.split! })))).toEqual(Array(10).fill(1));
    const test = ds.items.filter((i) => i.split === 'test').length;
    expect(test).toBeGreaterThanOrEqual(Math.round(64 * 0.2));
    expect(test).toBeLessThan(Math.round(64 * 0.2) + 6);
    expect(datasetSplitSchema.parse(ds.split)).toMatchObject({ policy: 'seeded', groupedBy: 'view', test });
    const training = ds.items.filter((i) => i.split === 'train');
    const { train, val } = splitTrainVal(training.map((item, index) => ({ index, isDefect: item.isDefect, view: item.view })), 0.15, 0);
    expect(val.length).toBeGreaterThan(0);
    expect(train.length + val.length).toBe(training.length);
    const valSet = new Set(val);
    expect(sides(training.map((item, index) => ({ view: item.view, side: valSet.has(index) ? 'val' : 'train' })))).toEqual(Array(new Set(training.map((i) => i.view).filter(Boolean)).size).fill(1));
    // Without views the split is by image, stratified by kind, as before.
    const plain = await openDataset(await put(join(csvDir, 'plain.csv'), `${rows.map((r) => r.split(',').slice(0, 2).join(',')).join('\n')}\n`));
    expect(plain.split).not.toHaveProperty('groupedBy');
    // A pattern names only the images the view column left without one.
    const both = await openDataset(csv, { viewPattern: '(lone)\\d' });
    expect(both.items.filter((i) => i.view === 'lone')).toHaveLength(4);
    expect(both.items.filter((i) => i.view?.startsWith('pos'))).toHaveLength(60);
  });

  it('names views from the file names with a view pattern, keeps them whole in a folder layout\'s seeded split, and says what was wrong with a bad pattern', async () => {
    const dir = join(root, 'folders-views');
    const img = await png(8, 8, 100);
    // Eight part positions photographed five times each: a folder layout cannot say which photos show one position.
    for (let v = 0; v < 8; v++) {
      for (let t = 0; t < 5; t++) await put(join(dir, t % 2 ? 'defect' : 'ok', `pos${v}_shot${t}.png`), img);
    }
    const viewPattern = '(pos\\d+)_shot';
    const ds = await openDataset(dir, { viewPattern });
    expect(new Set(ds.items.map((i) => i.view))).toEqual(new Set(Array.from({ length: 8 }, (_, v) => `pos${v}`)));
    for (let v = 0; v < 8; v++) expect(new Set(ds.items.filter((i) => i.view === `pos${v}`).map((i) => i.split)).size).toBe(1);
    expect(ds.split).toMatchObject({ policy: 'seeded', groupedBy: 'view', viewPattern, test: 10 });
    const byImage = await openDataset(dir);
    expect(byImage.split).not.toHaveProperty('viewPattern');
    expect(byImage.items.some((i) => i.split === 'test' && ds.items.find((j) => j.path === i.path)!.split === 'train')).toBe(true);
    // Several capture groups join with '_'.
    expect((await openDataset(dir, { viewPattern: '(pos\\d+)_shot(\\d)' })).items.find((i) => i.path.endsWith('pos3_shot4.png'))!.view).toBe('pos3_4');
    await expect(openDataset(dir, { viewPattern: '(pos' })).rejects.toThrow(/--view-pattern "\(pos" is not a regular expression/);
    await expect(openDataset(dir, { viewPattern: 'camera\\d' })).rejects.toThrow(/matches none of the 40 images' paths \(the first image's path is "(ok|defect)\/pos\d_shot\d\.png"\)/);
  });

  it('reads a CSV kind column for defective rows', async () => {
    const csvDir = join(root, 'csv-kind');
    const img = await png(8, 8, 100);
    await put(join(csvDir, 'a.png'), img);
    await put(join(csvDir, 'b.png'), img);
    const csv = await put(join(csvDir, 'list.csv'), 'path,label,kind,split\na.png,ok,,train\nb.png,defect,scratch,test\n');
    const ds = await openDataset(csv);
    expect(ds.items.map((i) => i.defectKind)).toEqual([undefined, 'scratch']);
    expect(ds.split).toEqual({ policy: 'layout' });
  });
});

describe('a layout whose training split has no defect (MVTec AD)', () => {
  const item = (path: string, split: 'train' | 'test', kind?: string): DatasetItem => ({ path: join('/set', path), label: kind ?? 'good', isDefect: kind !== undefined, split, defectKind: kind });
  const items = () => [
    item('train/good/0.png', 'train'), item('test/good/0.png', 'test'),
    ...Array.from({ length: 10 }, (_, i) => item(`test/crack/${i}.png`, 'test', 'crack')),
    ...Array.from({ length: 5 }, (_, i) => item(`test/stain/${i}.png`, 'test', 'stain')),
  ];

  it('moves a seeded half of each kind\'s test defects to training, the same every time, OK images untouched', () => {
    const a = items(), b = items().reverse();
    const record = borrowTestDefects('/set', a);
    expect(record).toMatchObject({ policy: 'layout', defectsForTraining: { moved: 5 + 3, fraction: 0.5 } });
    expect(datasetSplitSchema.parse(record)).toEqual(record);
    expect(borrowTestDefects('/set', b)).toEqual(record);
    const trained = (xs: DatasetItem[]) => xs.filter((i) => i.isDefect && i.split === 'train').map((i) => i.path).sort();
    expect(trained(a)).toEqual(trained(b));
    expect(a.filter((i) => i.defectKind === 'crack' && i.split === 'test')).toHaveLength(5);
    expect(a.filter((i) => i.defectKind === 'stain' && i.split === 'test')).toHaveLength(2);
    expect(a.filter((i) => !i.isDefect).map((i) => i.split)).toEqual(['train', 'test']);
    expect(borrowTestDefects('/set', items(), { seed: 1 }).defectsForTraining!.movedDigest).not.toBe(record.defectsForTraining!.movedDigest);
  });

  it('keeps the layout as it is when training already has defects', () => {
    const xs = [...items(), item('train/crack/9.png', 'train', 'crack')];
    expect(borrowTestDefects('/set', xs)).toEqual({ policy: 'layout' });
    expect(xs.filter((i) => i.split === 'test' && i.isDefect)).toHaveLength(15);
    const testOnly = items().filter((i) => i.split === 'test');
    expect(borrowTestDefects('/set', testOnly)).toEqual({ policy: 'layout' });
  });
});

describe('images with LabelMe annotations (BSData: data/ and label/)', () => {
  let set: string;
  const labelme = (imagePath: string, shapes: Array<{ label: string; points: number[][] }>) =>
    JSON.stringify({ version: '4.5.6', flags: {}, shapes: shapes.map((s) => ({ ...s, group_id: null, shape_type: 'polygon', flags: {} })), imagePath, imageData: null, imageHeight: 12, imageWidth: 20 });
  beforeAll(async () => {
    set = join(root, 'labelme');
    await put(join(set, 'data', 'a.jpg'), await jpg(20, 12, 100));
    await put(join(set, 'data', 'b.jpg'), await jpg(20, 12, 110));
    await put(join(set, 'data', 'c.jpg'), await jpg(20, 12, 120));
    await put(join(set, 'label', 'a.json'), labelme('a.jpg', [{ label: 'Pitting', points: [[2, 2], [8, 2], [8, 6], [2, 6]] }]));
    await put(join(set, 'label', 'c.json'), labelme('..\\data\\c.jpg', []));
  });

  it('reads an image with shapes as defective, its JSON as its mask, and one without shapes or JSON as OK', async () => {
    expect(await detectDatasetFormat(set)).toBe('labelme');
    const ds = await openDataset(set);
    expect(ds.format).toBe('labelme');
    expect(found(ds.items)).toEqual([
      { path: join(set, 'data', 'a.jpg'), label: 'defect', isDefect: true, maskPath: join(set, 'label', 'a.json'), defectKind: 'Pitting' },
      { path: join(set, 'data', 'b.jpg'), label: 'ok', isDefect: false },
      { path: join(set, 'data', 'c.jpg'), label: 'ok', isDefect: false },
    ]);
    expect(ds.split?.policy).toBe('seeded');
  });

  it('draws the polygons as the mask, at the image\'s size, and refuses another size', async () => {
    const bits = await readMaskBits(join(set, 'label', 'a.json'), 20, 12);
    expect(bits.reduce((a, b) => a + b, 0)).toBe(7 * 5);
    expect(bits[3 * 20 + 4]).toBe(1);
    expect(bits[10 * 20 + 15]).toBe(0);
    await expect(readMaskBits(join(set, 'label', 'a.json'), 16, 16)).rejects.toThrow('mask is 20x12 but its image is 16x16');
  });

  it('reports an annotation whose image is missing', async () => {
    await put(join(set, 'label', 'z.json'), labelme('z.jpg', [{ label: 'Pitting', points: [[1, 1], [3, 1], [3, 3]] }]));
    const ds = await openDataset(set);
    expect(ds.problems).toEqual([{ where: join(set, 'label', 'z.json'), message: 'its image "z.jpg" is not in the dataset; ignored' }]);
  });
});
