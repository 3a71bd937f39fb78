import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { emptySettings, withModel, withQuality } from '../../../electron/data/project-settings.ts';
import { planProjectTraining, summarisePlan, TRAINING_MINIMUM, writeTrainingSet, type ProjectImage } from '../../../electron/data/project-training-set.ts';
import type { ImageLabel } from '../../../electron/api.ts';

function images(n: number, label: ImageLabel | null, reviewedMask = false, prefix = label ?? 'none'): ProjectImage[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}/${i}.png`, path: `/p/${prefix}/${i}.png`, label, reviewedMask }));
}

describe('a project\'s training set', () => {
  const project = [...images(20, 'ok'), ...images(10, 'defect'), ...images(9, 'defect', true, 'masked'), ...images(5, null)];

  it('trains on every labelled image but a third of the reviewed masks, which measure; never both', () => {
    const plan = planProjectTraining(project);
    expect(plan.measure).toHaveLength(3);
    expect(plan.measure.every((i) => i.reviewedMask && i.label === 'defect')).toBe(true);
    const trained = new Set(plan.train.map((i) => i.id));
    expect(plan.measure.some((i) => trained.has(i.id))).toBe(false);
    expect(plan.train).toHaveLength(20 + 10 + 6);
    expect(plan.train.some((i) => i.label === null)).toBe(false);
  });

  it('depends on the images alone: the same in any order, and unmoved by OK images added later', () => {
    const before = planProjectTraining(project).measure.map((i) => i.id).sort();
    expect(planProjectTraining([...project].reverse()).measure.map((i) => i.id).sort()).toEqual(before);
    expect(planProjectTraining([...project, ...images(30, 'ok', false, 'more')]).measure.map((i) => i.id).sort()).toEqual(before);
    expect(planProjectTraining([...project, ...images(6, 'defect', true, 'reviewed-later')]).measure).toHaveLength(5);
  });

  it('holds nothing out below three reviewed masks, so a first model still learns from them', () => {
    expect(planProjectTraining([...images(5, 'ok'), ...images(2, 'defect', true)]).measure).toHaveLength(0);
  });

  it('names each reviewed defect\'s mask in the CSV, training rows and measure rows alike; other rows none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kizu-training-set-'));
    try {
      const withMasks = project.map((i) => (i.reviewedMask ? { ...i, maskPath: `/p/.kizu/${i.id.replace('/', '-')}.mask-0123456789abcdef.png` } : i));
      const plan = planProjectTraining(withMasks);
      const rows = parse(readFileSync(await writeTrainingSet(dir, plan), 'utf8'), { columns: true }) as Array<{ path: string; label: string; mask: string; split: string }>;
      expect(rows).toHaveLength(20 + 16 + 3);
      const masked = rows.filter((r) => r.mask !== '');
      expect(masked.map((r) => r.path).sort()).toEqual(withMasks.filter((i) => i.reviewedMask).map((i) => i.path).sort());
      expect(masked.filter((r) => r.split === 'train')).toHaveLength(6);
      expect(masked.filter((r) => r.split === 'test')).toHaveLength(3);
      for (const r of masked) expect(r.mask).toBe(withMasks.find((i) => i.path === r.path)!.maskPath);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says whether there is enough to train on, against the minimum', () => {
    expect(summarisePlan(planProjectTraining(project))).toEqual({ ok: 20, defect: 16, measure: 3, masks: 6, minimum: TRAINING_MINIMUM, enough: true });
    const few = summarisePlan(planProjectTraining([...images(TRAINING_MINIMUM.ok, 'ok'), ...images(TRAINING_MINIMUM.defect - 1, 'defect')]));
    expect(few.enough).toBe(false);
  });
});

describe('a project\'s model settings', () => {
  const quality = { model: '/m/a', images: 2, method: 'layercam', layer: 'fused', pixelAuroc: 0.9, miou: 0.6, measuredAt: '2026-12-03T00:00:00.000Z' } as const;

  it('keeps the models it used before, newest first, and drops a measurement of another model', () => {
    let s = withModel(emptySettings(), '/m/a');
    s = withQuality(s, quality);
    s = withModel(s, '/m/b');
    expect(s).toMatchObject({ model: '/m/b', previousModels: ['/m/a'], quality: null });
    s = withModel(s, '/m/a');
    expect(s).toMatchObject({ model: '/m/a', previousModels: ['/m/b'] });
    expect(withModel(withQuality(s, quality), '/m/a').quality).toEqual(quality);
  });

  it('keeps the replaced model\'s measurement as the "before" of the new one, and both across a switch back', () => {
    const after = { ...quality, model: '/m/b', pixelAuroc: 0.93, miou: 0.61 };
    let s = withQuality(withModel(emptySettings(), '/m/a'), quality);
    s = withModel(s, '/m/b');
    expect(s.quality).toBeNull();
    expect(s.previousQuality).toEqual(quality);
    s = withQuality(s, after);
    s = withModel(s, '/m/a');
    expect(s.quality).toEqual(quality);
    expect(s.previousQuality).toEqual(after);
    // A model never measured has no "before" to give.
    expect(withModel(withModel(emptySettings(), '/m/a'), '/m/b').previousQuality).toBeNull();
  });
});
