import { describe, expect, it } from 'vitest';
import { emptySettings, withModel, withQuality } from '../../../electron/data/project-settings.ts';
import { planProjectTraining, summarisePlan, TRAINING_MINIMUM, type ProjectImage } from '../../../electron/data/project-training-set.ts';
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

  it('says whether there is enough to train on, against the minimum', () => {
    expect(summarisePlan(planProjectTraining(project))).toEqual({ ok: 20, defect: 16, measure: 3, minimum: TRAINING_MINIMUM, enough: true });
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
});
