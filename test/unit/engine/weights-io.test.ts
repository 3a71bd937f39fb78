import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bfloat16ToFloat, floatToHalf, halfToFloat } from '../../../electron/engine/float16.ts';
import { encodeSafetensors, parseSafetensors, readSafetensors } from '../../../electron/engine/safetensors.ts';
import { stateDictFromSafetensors } from '../../../electron/engine/state-dict.ts';
import { resnetSpec } from '../../../electron/engine/resnet-spec.ts';
import { loadTinyFixture } from '../helpers/fixture.ts';

const fixture = await loadTinyFixture();
const tmp = mkdtempSync(join(tmpdir(), 'kizu-weights-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Re-encodes the fixture's parameters, optionally changing one entry. */
function reencode(dtype: 'F32' | 'F16', edit?: (name: string, shape: number[]) => number[] | null): Uint8Array {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, e] of fixture.weights.tensors) {
    if (e.dtype !== 'F32') continue;
    const shape = edit ? edit(name, e.shape) : e.shape;
    if (shape === null) continue;
    const count = shape.reduce((a, b) => a * b, 1);
    const data = e.toFloat32();
    tensors.set(name, { shape, data: count === data.length ? data : new Float32Array(count) });
  }
  return encodeSafetensors(tensors, dtype);
}

describe('half precision', () => {
  it('round-trips representable values and rounds to nearest even', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, -0.333251953125]) {
      expect(halfToFloat(floatToHalf(v))).toBe(v);
    }
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00);
    expect(floatToHalf(1e6)).toBe(0x7c00);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
  });

  it('reads bfloat16 as the top half of a float32', () => {
    expect(bfloat16ToFloat(0x3f80)).toBe(1);
    expect(bfloat16ToFloat(0xc040)).toBe(-3);
  });
});

describe('safetensors', () => {
  it('reads torchvision-named F32 weights and ignores num_batches_tracked (I64)', () => {
    expect(fixture.weights.tensors.get('bn1.num_batches_tracked')!.dtype).toBe('I64');
    const { weights, headMissing } = stateDictFromSafetensors(fixture.weights, fixture.spec);
    expect(headMissing).toBe(false);
    expect(weights.get('layer3.2.bn1.running_var')!.shape).toEqual([32]);
    expect(weights.has('bn1.num_batches_tracked')).toBe(false);
  });

  it('reads F16 and BF16 files to within their precision', () => {
    const f16 = parseSafetensors(reencode('F16'), 'f16.safetensors');
    const w = f16.tensors.get('conv1.weight')!.toFloat32();
    const ref = fixture.weights.tensors.get('conv1.weight')!.toFloat32();
    for (let i = 0; i < ref.length; i++) expect(Math.abs(w[i] - ref[i])).toBeLessThanOrEqual(Math.abs(ref[i]) * 2 ** -11 + 1e-7);

    const header = JSON.stringify({ x: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } });
    const bytes = new Uint8Array(8 + header.length + 4);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    bytes.set([0x80, 0x3f, 0x40, 0xc0], 8 + header.length);
    expect(Array.from(parseSafetensors(bytes, 'bf16.safetensors').tensors.get('x')!.toFloat32())).toEqual([1, -3]);
  });

  it('names the file when it is truncated', async () => {
    const full = reencode('F32');
    const path = join(tmp, 'truncated.safetensors');
    writeFileSync(path, full.subarray(0, full.length - 100));
    await expect(readSafetensors(path)).rejects.toThrow(/truncated\.safetensors: not a valid \.safetensors file: tensor "fc\.weight" ends at byte \d+ but the data has only \d+ bytes \(truncated\?\)/);
    writeFileSync(path, full.subarray(0, 5));
    await expect(readSafetensors(path)).rejects.toThrow(/truncated\.safetensors: not a valid \.safetensors file: only 5 bytes/);
  });

  it('names the file and the first tensor whose shape is wrong', () => {
    const bytes = reencode('F32', (name, shape) => (name === 'layer2.1.conv2.weight' ? [shape[0], shape[1], 5, 5] : shape));
    const file = parseSafetensors(bytes, 'wrong.safetensors');
    expect(() => stateDictFromSafetensors(file, fixture.spec)).toThrow(
      'wrong.safetensors: tensor "layer2.1.conv2.weight" has shape [16,16,5,5] but the model needs [16,16,3,3]',
    );
  });

  it('names a missing tensor and an unexpected one', () => {
    const missing = parseSafetensors(reencode('F32', (name, shape) => (name === 'layer4.0.bn2.bias' ? null : shape)), 'missing.safetensors');
    expect(() => stateDictFromSafetensors(missing, fixture.spec)).toThrow('missing.safetensors: tensor "layer4.0.bn2.bias" is missing');
    const wider = resnetSpec({ ...fixture.spec.config, blocks: [3, 4, 5, 3] });
    expect(() => stateDictFromSafetensors(fixture.weights, wider)).toThrow(/tensor "layer3\.5\.conv1\.weight" is not a parameter/);
  });

  it('rejects a file whose header is not JSON', () => {
    const bytes = new Uint8Array(20);
    new DataView(bytes.buffer).setBigUint64(0, 12n, true);
    bytes.set(new TextEncoder().encode('not json!!!!'), 8);
    expect(() => parseSafetensors(bytes, 'bad.safetensors')).toThrow(/bad\.safetensors: not a valid \.safetensors file: its header is not JSON/);
  });

  it('drops a mismatched head for fine-tuning and adapts a colour stem to grey input', () => {
    const grey = resnetSpec({ ...fixture.spec.config, inChannels: 1, numClasses: 2 });
    const loaded = stateDictFromSafetensors(fixture.weights, grey, { allowHeadMismatch: true });
    expect(loaded.headMissing).toBe(true);
    expect(loaded.weights.has('fc.weight')).toBe(false);
    const stem = loaded.weights.get('conv1.weight')!;
    expect(stem.shape).toEqual([8, 1, 7, 7]);
    const ref = fixture.weights.tensors.get('conv1.weight')!.toFloat32();
    expect(stem.data[0]).toBeCloseTo(ref[0] + ref[49] + ref[98], 6);
  });
});
