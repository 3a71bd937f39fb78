import { readdir, readFile, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLabelsTxt } from '../../../electron/data/dagm-layout.ts';
import { openDataset } from '../../../electron/data/datasets.ts';
import { generateDataset, type GenerateResult } from '../../../electron/data/synth/generate.ts';

let root: string;
let first: GenerateResult;
const args = { classes: 2, trainClean: 3, trainDefect: 2, testClean: 2, testDefect: 1, size: 128, seed: 77 };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kizu-generate-'));
  first = await generateDataset({ ...args, out: join(root, 'a'), workers: 2 });
});
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

async function tree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p), await readFile(p));
    }
  };
  await walk(dir);
  return out;
}

describe('generateDataset', () => {
  it('writes the DAGM 2007 layout with weak labels and exact masks', async () => {
    const split = join(root, 'a', 'Class1', 'Train');
    const files = (await readdir(split)).sort();
    expect(files).toEqual(['0000.PNG', '0001.PNG', '0002.PNG', '0003.PNG', '0004.PNG', 'Label']);
    const labels = parseLabelsTxt(await readFile(join(split, 'Label', 'Labels.txt'), 'utf8'));
    expect(labels.problems).toEqual([]);
    expect(labels.entries.filter((e) => e.isDefect)).toHaveLength(2);
    const labelFiles = (await readdir(join(split, 'Label'))).sort();
    for (const e of labels.entries.filter((x) => x.isDefect)) {
      const stem = e.image.replace('.PNG', '');
      expect(e.label).toBe(`${stem}_label.PNG`);
      expect(labelFiles).toEqual(expect.arrayContaining([`${stem}_label.PNG`, `${stem}_mask.PNG`]));
      const meta = await sharp(join(split, 'Label', `${stem}_mask.PNG`)).metadata();
      expect([meta.width, meta.height, meta.channels]).toEqual([128, 128, 1]);
    }
    expect(labelFiles).toHaveLength(2 * 2 + 1);
    expect(first.images).toBe(2 * (3 + 2 + 2 + 1));
    expect(first.manifest.classes.map((c) => c.family)).toEqual(['mottled', 'woven']);
  });

  it('is byte-identical for the same arguments, whatever the number of workers', async () => {
    await generateDataset({ ...args, out: join(root, 'b'), workers: 1 });
    const [a, b] = [await tree(join(root, 'a')), await tree(join(root, 'b'))];
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [name, bytes] of a) expect(bytes.equals(b.get(name)!), name).toBe(true);
    await generateDataset({ ...args, seed: 78, out: join(root, 'c'), workers: 2 });
    const c = await tree(join(root, 'c'));
    expect(c.get(join('Class1', 'Train', '0000.PNG'))!.equals(a.get(join('Class1', 'Train', '0000.PNG'))!)).toBe(false);
  });

  it('reads back through openDataset with labels, masks, splits and defect kinds', async () => {
    const ds = await openDataset(join(root, 'a'));
    expect(ds.problems).toEqual([]);
    expect(ds.items).toHaveLength(16);
    const defects = ds.items.filter((i) => i.isDefect);
    expect(defects).toHaveLength(2 * 3);
    for (const d of defects) {
      expect(d.maskPath).toMatch(/_label\.PNG$/);
      expect(d.exactMaskPath).toMatch(/_mask\.PNG$/);
      expect(['scratch', 'crack', 'spot', 'stain', 'disturbance']).toContain(d.defectKind);
    }
    expect(ds.items.filter((i) => i.split === 'test' && i.group === 'Class2')).toHaveLength(3);
  });

  it('refuses a non-empty folder unless forced, and bad counts', async () => {
    const busy = join(root, 'busy');
    await mkdir(busy, { recursive: true });
    await writeFile(join(busy, 'keep.txt'), 'mine');
    await expect(generateDataset({ ...args, out: busy })).rejects.toThrow(/is not empty; choose a new folder, or pass --force/);
    await expect(generateDataset({ ...args, out: join(root, 'x'), trainClean: -1 })).rejects.toThrow(/train-clean must be an integer/);
    await expect(generateDataset({ ...args, out: join(root, 'x'), size: 32 })).rejects.toThrow(/size must be at least 64/);
  });
});
