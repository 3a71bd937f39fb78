import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MASK_PARAMS, type MaskParams, type WireMask } from '../../../electron/api.ts';
import { KIZU_DIR, ProjectStore, SIDECAR_SCHEMA_VERSION } from '../../../electron/data/project-store.ts';

const root = mkdtempSync(join(tmpdir(), 'kizu store é '));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function mask(width: number, height: number, on: (x: number, y: number) => boolean): WireMask {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = on(x, y) ? 1 : 0;
  return { width, height, data };
}

const params: MaskParams = { ...DEFAULT_MASK_PARAMS, layer: 'layer3', threshold: { kind: 'otsu' } };

describe('ProjectStore', () => {
  it('saves a review (sidecar + mask PNG) and a fresh store reads the same back', async () => {
    const store = new ProjectStore(root);
    const m = mask(20, 10, (x, y) => x > 4 && x < 12 && y > 2);
    const saved = await store.saveReview('sub dir/part 1.png', { state: 'edited', params, mask: m }, new Date('2026-11-26T10:00:00Z'));
    expect(saved).toMatchObject({ state: 'edited', label: 'defect', updatedAt: '2026-11-26T10:00:00.000Z', schemaVersion: SIDECAR_SCHEMA_VERSION });

    const again = await new ProjectStore(root).loadReview('sub dir/part 1.png');
    expect(again.problem).toBeUndefined();
    expect(again.sidecar.params).toEqual(params);
    expect(again.sidecar.state).toBe('edited');
    expect(again.mask).toEqual(m);
    const json = JSON.parse(readFileSync(join(root, KIZU_DIR, 'sub dir', 'part 1.png.json'), 'utf8'));
    expect(json.image).toBe('sub dir/part 1.png');
    expect(json.mask.file).toMatch(/^part 1\.png\.mask-[0-9a-f]{16}\.png$/);
  });

  it('keeps exactly one mask file per image, leaves no temp files, and drops the mask when a review has none', async () => {
    const store = new ProjectStore(root);
    for (let i = 0; i < 3; i++) {
      await store.saveReview('a.png', { state: 'accepted', params, mask: mask(8, 8, (x) => x < i + 2) });
    }
    const files = () => readdirSync(join(root, KIZU_DIR)).filter((f) => f.startsWith('a.png') || f.startsWith('.a.png'));
    expect(files().sort()).toEqual(['a.png.json', expect.stringMatching(/^a\.png\.mask-[0-9a-f]{16}\.png$/)]);
    expect((await store.loadReview('a.png')).mask!.data.reduce((s, v) => s + v, 0)).toBe(8 * 4);

    await store.saveReview('a.png', { state: 'ok', params, mask: null });
    expect(files()).toEqual(['a.png.json']);
    const ok = await store.loadReview('a.png');
    expect([ok.sidecar.state, ok.sidecar.label, ok.mask]).toEqual(['ok', 'ok', null]);
  });

  it('runs saves of one image in order: the last one asked for wins', async () => {
    const store = new ProjectStore(root);
    const saves = Array.from({ length: 6 }, (_, i) => store.saveReview('race.png', { state: i % 2 ? 'accepted' : 'rejected', params, mask: mask(4, 4, (x) => x <= i % 4) }));
    await Promise.all(saves);
    const last = await store.loadReview('race.png');
    expect(last.sidecar.state).toBe('accepted');
    expect(last.mask!.data.reduce((s, v) => s + v, 0)).toBe(4 * 2);
    expect(readdirSync(join(root, KIZU_DIR)).filter((f) => f.startsWith('race.png.mask-'))).toHaveLength(1);
  });

  it('stores a score without touching the review', async () => {
    const store = new ProjectStore(root);
    await store.saveReview('s.png', { state: 'rejected', params, mask: null });
    await store.saveScore('s.png', 0.875, 'resnet-tiny');
    const { sidecar } = await store.read('s.png');
    expect([sidecar.state, sidecar.score, sidecar.scoreModel, sidecar.params]).toEqual(['rejected', 0.875, 'resnet-tiny', params]);
  });

  it('reports a corrupt, foreign or newer sidecar and treats the image as unreviewed, without crashing', async () => {
    const store = new ProjectStore(root);
    const write = (id: string, text: string) => writeFileSync(store.sidecarPath(id), text);
    await store.saveReview('x.png', { state: 'accepted', params, mask: null });
    write('x.png', '{"schemaVersion": 1, "image": "x.png", "state": "accep');
    const torn = await store.read('x.png');
    expect(torn.sidecar.state).toBe('unreviewed');
    expect(torn.problem?.file).toBe(store.sidecarPath('x.png'));
    expect(torn.problem?.message).toMatch(/not JSON.*treated as unreviewed/);

    write('x.png', JSON.stringify({ schemaVersion: 1, image: 'x.png', state: 'shiny' }));
    expect((await store.read('x.png')).problem?.message).toMatch(/invalid sidecar \(.*state/);

    write('x.png', JSON.stringify({ ...(await store.read('s.png')).sidecar, image: 's.png' }));
    expect((await store.read('x.png')).problem?.message).toMatch(/belongs to "s.png"/);

    write('x.png', JSON.stringify({ schemaVersion: 99, image: 'x.png' }));
    expect((await store.read('x.png')).problem?.message).toMatch(/newer Kizu \(sidecar schema 99/);
    // A score never overwrites a sidecar it cannot read (a newer Kizu's is not ours to replace).
    await store.saveScore('x.png', 0.5, 'm');
    expect(JSON.parse(readFileSync(store.sidecarPath('x.png'), 'utf8')).schemaVersion).toBe(99);
    // A review the user makes does replace it.
    await store.saveReview('x.png', { state: 'ok', params, mask: null });
    expect((await store.read('x.png')).sidecar.state).toBe('ok');
  });

  it('reports a missing or damaged mask and treats the image as unreviewed, keeping its score', async () => {
    const store = new ProjectStore(root);
    const saved = await store.saveReview('m.png', { state: 'edited', params, mask: mask(6, 6, (x) => x === 1) });
    await store.saveScore('m.png', 0.9, 'm');
    writeFileSync(store.maskPath('m.png', saved.mask!.file), 'not a png');
    const broken = await store.loadReview('m.png');
    expect([broken.sidecar.state, broken.sidecar.score, broken.mask]).toEqual(['unreviewed', 0.9, null]);
    expect(broken.problem?.message).toMatch(/cannot read the saved mask/);
  });

  it('gives a fresh record for an image never reviewed', async () => {
    const r = await new ProjectStore(root).loadReview('never.png');
    expect(r).toEqual({ sidecar: expect.objectContaining({ state: 'unreviewed', label: null, score: null, mask: null, updatedAt: null, params: DEFAULT_MASK_PARAMS }), mask: null });
  });
});
