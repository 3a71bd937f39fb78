import { describe, expect, it } from 'vitest';
import { base64ToBytes, base64ToBytesPortable, bytesToBase64, bytesToBase64Portable, decodeWire, encodeWire } from '../../../electron/wire.ts';

describe('wire codec', () => {
  it('carries Float32Array and Uint8Array as typed arrays, bit for bit, inside nested objects', () => {
    const map = new Float32Array([0, 0.1, 1, -2.5, Number.MIN_VALUE, 3.4e38]);
    const mask = new Uint8Array([0, 1, 255, 7]);
    const out = decodeWire(encodeWire({ maps: { layercam: { fused: { width: 3, height: 2, data: map } } }, mask: { data: mask }, n: 3, s: 'x' })) as {
      maps: { layercam: { fused: { width: number; data: Float32Array } } };
      mask: { data: Uint8Array };
      n: number;
      s: string;
    };
    expect(out.maps.layercam.fused.data).toBeInstanceOf(Float32Array);
    expect(Array.from(out.maps.layercam.fused.data)).toEqual(Array.from(map));
    expect(out.mask.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(out.mask.data)).toEqual([0, 1, 255, 7]);
    expect([out.n, out.s, out.maps.layercam.fused.width]).toEqual([3, 'x', 3]);
  });

  it('encodes only the viewed part of an array that shares a larger buffer', () => {
    const whole = new Float32Array([1, 2, 3, 4, 5]);
    const view = whole.subarray(1, 3);
    expect(Array.from(decodeWire(encodeWire(view)) as Float32Array)).toEqual([2, 3]);
  });

  it('is far smaller than plain JSON for a map and survives 1 MB arrays', () => {
    const big = new Float32Array(256 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = Math.fround(Math.sin(i) * 0.5 + 0.5);
    const text = encodeWire(big);
    expect(text.length).toBeLessThan(JSON.stringify(Array.from(big)).length / 3);
    const back = decodeWire(text) as Float32Array;
    expect(back.length).toBe(big.length);
    expect(back[12345]).toBe(big[12345]);
  });

  it('refuses typed arrays the API does not carry, and a truncated float payload', () => {
    expect(() => encodeWire({ a: new Int16Array(2) })).toThrow(/Int16Array is not carried/);
    const bad = JSON.stringify({ $kizuTyped: 'f32', base64: bytesToBase64(new Uint8Array(6)) });
    expect(() => decodeWire(bad)).toThrow(/not a whole number of floats/);
  });

  it('round-trips every byte value through base64, the browser\'s way and Node\'s alike', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(Array.from(base64ToBytes(bytesToBase64(all)))).toEqual(Array.from(all));
    // Longer than one String.fromCharCode slice, with a view that does not start at 0.
    const big = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7919) % 256).subarray(3);
    const portable = bytesToBase64Portable(big);
    expect(portable).toBe(bytesToBase64(big));
    expect(base64ToBytesPortable(portable)).toEqual(base64ToBytes(portable));
    expect(Array.from(base64ToBytesPortable(portable).subarray(0, 4))).toEqual(Array.from(big.subarray(0, 4)));
  });
});
