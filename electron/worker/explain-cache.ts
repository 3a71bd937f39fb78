import type { CamMethodName, MapLayer, MapScaleName, WireMap } from '../api.ts';

/** One method's maps on each scale the model has: per image always, on the model's scale where it has one. */
export type MapsByScale = { [S in MapScaleName]?: Record<MapLayer, WireMap> } & { 'per-image': Record<MapLayer, WireMap> };

export interface CachedExplanation {
  modelName: string;
  targetClass: number;
  probabilities: number[];
  defectProbability: number;
  calibrated: boolean;
  maps: Partial<Record<CamMethodName, MapsByScale>>;
}

function bytesOf(e: CachedExplanation): number {
  let n = 0;
  for (const scales of Object.values(e.maps)) {
    for (const layers of Object.values(scales)) for (const map of Object.values(layers)) n += map.data.byteLength;
  }
  return n;
}

/**
 * Maps by image, least recently used first out once the maps exceed a byte budget: an image
 * is explained once per model, then switching layer, method or threshold reads from here.
 */
export class ExplainCache {
  private readonly entries = new Map<string, CachedExplanation>();
  private bytes = 0;

  constructor(private readonly budgetBytes: number) {}

  static key(generation: number, path: string, modifiedAt: number): string {
    return `${generation}\u0000${modifiedAt}\u0000${path}`;
  }

  get(key: string): CachedExplanation | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: CachedExplanation): void {
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= bytesOf(old);
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.bytes += bytesOf(value);
    // The newest entry always stays, even alone over budget: the caller is about to use it.
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.budgetBytes || k === key) break;
      this.entries.delete(k);
      this.bytes -= bytesOf(v);
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }
}
