import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../electron/engine/backend.ts';
import { resnetSpec } from '../../../electron/engine/resnet-spec.ts';
import { flattenNet, ParamLayout } from '../../../electron/engine/train/param-layout.ts';
import { parseSideHeads, stageCells } from '../../../electron/engine/train/side-heads.ts';
import { initialiseResNet } from '../../../electron/engine/init-weights.ts';
import { runKizu } from '../helpers/kizu-process.ts';

describe('side heads', () => {
  beforeAll(() => useBackend('cpu'));

  it('--side-heads takes layer2, layer3, both or none, and names what it cannot take', () => {
    expect(parseSideHeads('layer3, layer2')).toEqual(['layer2', 'layer3']);
    expect(parseSideHeads('layer2')).toEqual(['layer2']);
    expect(parseSideHeads('none')).toEqual([]);
    expect(() => parseSideHeads('layer4')).toThrow('--side-heads takes layer2, layer3 (comma-separated) or none, not "layer4"');
  });

  it('grids: layer2 is stride 8, layer3 16, layer4 32, each step rounding up', () => {
    expect([stageCells(512, 'layer2'), stageCells(512, 'layer3'), stageCells(512, 'layer4')]).toEqual([64, 32, 16]);
    expect([stageCells(45, 'layer2'), stageCells(45, 'layer3'), stageCells(45, 'layer4')]).toEqual([6, 3, 2]);
  });

  it('lays the heads out after the network, trainable, seeded, and leaves the network\'s own slots as they were', async () => {
    const spec = resnetSpec({ numClasses: 2, inChannels: 1, width: 4, blocks: [1, 1, 1, 1] });
    const plain = new ParamLayout(spec);
    const layout = new ParamLayout(spec, ['layer2', 'layer3']);
    expect(layout.netSlots).toEqual(plain.slots);
    expect(layout.slots.slice(plain.slots.length).map((s) => [s.name, s.shape, s.trainable])).toEqual([
      ['side.layer2.weight', [spec.stages[1].outChannels, 1], true],
      ['side.layer2.bias', [1], true],
      ['side.layer3.weight', [spec.stages[2].outChannels, 1], true],
      ['side.layer3.bias', [1], true],
    ]);
    const net = initialiseResNet(spec, 1);
    const a = await flattenNet(layout, net, undefined, 7);
    const b = await flattenNet(layout, net, undefined, 7);
    net.dispose();
    expect(a).toEqual(b);
    const weight = layout.view(a, 'side.layer2.weight');
    expect(weight.some((v) => v !== 0)).toBe(true);
    expect(Math.max(...weight.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(spec.stages[1].outChannels));
    expect(a.subarray(0, plain.size)).toEqual(await (async () => {
      const again = initialiseResNet(spec, 1);
      const flat = await flattenNet(plain, again);
      again.dispose();
      return flat;
    })());
  });

  it('kizu train refuses side heads with nothing to supervise them', async () => {
    const refused = await runKizu(['train', '--data', 'nowhere.csv', '--out', 'nowhere', '--plain', '--side-heads', 'layer2']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--side-heads layer2 are supervised with the dense term: they need --dense-weight above 0 (and, with --plain, --masks)');
  });
});
