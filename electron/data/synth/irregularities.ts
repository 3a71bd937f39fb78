import type { Field } from './field.ts';
import type { Rng } from './rng.ts';
import { bezier, newStroke, stampBlob, stampPath, type Box, type Stroke } from './shapes.ts';

/**
 * Harmless irregularities that clean surfaces carry too: specks of dust far below the smallest
 * defect size, and now and then a short curled fibre. Drawn on every image, defective or not,
 * so neither their presence nor their count says anything about the label. Specks stay fainter
 * than the faintest line defects: dust that outshone a scratch would teach a model that the
 * brightest dot is the defect, which real surfaces (DAGM's among them) do not.
 */
export function addIrregularities(texture: Field, size: number, scale: number, fine: number, rng: Rng): void {
  const mark = newStroke(size);
  const specks = rng.int(0, 6);
  for (let i = 0; i < specks; i++) {
    const box = stampBlob(mark, size, {
      cx: rng.uniform(4, size - 4), cy: rng.uniform(4, size - 4), radius: rng.uniform(0.7, 1.8) * scale,
      aspect: rng.uniform(1, 1.5), angle: rng.uniform(0, Math.PI), edge: scale, harmonics: [],
    });
    addAndClear(texture, size, mark, box, rng.sign() * rng.uniform(1, 2.2) * fine);
  }
  if (rng.chance(0.35)) {
    const length = rng.uniform(12, 40) * scale, angle = rng.uniform(0, Math.PI * 2);
    const x = rng.uniform(length, size - length), y = rng.uniform(length, size - length);
    const curl = rng.uniform(-0.8, 0.8) * length;
    const c = Math.cos(angle), s = Math.sin(angle);
    const box = stampPath(mark, size, bezier(
      { x, y },
      { x: x + (c * length) / 2 - s * curl, y: y + (s * length) / 2 + c * curl },
      { x: x + c * length, y: y + s * length },
    ), () => 0.6 * scale, () => 1);
    addAndClear(texture, size, mark, box, rng.sign() * rng.uniform(0.6, 1.2) * fine);
  }
}

/** Adds one mark and wipes it from the scratch stroke, touching only its box. */
function addAndClear(texture: Field, size: number, mark: Stroke, box: Box, amp: number): void {
  for (let y = box.y0; y <= box.y1; y++) {
    for (let x = box.x0; x <= box.x1; x++) {
      const k = y * size + x;
      texture[k] += amp * mark.alpha[k];
      mark.alpha[k] = 0;
      mark.cover[k] = 0;
    }
  }
}
