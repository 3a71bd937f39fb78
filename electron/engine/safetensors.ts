import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { bfloat16ToFloat, floatToHalf, halfToFloat } from './float16.ts';

/** The dtypes Kizu reads as floats; integer buffers are listed but never converted. */
const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'] as const;
const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

const entrySchema = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

export interface SafetensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Values as float32, converted from F16/BF16/F64; throws for integer dtypes. */
  toFloat32(): Float32Array;
}

export interface SafetensorsFile {
  source: string;
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorEntry>;
}

function fail(source: string, what: string): never {
  throw new Error(`${source}: not a valid .safetensors file: ${what}`);
}

/** Parses the safetensors layout: u64 header length, JSON header, then one data buffer. */
export function parseSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  if (bytes.byteLength < 8) fail(source, `only ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.byteLength - 8) {
    fail(source, `the header claims ${headerLength} bytes but the file has ${bytes.byteLength - 8} after the length (truncated?)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (err) {
    fail(source, `its header is not JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(source, 'its header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, SafetensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = z.record(z.string(), z.string()).parse(raw);
      continue;
    }
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) fail(source, `tensor "${name}": ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const { dtype, shape, data_offsets: [begin, end] } = parsed.data;
    const width = BYTES[dtype];
    if (width === undefined) fail(source, `tensor "${name}" has unknown dtype ${dtype}`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * width) {
      fail(source, `tensor "${name}" spans ${end - begin} bytes but ${dtype}${JSON.stringify(shape)} needs ${count * width}`);
    }
    if (end > dataLength) fail(source, `tensor "${name}" ends at byte ${end} but the data has only ${dataLength} bytes (truncated?)`);
    const slice = bytes.subarray(dataStart + begin, dataStart + end);
    tensors.set(name, { name, dtype, shape, toFloat32: () => toFloat32(slice, dtype, count, `${source}: tensor "${name}"`) });
  }
  return { source, metadata, tensors };
}

function toFloat32(slice: Uint8Array, dtype: string, count: number, where: string): Float32Array {
  const view = new DataView(slice.buffer, slice.byteOffset, slice.byteLength);
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    case 'BF16':
      for (let i = 0; i < count; i++) out[i] = bfloat16ToFloat(view.getUint16(i * 2, true));
      return out;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    default:
      throw new Error(`${where} is ${dtype}; Kizu reads only ${FLOAT_DTYPES.join(', ')} weights`);
  }
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(`${path}: cannot read the weights file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseSafetensors(bytes, path);
}

export interface TensorToWrite {
  shape: number[];
  data: Float32Array;
}

/** Encodes float tensors as F32 or F16 safetensors, in the given key order. */
export function encodeSafetensors(
  tensors: Map<string, TensorToWrite>,
  dtype: 'F32' | 'F16',
  metadata: Record<string, string> = {},
): Uint8Array {
  const width = dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const length = t.data.length * width;
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  let json = JSON.stringify(header);
  // Aligning the data to 8 bytes lets readers view it without copying, as the reference writer does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    for (let i = 0; i < t.data.length; i++, pos += width) {
      if (dtype === 'F32') view.setFloat32(pos, t.data[i], true);
      else view.setUint16(pos, floatToHalf(t.data[i]), true);
    }
  }
  return out;
}
