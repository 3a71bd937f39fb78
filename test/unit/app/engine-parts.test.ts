import { describe, expect, it } from 'vitest';
import type { WireMap } from '../../../electron/api.ts';
import { ExplainCache, type CachedExplanation } from '../../../electron/worker/explain-cache.ts';
import { PriorityGate } from '../../../electron/worker/priority-gate.ts';

function entry(bytesPerMap: number): CachedExplanation {
  const map = (): WireMap => ({ width: bytesPerMap / 4, height: 1, data: new Float32Array(bytesPerMap / 4) });
  return { modelName: 'm', targetClass: 1, probabilities: [0.5, 0.5], defectProbability: 0.5, calibrated: false, maps: { layercam: { 'per-image': { layer2: map(), layer3: map(), layer4: map(), fused: map() } } } };
}

describe('ExplainCache', () => {
  it('forgets the least recently used images beyond its byte budget', () => {
    const cache = new ExplainCache(3 * 4 * 400);
    const keys = [1, 2, 3, 4].map((i) => ExplainCache.key(1, `/p/${i}.png`, 100));
    cache.set(keys[0], entry(400));
    cache.set(keys[1], entry(400));
    cache.set(keys[2], entry(400));
    expect(cache.get(keys[0])).toBeDefined();
    cache.set(keys[3], entry(400));
    expect([keys.map((k) => cache.get(k) !== undefined)]).toEqual([[true, false, true, true]]);
    expect(cache.sizeBytes).toBe(3 * 4 * 400);
  });

  it('keys by model generation and modification time, and keeps a lone entry over budget', () => {
    expect(ExplainCache.key(1, '/a.png', 5)).not.toBe(ExplainCache.key(2, '/a.png', 5));
    expect(ExplainCache.key(1, '/a.png', 5)).not.toBe(ExplainCache.key(1, '/a.png', 6));
    const cache = new ExplainCache(10);
    cache.set('k', entry(400));
    expect(cache.size).toBe(1);
    cache.clear();
    expect([cache.size, cache.sizeBytes]).toEqual([0, 0]);
  });
});

describe('PriorityGate', () => {
  it('runs one piece of work at a time and lets interactive work go before waiting batch work', async () => {
    const gate = new PriorityGate();
    const order: string[] = [];
    let release!: () => void;
    const first = gate.run('batch', () => new Promise<void>((r) => (release = () => (order.push('batch 1'), r()))));
    const batch2 = gate.run('batch', async () => void order.push('batch 2'));
    const batch3 = gate.run('batch', async () => void order.push('batch 3'));
    const interactive = gate.run('interactive', async () => void order.push('interactive'));
    await Promise.resolve();
    expect(order).toEqual([]);
    release();
    await Promise.all([first, batch2, batch3, interactive]);
    expect(order).toEqual(['batch 1', 'interactive', 'batch 2', 'batch 3']);
  });

  it('carries on after a failure', async () => {
    const gate = new PriorityGate();
    await expect(gate.run('interactive', async () => { throw new Error('bad image'); })).rejects.toThrow('bad image');
    expect(await gate.run('batch', async () => 42)).toBe(42);
  });
});
