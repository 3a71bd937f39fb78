import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CAM_METHOD_NAMES, MAP_LAYERS, type ModelQuality } from '../api.ts';
import { writeFileAtomic } from './atomic-write.ts';

/**
 * What a project remembers beyond its images' sidecars: the model it uses (one it trained or
 * one the user chose), the models it used before (kept, so a worse new one can be undone),
 * and the last measurement of its model on reviewed masks (and of the model it replaced). `<root>/.kizu/project.json`,
 * written atomically.
 */

export const PROJECT_SETTINGS_FILE = 'project.json';
export const PROJECT_SETTINGS_VERSION = 1;
/** Previous models listed; older ones stay on disk but leave the list. */
const KEEP_PREVIOUS = 10;

const qualitySchema = z.object({
  model: z.string().min(1),
  images: z.number().int().min(0),
  method: z.enum(CAM_METHOD_NAMES),
  layer: z.enum(MAP_LAYERS),
  pixelAuroc: z.number().min(0).max(1).nullable(),
  miou: z.number().min(0).max(1).nullable(),
  measuredAt: z.string(),
});

const settingsSchema = z.object({
  schemaVersion: z.literal(PROJECT_SETTINGS_VERSION),
  model: z.string().min(1).nullable(),
  previousModels: z.array(z.string().min(1)),
  quality: qualitySchema.nullable(),
  // Absent in projects saved before it existed.
  previousQuality: qualitySchema.nullable().default(null),
});

export type ProjectSettings = z.infer<typeof settingsSchema>;

export function emptySettings(): ProjectSettings {
  return { schemaVersion: PROJECT_SETTINGS_VERSION, model: null, previousModels: [], quality: null, previousQuality: null };
}

/** The project's settings; a missing file is a new project, a bad one is reported and read as new. */
export async function readProjectSettings(kizuDir: string): Promise<{ settings: ProjectSettings; problem?: string }> {
  const path = join(kizuDir, PROJECT_SETTINGS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { settings: emptySettings() };
    return { settings: emptySettings(), problem: `${path}: cannot read (${(err as Error).message}); the project starts without a model of its own` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { settings: emptySettings(), problem: `${path}: not JSON (${(err as Error).message}); the project starts without a model of its own` };
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { settings: emptySettings(), problem: `${path}: invalid (${issues}); the project starts without a model of its own` };
  }
  return { settings: parsed.data };
}

export async function writeProjectSettings(kizuDir: string, settings: ProjectSettings): Promise<void> {
  await mkdir(kizuDir, { recursive: true });
  await writeFileAtomic(join(kizuDir, PROJECT_SETTINGS_FILE), `${JSON.stringify(settingsSchema.parse(settings), null, 2)}\n`);
}

/** The settings once `model` is the project's model: the one before goes to the top of the previous ones. */
export function withModel(settings: ProjectSettings, model: string): ProjectSettings {
  if (settings.model === model) return settings;
  const previous = [settings.model, ...settings.previousModels].filter((m): m is string => m !== null && m !== model).slice(0, KEEP_PREVIOUS);
  // A measurement belongs to the model it measured; the replaced model's stays beside it, the "before".
  const of = (m: string | null) => [settings.quality, settings.previousQuality].find((q) => q && q.model === m) ?? null;
  return { ...settings, model, previousModels: previous, quality: of(model), previousQuality: of(settings.model) };
}

export function withQuality(settings: ProjectSettings, quality: ModelQuality): ProjectSettings {
  return { ...settings, quality };
}
