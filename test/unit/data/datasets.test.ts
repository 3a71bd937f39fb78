import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLabelsTxt, parseLabelsTxt } from '../../../electron/data/dagm-layout.ts';
import { DatasetError, detectDatasetFormat, openDataset } from '../../../electron/data/datasets.ts';
import { encodePng } from '../../../electron/data/image-io.ts';

let root: string;
let png: Buffer;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kizu-datasets-'));
  png = await encodePng({ width: 8, height: 8, channels: 1, data: new Uint8Array(64).fill(90) });
});
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

async function put(path: string, content: Buffer | string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  return path;
}

describe('Labels.txt', () => {
  it('formats as DAGM does and parses back', () => {
    const text = formatLabelsTxt([
      { image: '0000.PNG', isDefect: false },
      { image: '0001.PNG', isDefect: true, label: '0001_label.PNG' },
    ]);
    expect(text).toBe('1\n1\t0\t0000.PNG\t0\t0\n2\t1\t0001.PNG\t0\t0001_label.PNG\n');
    expect(parseLabelsTxt(text).entries).toEqual([
      { line: 2, image: '0000.PNG', isDefect: false },
      { line: 3, image: '0001.PNG', isDefect: true, label: '0001_label.PNG' },
    ]);
  });

  it('accepts CRLF and trailing tabs, reports malformed rows by line', () => {
    const parsed = parseLabelsTxt('1\r\n1\t1\t0001.PNG\t0\t0001_label.PNG\t\r\n2\t7\t0002.PNG\t0\t0\r\n3\t0\r\n');
    expect(parsed.entries.map((e) => e.image)).toEqual(['0001.PNG']);
    expect(parsed.problems).toEqual([
      { line: 3, message: "defect flag must be 0 or 1, got '7'" },
      { line: 4, message: "expected 'row<TAB>0|1<TAB>image<TAB>0<TAB>label', got '3\t0'" },
    ]);
  });
});

describe('DAGM layout', () => {
  let dagm: string;
  beforeAll(async () => {
    dagm = join(root, 'dagm');
    const train = join(dagm, 'Class1', 'Train');
    for (const f of ['0000.PNG', '0001.PNG', '0002.PNG', '0004.PNG', '0005.PNG']) await put(join(train, f), png);
    await put(join(train, '0003.PNG'), 'garbage, not a PNG at all');
    await put(join(train, 'Label', '0001_label.PNG'), png);
    await put(join(train, 'Label', '0001_mask.PNG'), png);
    await put(join(train, 'Label', 'Labels.txt'), [
      '1', '1\t0\t0000.PNG\t0\t0', '2\t1\t0001.PNG\t0\t0001_label.PNG', '3\t1\t0002.PNG\t0\t0002_label.PNG',
      '4\t0\t0003.PNG\t0\t0', '5\t0\t0009.PNG\t0\t0', '6\t0\t0004.PNG\t0\t0', '',
    ].join('\r\n'));
    const test = join(dagm, 'Class1', 'Test');
    await put(join(test, '0000.PNG'), png);
    await put(join(test, '0001.PNG'), png);
    await put(join(test, 'Label', '0001_label.PNG'), png);
    const test2 = join(dagm, 'Class2', 'Test');
    await put(join(test2, '0000.PNG'), png);
    await mkdir(join(test2, 'Label'), { recursive: true });
  });

  it('reads labels, masks, splits and groups, and reports each bad entry with file:line', async () => {
    const ds = await openDataset(dagm);
    const train = join(dagm, 'Class1', 'Train');
    const labels = join(train, 'Label', 'Labels.txt');
    expect(ds.items.filter((i) => i.group === 'Class1' && i.split === 'train')).toEqual([
      { path: join(train, '0000.PNG'), label: 'ok', isDefect: false, split: 'train', group: 'Class1' },
      {
        path: join(train, '0001.PNG'), label: 'defect', isDefect: true, split: 'train', group: 'Class1',
        maskPath: join(train, 'Label', '0001_label.PNG'), exactMaskPath: join(train, 'Label', '0001_mask.PNG'),
      },
      { path: join(train, '0002.PNG'), label: 'defect', isDefect: true, split: 'train', group: 'Class1' },
      { path: join(train, '0004.PNG'), label: 'ok', isDefect: false, split: 'train', group: 'Class1' },
    ]);
    expect(ds.problems).toEqual(expect.arrayContaining([
      { where: join(train, '0005.PNG'), message: 'not listed in Label/Labels.txt; skipped' },
      { where: `${labels}:4`, message: `label file not found: ${join(train, 'Label', '0002_label.PNG')}; kept without a mask` },
      { where: `${labels}:6`, message: `image not found: ${join(train, '0009.PNG')}` },
      { where: `${labels}:5`, message: expect.stringMatching(/unreadable image .*0003\.PNG: not an image/) },
    ]));
    // Without Labels.txt, the flags come from the label files present.
    expect(ds.problems).toContainEqual({
      where: join(dagm, 'Class1', 'Test', 'Label', 'Labels.txt'),
      message: 'missing; defect flags inferred from the Label/NNNN_label.PNG files present',
    });
    const test = ds.items.filter((i) => i.group === 'Class1' && i.split === 'test');
    expect(test.map((i) => [i.isDefect, i.maskPath !== undefined])).toEqual([[false, false], [true, true]]);
    expect(ds.items.filter((i) => i.group === 'Class2')).toHaveLength(1);
  });

  it('opens a ClassN folder or a split folder alone', async () => {
    expect(await detectDatasetFormat(join(dagm, 'Class1'))).toBe('dagm');
    const one = await openDataset(join(dagm, 'Class1'));
    expect(new Set(one.items.map((i) => i.group))).toEqual(new Set(['Class1']));
    const split = await openDataset(join(dagm, 'Class1', 'Train'));
    expect(split.items).toHaveLength(4);
    // A split folder opened alone keeps its side of the split rather than being split again.
    expect(split.items.every((i) => i.split === 'train')).toBe(true);
    expect(split.split).toEqual({ policy: 'layout' });
  });

  it('throws on the first bad entry when strict', async () => {
    await expect(openDataset(dagm, { strict: true })).rejects.toBeInstanceOf(DatasetError);
    await expect(openDataset(dagm, { strict: true })).rejects.toThrow(/0005\.PNG: not listed in Label\/Labels\.txt/);
  });
});

describe('one folder per label', () => {
  let folders: string;
  beforeAll(async () => {
    folders = join(root, 'folders');
    await put(join(folders, 'ok', 'a.png'), png);
    await put(join(folders, 'ok', 'deeper', 'b.PNG'), png);
    await put(join(folders, 'defect', 'c.png'), png);
    await put(join(folders, 'defect', 'broken.png'), 'not an image');
    await put(join(folders, 'defect', 'notes.txt'), 'ignored: not an image file');
    await put(join(folders, 'defect', '.kizu', 'd.png'), png);
    await put(join(folders, 'masks', 'c.png'), png);
    await put(join(folders, 'stray.png'), png);
  });

  it('labels by folder, skips hidden folders, reports unknown labels and strays', async () => {
    expect(await detectDatasetFormat(folders)).toBe('folders');
    const ds = await openDataset(folders);
    // The seeded split is tested with the other layouts; here only what the folders say.
    expect(ds.items.map(({ split: _, ...item }) => item)).toEqual([
      // masks/ beside defect/ is a mask folder, not a label.
      { path: join(folders, 'defect', 'c.png'), label: 'defect', isDefect: true, maskPath: join(folders, 'masks', 'c.png') },
      { path: join(folders, 'ok', 'a.png'), label: 'ok', isDefect: false },
      { path: join(folders, 'ok', 'deeper', 'b.PNG'), label: 'ok', isDefect: false },
    ]);
    expect(ds.problems).toEqual(expect.arrayContaining([
      { where: join(folders, 'stray.png'), message: 'image is not inside a label folder; skipped' },
      { where: join(folders, 'defect', 'broken.png'), message: expect.stringMatching(/unreadable image: not an image/) },
    ]));
  });

  it('takes any folder name as the defect label when told, the others then meaning OK', async () => {
    const custom = join(root, 'custom');
    await put(join(custom, 'A', 'x.png'), png);
    await put(join(custom, 'Scratched', 'y.png'), png);
    const ds = await openDataset(custom, { defectLabel: 'scratched' });
    expect(ds.items.map((i) => [i.label, i.isDefect])).toEqual([['A', false], ['Scratched', true]]);
    await expect(openDataset(custom, { defectLabel: 'defect' })).rejects.toThrow(/no label 'defect' in the dataset \(labels found: a, scratched\)/);
    const known = join(root, 'known');
    await put(join(known, 'good', 'x.png'), png);
    await put(join(known, 'NG', 'y.png'), png);
    // The usual names are recognised even when a default defect label is passed that is absent.
    const auto = await openDataset(known, { defectLabel: 'defect' });
    expect(auto.items.map((i) => [i.label, i.isDefect])).toEqual([['NG', true], ['good', false]]);
  });
});

describe('CSV of path,label[,mask]', () => {
  it('reads a headed CSV (any column order, extra columns ignored) relative to its folder', async () => {
    const dir = join(root, 'csv1');
    await put(join(dir, 'img', 'a.png'), png);
    await put(join(dir, 'img', 'b.png'), png);
    await put(join(dir, 'img', 'b_mask.png'), png);
    const csv = await put(join(dir, 'labels.csv'), 'texture,file,label,mask,split\nwood,img/a.png,ok,,train\nwood,img/b.png,defect,img/b_mask.png,test\nwood,img/a.png,ok,,holdout\n');
    expect(await detectDatasetFormat(csv)).toBe('csv');
    const ds = await openDataset(csv);
    expect(ds.problems).toEqual([{ where: `${csv}:4`, message: "split must be train or test, got 'holdout'; image kept without a split" }]);
    expect(ds.items).toEqual([
      { path: join(dir, 'img', 'a.png'), label: 'ok', isDefect: false, split: 'train' },
      { path: join(dir, 'img', 'b.png'), label: 'defect', isDefect: true, split: 'test', maskPath: join(dir, 'img', 'b_mask.png') },
      { path: join(dir, 'img', 'a.png'), label: 'ok', isDefect: false },
    ]);
  });

  it('reads a headerless CSV and reports bad rows by line', async () => {
    const dir = join(root, 'csv2');
    await put(join(dir, 'a.png'), png);
    await put(join(dir, 'c.png'), png);
    await put(join(dir, 'bad.png'), 'nope');
    const csv = await put(join(dir, 'list.csv'), [
      'a.png,good', 'missing.png,defect', 'c.png,weird', '', 'c.png,defect,gone_mask.png', ',ok', 'bad.png,ok', '"a.png",ok',
    ].join('\n'));
    const ds = await openDataset(csv);
    expect(ds.items.map((i) => [i.path, i.isDefect])).toEqual([
      [join(dir, 'a.png'), false], [join(dir, 'c.png'), true], [join(dir, 'a.png'), false],
    ]);
    expect(ds.problems).toEqual([
      { where: `${csv}:2`, message: `image not found: ${join(dir, 'missing.png')}` },
      { where: `${csv}:3`, message: "unknown label 'weird'; name the defect label (--defect-label) to use it" },
      { where: `${csv}:5`, message: `mask not found: ${join(dir, 'gone_mask.png')}; image kept without it` },
      { where: `${csv}:6`, message: 'expected path,label[,mask] but the path is empty' },
      { where: `${csv}:7`, message: expect.stringMatching(/unreadable image: not an image/) },
    ]);
    await expect(openDataset(csv, { strict: true })).rejects.toThrow(/list\.csv:2: image not found/);
  });

  it('fails clearly when nothing is usable', async () => {
    const csv = await put(join(root, 'csv3', 'empty.csv'), 'path,label\n');
    await expect(openDataset(csv)).rejects.toThrow(/no usable images/);
    await expect(openDataset(join(root, 'does-not-exist'))).rejects.toThrow(/does-not-exist: not found/);
  });
});
