import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { imageFileSet, scanImageFolder } from '../../../electron/data/image-folder.ts';
import { assertPlainRelative, isInside, resolveInside } from '../../../electron/data/path-guard.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kizu-folder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function touch(path: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '');
}

describe('scanImageFolder', () => {
  const root = join(tmp, 'project');
  touch(join(root, 'img10.png'));
  touch(join(root, 'img2.PNG'));
  touch(join(root, 'deep', 'x.tif'));
  touch(join(root, 'notes.txt'));
  touch(join(root, '.kizu', 'img2.PNG.mask-0000000000000000.png'));
  touch(join(root, '.hidden.png'));
  touch(join(root, 'Class1', 'Train', '0000.PNG'));
  touch(join(root, 'Class1', 'Train', 'Label', '0000_label.PNG'));
  writeFileSync(join(root, 'Class1', 'Train', 'Label', 'Labels.txt'), '1\n');
  touch(join(root, 'Label', 'not-dagm.png'));
  touch(join(tmp, 'elsewhere', 'secret.png'));
  symlinkSync(join(tmp, 'elsewhere', 'secret.png'), join(root, 'escape.png'));
  symlinkSync(join(tmp, 'elsewhere'), join(root, 'escape-dir'));
  symlinkSync(join(root, 'deep'), join(root, 'deep-again'));
  symlinkSync(root, join(root, 'deep', 'loop'));

  it('lists images in natural order, skips hidden entries, DAGM label folders and symlinks that leave the folder', async () => {
    const set = await scanImageFolder(root);
    expect(set.images.map((i) => i.id)).toEqual(['Class1/Train/0000.PNG', 'deep/x.tif', 'img2.PNG', 'img10.png', 'Label/not-dagm.png']);
  });

  it('stops at the image limit with a message that says what to do', async () => {
    await expect(scanImageFolder(root, 2)).rejects.toThrow(/more than 2 images .*open a subfolder/);
  });

  it('says when the folder does not exist or is a file', async () => {
    await expect(scanImageFolder(join(tmp, 'nope'))).rejects.toMatchObject({ status: 404 });
    await expect(scanImageFolder(join(root, 'img10.png'))).rejects.toMatchObject({ status: 400 });
  });
});

describe('imageFileSet', () => {
  it('roots loose images at their deepest common folder', async () => {
    touch(join(tmp, 'loose', 'a', 'one.png'));
    touch(join(tmp, 'loose', 'b', 'c', 'two.jpg'));
    const set = await imageFileSet([join(tmp, 'loose', 'b', 'c', 'two.jpg'), join(tmp, 'loose', 'a', 'one.png')]);
    expect(set.root).toBe(join(tmp, 'loose'));
    expect(set.images.map((i) => i.id)).toEqual(['a/one.png', 'b/c/two.jpg']);
  });

  it('refuses a missing file or one that is not an image, naming which', async () => {
    await expect(imageFileSet([join(tmp, 'loose', 'a', 'one.png'), join(tmp, 'missing.png')])).rejects.toMatchObject({ status: 404, where: 'paths.1' });
    touch(join(tmp, 'loose', 'readme.md'));
    await expect(imageFileSet([join(tmp, 'loose', 'readme.md')])).rejects.toMatchObject({ status: 400, where: 'paths.0' });
  });
});

describe('path guard', () => {
  it('refuses traversal in every spelling', () => {
    for (const bad of ['../x.png', 'a/../../x.png', '/etc/passwd', 'a//b.png', './a.png', 'a\\..\\b.png', 'C:/x.png', 'a\0.png', '']) {
      expect(() => assertPlainRelative(bad, 'id'), bad).toThrow();
    }
    expect(() => assertPlainRelative('sub dir/é.png', 'id')).not.toThrow();
  });

  it('resolves inside the root and refuses a symlink out of it', async () => {
    const root = join(tmp, 'project');
    expect(await resolveInside(root, 'deep/x.tif', 'id')).toBe(join(root, 'deep', 'x.tif'));
    await expect(resolveInside(root, 'escape.png', 'id')).rejects.toMatchObject({ status: 403 });
    await expect(resolveInside(root, 'missing.png', 'id')).rejects.toMatchObject({ status: 404 });
    expect(isInside('/a/b', '/a/b/c')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a')).toBe(false);
  });
});
