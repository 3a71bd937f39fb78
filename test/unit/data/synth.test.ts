import { describe, expect, it } from 'vitest';
import { DEFECT_KINDS } from '../../../electron/data/synth/defects.ts';
import { enclosingEllipse, fillEllipse } from '../../../electron/data/synth/ellipse.ts';
import { medianFilter, naiveDetector, separability, type HardnessImage } from '../../../electron/data/synth/hardness.ts';
import { addIrregularities } from '../../../electron/data/synth/irregularities.ts';
import { renderSample } from '../../../electron/data/synth/render-sample.ts';
import { hashSeed, Rng } from '../../../electron/data/synth/rng.ts';
import { TEXTURE_FAMILIES } from '../../../electron/data/synth/textures.ts';

const SIZE = 256;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

describe('renderSample', () => {
  it('has at least 6 texture families and 4 defect kinds', () => {
    expect(new Set(TEXTURE_FAMILIES.map((f) => f.name)).size).toBeGreaterThanOrEqual(6);
    expect(DEFECT_KINDS.length).toBeGreaterThanOrEqual(4);
  });

  it('is deterministic, and the seed matters', () => {
    const a = renderSample('woven', 11, SIZE, 'crack'), b = renderSample('woven', 11, SIZE, 'crack');
    expect(sameBytes(a.image, b.image) && sameBytes(a.mask, b.mask) && sameBytes(a.weakLabel, b.weakLabel)).toBe(true);
    expect(sameBytes(a.image, renderSample('woven', 12, SIZE, 'crack').image)).toBe(false);
  });

  it('picks a random kind for defect=true and none for a clean image', () => {
    const kinds = new Set(Array.from({ length: 30 }, (_, i) => renderSample('mottled', i, 96, true).kind));
    expect([...kinds].sort()).toEqual([...DEFECT_KINDS].sort());
    const clean = renderSample('mottled', 3, SIZE, false);
    expect(clean.kind).toBeNull();
    expect(clean.mask.some((v) => v !== 0) || clean.weakLabel.some((v) => v !== 0)).toBe(false);
  });

  describe.each(TEXTURE_FAMILIES.map((f) => f.name))('%s', (family) => {
    it.each([...DEFECT_KINDS])('%s: a visible defect, exactly masked, inside its weak label', (kind) => {
      const seed = hashSeed(family, kind);
      const d = renderSample(family, seed, SIZE, kind);
      const clean = renderSample(family, seed, SIZE, false);
      expect(d.kind).toBe(kind);
      let inMask = 0, changeInMask = 0, changeInLabel = 0, changeOutside = 0, maskOutsideLabel = 0, label = 0;
      for (let i = 0; i < d.image.length; i++) {
        const change = Math.abs(d.image[i] - clean.image[i]);
        if (d.mask[i]) { inMask++; changeInMask += change; if (!d.weakLabel[i]) maskOutsideLabel++; }
        if (d.weakLabel[i]) { label++; changeInLabel += change; } else changeOutside += change;
      }
      expect(inMask).toBeGreaterThan(20);
      expect(maskOutsideLabel).toBe(0);
      expect(label).toBeGreaterThan(inMask);
      // The same seed without the defect gives the same surface: the defect is the only change,
      // it is several grey levels deep where it is, and it stays (nearly all) inside its label.
      expect(changeInMask / inMask).toBeGreaterThan(2.5);
      expect(changeOutside).toBeLessThan(0.05 * changeInLabel);
    });
  });
});

describe('harmless irregularities', () => {
  it('are small marks that some images carry and others do not', () => {
    const size = 256;
    const touched = Array.from({ length: 60 }, (_, s) => {
      const t = new Float32Array(size * size);
      addIrregularities(t, size, 0.5, 1, new Rng(s));
      return t.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
    });
    expect(touched.some((n) => n === 0)).toBe(true);
    expect(touched.filter((n) => n > 0).length).toBeGreaterThan(40);
    expect(Math.max(...touched)).toBeLessThan(0.01 * size * size);
  });
});

describe('enclosingEllipse', () => {
  it('encloses an irregular mask and follows its direction', () => {
    const size = 64, mask = new Uint8Array(size * size);
    const rng = new Rng(5);
    for (let i = 0; i < 40; i++) {
      const t = rng.uniform(-1, 1);
      mask[Math.round(32 + 20 * t * 0.8 + rng.uniform(-2, 2)) * size + Math.round(32 + 20 * t * 0.6)] = 1;
    }
    const e = enclosingEllipse(mask, size, 0, 1)!;
    const filled = new Uint8Array(size * size);
    fillEllipse(filled, size, e);
    for (let i = 0; i < mask.length; i++) if (mask[i]) expect(filled[i]).toBe(255);
    expect(Math.abs(Math.tan(e.angle) - 0.8 / 0.6)).toBeLessThan(0.3);
  });

  it('keeps hairlines fat and returns null for an empty mask', () => {
    const size = 64, mask = new Uint8Array(size * size);
    for (let x = 10; x < 50; x++) mask[30 * size + x] = 1;
    const e = enclosingEllipse(mask, size, 2, 8)!;
    expect(e.b).toBe(8);
    expect(e.a).toBeGreaterThan(20);
    expect(enclosingEllipse(new Uint8Array(16), 4, 0, 1)).toBeNull();
  });
});

describe('naive detector', () => {
  it('median filter matches a brute-force median with repeated edges', () => {
    const w = 23, h = 17, rng = new Rng(9);
    const img = Uint8Array.from({ length: w * h }, () => rng.int(0, 255));
    for (const r of [1, 3]) {
      const fast = medianFilter(img, w, h, r);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const win: number[] = [];
          for (let dy = -r; dy <= r; dy++) {
            for (let dx = -r; dx <= r; dx++) {
              win.push(img[Math.min(h - 1, Math.max(0, y + dy)) * w + Math.min(w - 1, Math.max(0, x + dx))]);
            }
          }
          win.sort((a, b) => a - b);
          expect(fast[y * w + x]).toBe(win[(win.length - 1) / 2]);
        }
      }
    }
  });

  it('finds what a brightness threshold can find, so the hardness test is not vacuous', () => {
    const size = 96, rng = new Rng(3);
    const images: HardnessImage[] = Array.from({ length: 6 }, (_, n) => {
      const image = Uint8Array.from({ length: size * size }, () => 100 + rng.int(-6, 6));
      const truth = new Uint8Array(size * size);
      if (n % 2) {
        for (let y = 40; y < 46; y++) for (let x = 30; x < 36; x++) { image[y * size + x] = 200; truth[y * size + x] = 1; }
      }
      return { image, width: size, height: size, truths: [truth], isDefect: n % 2 === 1 };
    });
    const [result] = naiveDetector(images, 7);
    expect(result.miou).toBeGreaterThan(0.95);
    expect(Number.isFinite(result.bestK)).toBe(true);
    expect(separability(images, 'mean')).toBe(1);
  });
});
