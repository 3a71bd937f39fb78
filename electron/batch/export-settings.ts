import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isModelDir, readManifest } from '../engine/model-dir.ts';
import { CAM_METHODS } from '../engine/cam/types.ts';
import { CAM_LAYERS } from '../engine/resnet-spec.ts';
import { MANIFEST_FILE } from '../engine/manifest.ts';

export const MAP_CHOICES = [...CAM_LAYERS, 'fused'] as const;

/** Everything that decides an image's mask besides the model: parts made with different ones cannot be merged. */
export const exportSettingsSchema = z.object({
  method: z.enum(CAM_METHODS),
  layer: z.enum(MAP_CHOICES),
  threshold: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('value'), value: z.number() }),
    z.object({ kind: z.literal('fraction-of-max'), fraction: z.number() }),
    z.object({ kind: z.literal('otsu') }),
    z.object({ kind: z.literal('top-percent'), percent: z.number() }),
  ]),
  minArea: z.number().int().nonnegative(),
  open: z.number().int().nonnegative(),
  close: z.number().int().nonnegative(),
  fillHoles: z.boolean(),
  minScore: z.number(),
  all: z.boolean(),
});
export type ExportSettings = z.infer<typeof exportSettingsSchema>;

/** Which model made a part: its name for people, a digest of its files for the check. */
export const modelIdentitySchema = z.object({ name: z.string(), digest: z.string().regex(/^[0-9a-f]{64}$/) });
export type ModelIdentity = z.infer<typeof modelIdentitySchema>;

/** The settings in one canonical shape (key order fixed), so equal settings compare and print equal. */
export function canonicalSettings(s: ExportSettings): ExportSettings {
  return exportSettingsSchema.parse({
    method: s.method,
    layer: s.layer,
    threshold: s.threshold,
    minArea: s.minArea,
    open: s.open,
    close: s.close,
    fillHoles: s.fillHoles,
    minScore: s.minScore,
    all: s.all,
  });
}

/** The first setting in which two differ, as "name: a vs b", or undefined when equal. */
export function settingsDifference(a: ExportSettings, b: ExportSettings): string | undefined {
  for (const key of Object.keys(a) as (keyof ExportSettings)[]) {
    const [x, y] = [JSON.stringify(a[key]), JSON.stringify(b[key])];
    if (x !== y) return `${key} ${x} vs ${y}`;
  }
  return undefined;
}

/** sha256 of a model directory's manifest and weights, or of a bare .safetensors file. */
export async function modelDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  const files = (await isModelDir(path)) ? [join(path, MANIFEST_FILE), join(path, (await readManifest(path)).weights.file)] : [path];
  for (const file of files) {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}
