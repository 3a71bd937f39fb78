import { InvalidArgumentError } from 'commander';
import type { InputSizePolicy } from '../engine/manifest.ts';

/** commander argument parsers that reject bad values with a message naming the option. */

export function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, not "${value}"`);
    return n;
  };
}

export function nonNegativeInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, not "${value}"`);
    return n;
  };
}

export function nonNegativeNumber(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number, not "${value}"`);
    return n;
  };
}

export function positiveNumber(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, not "${value}"`);
    return n;
  };
}

export function choice<T extends string>(name: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!choices.includes(value as T)) throw new InvalidArgumentError(`${name} must be one of ${choices.join(', ')}, not "${value}"`);
    return value as T;
  };
}

export function numberList(name: string): (value: string) => number[] {
  return (value) => {
    const parts = value.split(',').map((v) => Number(v.trim()));
    if (parts.length === 0 || parts.some((v) => !Number.isFinite(v))) throw new InvalidArgumentError(`${name} must be comma-separated numbers, not "${value}"`);
    return parts;
  };
}

export function oneOf<T extends string>(name: string, choices: readonly T[]): (value: string, previous?: T[]) => T[] {
  return (value, previous) => {
    const picked = value.split(',').map((v) => v.trim());
    for (const p of picked) {
      if (!choices.includes(p as T)) throw new InvalidArgumentError(`${name} must be one of ${choices.join(', ')}, not "${p}"`);
    }
    return [...(previous ?? []), ...(picked as T[])];
  };
}

export function inputSize(value: string): InputSizePolicy {
  if (value === 'native') return { policy: 'native', maxSide: 4096 };
  const n = Number(value);
  if (!Number.isInteger(n) || n < 32 || n > 4096) throw new InvalidArgumentError(`--input-size must be "native" or an integer 32..4096, not "${value}"`);
  return { policy: 'fixed', height: n, width: n };
}
