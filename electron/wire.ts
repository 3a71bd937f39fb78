/**
 * JSON for the web mode's HTTP API, with the typed arrays the API carries (maps as
 * Float32Array, masks and PNGs as Uint8Array) sent as base64 instead of JSON's one number
 * per element, which is about six times larger and slow to parse. Electron's IPC does not
 * need this: structured clone carries typed arrays as they are.
 *
 * Pure: no Node import, no DOM beyond btoa/atob (global in browsers and Node >= 16), so the
 * renderer's HTTP client imports the very same codec; under Node it uses Buffer's base64.
 */

const TAG = '$kizuTyped';

type TypedKind = 'f32' | 'u8';

interface TypedEnvelope {
  [TAG]: TypedKind;
  base64: string;
}

/** Node's Buffer, when there is one: its base64 is native and about fifty times faster. */
interface NodeBufferClass {
  from(data: ArrayBuffer, byteOffset: number, length: number): { toString(encoding: 'base64'): string };
  from(data: string, encoding: 'base64'): Uint8Array;
}
const NodeBuffer = (globalThis as { Buffer?: NodeBufferClass }).Buffer;

// String.fromCharCode takes its arguments on the stack: feed it bounded slices.
const CHUNK = 0x8000;

/** The browser's way (btoa), also what Node would do without Buffer. */
export function bytesToBase64Portable(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return btoa(binary);
}

export function base64ToBytesPortable(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function bytesToBase64(bytes: Uint8Array): string {
  if (!NodeBuffer) return bytesToBase64Portable(bytes);
  return NodeBuffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Always a fresh, aligned buffer of its own, so a Float32Array can be laid over it. */
export function base64ToBytes(base64: string): Uint8Array {
  return NodeBuffer ? new Uint8Array(NodeBuffer.from(base64, 'base64')) : base64ToBytesPortable(base64);
}

function envelope(value: Float32Array | Uint8Array): TypedEnvelope {
  const kind: TypedKind = value instanceof Float32Array ? 'f32' : 'u8';
  return { [TAG]: kind, base64: bytesToBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
}

function isEnvelope(value: unknown): value is TypedEnvelope {
  return typeof value === 'object' && value !== null && TAG in value && typeof (value as TypedEnvelope).base64 === 'string';
}

function open(value: TypedEnvelope): Float32Array | Uint8Array {
  const bytes = base64ToBytes(value.base64);
  switch (value[TAG]) {
    case 'u8':
      return bytes;
    case 'f32':
      if (bytes.length % 4 !== 0) throw new Error(`wire: a Float32Array of ${bytes.length} bytes is not a whole number of floats`);
      return new Float32Array(bytes.buffer, 0, bytes.length / 4);
    default:
      throw new Error(`wire: unknown typed array kind "${String(value[TAG])}"`);
  }
}

/** JSON.stringify with Float32Array and Uint8Array kept as typed arrays (other typed arrays are refused). */
export function encodeWire(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Float32Array || v instanceof Uint8Array) return envelope(v);
    if (ArrayBuffer.isView(v)) throw new Error(`wire: ${v.constructor.name} is not carried by the API (use Float32Array or Uint8Array)`);
    return v;
  });
}

/** JSON.parse that turns encodeWire's envelopes back into Float32Array and Uint8Array. */
export function decodeWire(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => (isEnvelope(v) ? open(v) : v));
}
