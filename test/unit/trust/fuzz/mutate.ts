/** A seeded PRNG (mulberry32): every fuzz case is reproducible from its seed alone. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
/** Numbers that break careless parsers: huge sizes, negatives, non-finite, fractions. */
const INTERESTING_NUMBERS = ['0', '-1', '-0', '1.5', '1e309', '-1e309', '99999999', '4294967296', '2147483648', '65536', '1e-7', 'NaN', '""', 'null', '[]', '{}'];

function flipBits(rng: Rng, b: Uint8Array): Uint8Array {
  const out = b.slice();
  for (let k = 1 + rng.int(4); k > 0 && out.length > 0; k--) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return out;
}

function setBytes(rng: Rng, b: Uint8Array): Uint8Array {
  const out = b.slice();
  for (let k = 1 + rng.int(4); k > 0 && out.length > 0; k--) out[rng.int(out.length)] = rng.pick(INTERESTING_BYTES);
  return out;
}

function truncate(rng: Rng, b: Uint8Array): Uint8Array {
  return b.slice(0, rng.int(b.length));
}

/** The head of one file joined to the tail of another (or of itself elsewhere). */
function splice(rng: Rng, b: Uint8Array, donors: readonly Uint8Array[]): Uint8Array {
  const donor = rng.pick(donors);
  const cut = rng.int(b.length + 1);
  const from = rng.int(donor.length + 1);
  const out = new Uint8Array(cut + donor.length - from);
  out.set(b.subarray(0, cut));
  out.set(donor.subarray(from), cut);
  return out;
}

function insertRandom(rng: Rng, b: Uint8Array): Uint8Array {
  const at = rng.int(b.length + 1);
  const extra = Uint8Array.from({ length: 1 + rng.int(32) }, () => rng.int(256));
  const out = new Uint8Array(b.length + extra.length);
  out.set(b.subarray(0, at));
  out.set(extra, at);
  out.set(b.subarray(at), at + extra.length);
  return out;
}

function deleteRange(rng: Rng, b: Uint8Array): Uint8Array {
  const at = rng.int(b.length + 1);
  const end = Math.min(b.length, at + 1 + rng.int(64));
  const out = new Uint8Array(b.length - (end - at));
  out.set(b.subarray(0, at));
  out.set(b.subarray(end), at);
  return out;
}

function duplicateRange(rng: Rng, b: Uint8Array): Uint8Array {
  const at = rng.int(b.length + 1);
  const end = Math.min(b.length, at + 1 + rng.int(256));
  const out = new Uint8Array(b.length + (end - at));
  out.set(b.subarray(0, end));
  out.set(b.subarray(at), end);
  return out;
}

/** Replaces a run of digits (a size, a coordinate, an index) with a troublesome value. */
function replaceNumber(rng: Rng, b: Uint8Array): Uint8Array {
  const text = new TextDecoder('latin1').decode(b);
  const runs = [...text.matchAll(/-?\d+(\.\d+)?/g)];
  if (runs.length === 0) return flipBits(rng, b);
  const m = rng.pick(runs);
  const replaced = text.slice(0, m.index) + rng.pick(INTERESTING_NUMBERS) + text.slice(m.index! + m[0].length);
  return Uint8Array.from(replaced, (c) => c.charCodeAt(0) & 0xff);
}

const BINARY = [flipBits, setBytes, truncate, splice, insertRandom, deleteRange, duplicateRange] as const;

/**
 * One to three stacked mutations of `input`: bit flips, interesting bytes, truncation,
 * splices with the donors, insertions, deletions, duplications, and for text formats
 * numbers swapped for troublesome ones.
 */
export function mutate(rng: Rng, input: Uint8Array, donors: readonly Uint8Array[], text: boolean): Uint8Array {
  let out = input;
  for (let k = 1 + rng.int(3); k > 0; k--) {
    if (text && rng.next() < 0.4) {
      out = replaceNumber(rng, out);
      continue;
    }
    const op = rng.pick(BINARY);
    out = op === splice ? splice(rng, out, donors) : (op as (r: Rng, b: Uint8Array) => Uint8Array)(rng, out);
  }
  return out;
}
