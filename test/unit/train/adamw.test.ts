import { describe, expect, it } from 'vitest';
import { AdamW, ADAMW_DEFAULTS } from '../../../electron/engine/train/adamw.ts';
import type { ParamSlot } from '../../../electron/engine/train/param-layout.ts';

// torch.optim.AdamW(lr=0.1), a decayed parameter (wd 0.01) and an undecayed one, three steps
// (test/fixtures/make-adamw-fixture.py prints these under Debian python3-torch).
const INIT = [1.5409960746765137, -0.293428897857666, -2.1787893772125244, 0.5684312582015991, -1.0845223665237427, -1.3985954523086548, 0.40334683656692505, 0.8380263447761536];
const GRADS = [
  [-0.7192575931549072, -0.40334352850914, -0.5966353416442871, 0.18203648924827576, -0.8566746115684509, 1.1006041765213013, -1.0711873769760132, 0.1227012425661087],
  [-0.5663174986839294, 0.3731146454811096, -0.8919953107833862, -1.5091077089309692, 0.3703935444355011, 1.4565025568008423, 0.9398099184036255, 0.7748488187789917],
  [0.19186942279338837, 1.2637947797775269, -1.2904350757598877, -0.7911027073860168, -0.02087947353720665, -0.7184800505638123, 0.5186367630958557, -1.3125219345092773],
];
const AFTER = [1.7963066101074219, -0.25312983989715576, -1.875362753868103, 0.607377290725708, -0.9234246015548706, -1.6467046737670898, 0.48367151618003845, 0.6756028532981873];

const slot = (name: string, offset: number, size: number, decay: boolean): ParamSlot => ({ name, shape: [size], offset, size, trainable: true, decay });
const layout = { size: 8, trainable: [slot('p', 0, 5, true), slot('q', 5, 3, false)] };

describe('AdamW', () => {
  it('takes PyTorch AdamW steps, decoupled decay on decayed slots only', () => {
    const params = Float32Array.from(INIT);
    const adam = new AdamW(layout, { ...ADAMW_DEFAULTS, weightDecay: 0.01 }, 0);
    for (const g of GRADS) adam.step(params, Float32Array.from(g), 0.1);
    params.forEach((v, i) => expect(v).toBeCloseTo(AFTER[i], 5));
  });

  it('resumes exactly from its moments and step count', () => {
    const whole = Float32Array.from(INIT);
    const a = new AdamW(layout, { ...ADAMW_DEFAULTS, weightDecay: 0.01 }, 0);
    for (const g of GRADS) a.step(whole, Float32Array.from(g), 0.1);
    const split = Float32Array.from(INIT);
    const b = new AdamW(layout, { ...ADAMW_DEFAULTS, weightDecay: 0.01 }, 0);
    b.step(split, Float32Array.from(GRADS[0]), 0.1);
    const c = new AdamW(layout, { ...ADAMW_DEFAULTS, weightDecay: 0.01 }, 1, Float32Array.from(b.firstMoment), Float32Array.from(b.secondMoment));
    for (const g of GRADS.slice(1)) c.step(split, Float32Array.from(g), 0.1);
    expect(Array.from(split)).toEqual(Array.from(whole));
  });
});
