import { createHash } from 'node:crypto';
import { mkdir, readFile, realpath, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { z } from 'zod';
import { decodeLabelPng, encodeGreyPng } from '../annotate/png-codec.ts';
import {
  DEFAULT_MASK_PARAMS, IMAGE_LABELS, LABEL_OF_REVIEW, maskParamsSchema, REVIEW_STATES, type ImageLabel, type MaskParams, type ReviewState, type WireMask,
} from '../api.ts';
import { writeFileAtomic } from './atomic-write.ts';

/**
 * A project's state beside its images: `<root>/.kizu/<image id>.json` per image (review
 * state, label, mask parameters, classification score) and the mask it points to,
 * `<root>/.kizu/<image id>.mask-<hash>.png` (0 background, 255 defect). Every file is written
 * atomically; the mask first under a name of its own content, then the sidecar that names it,
 * so a kill at any point leaves a sidecar and the very mask it was saved with.
 */

export const KIZU_DIR = '.kizu';
export const SIDECAR_SCHEMA_VERSION = 1;

const sidecarSchema = z.object({
  schemaVersion: z.literal(SIDECAR_SCHEMA_VERSION),
  image: z.string().min(1),
  /** Image-level label the operator gave, or a review implied: what training from the project uses. */
  label: z.enum(IMAGE_LABELS).nullable(),
  state: z.enum(REVIEW_STATES),
  params: maskParamsSchema,
  score: z.number().min(0).max(1).nullable(),
  /** The model that gave the score. */
  scoreModel: z.string().nullable(),
  mask: z
    .object({
      file: z.string().regex(/^[^/\\]+\.mask-[0-9a-f]{16}\.png$/, 'must be a mask file name beside the sidecar'),
      width: z.number().int().positive(),
      height: z.number().int().positive(),
    })
    .nullable(),
  updatedAt: z.string().nullable(),
});

export type Sidecar = z.infer<typeof sidecarSchema>;

/** A sidecar or mask path that a symbolic link leads out of the project: never read or written. */
export class OutsideProjectError extends Error {
  constructor(readonly path: string, root: string) {
    super(`${path}: the project's ${KIZU_DIR} folder leads outside ${root} (a symbolic link); Kizu keeps its state only inside the folder`);
    this.name = 'OutsideProjectError';
  }
}

export interface StoreProblem {
  file: string;
  message: string;
}

export interface SidecarRead {
  sidecar: Sidecar;
  /** Set when a sidecar or its mask existed but could not be used: the image then counts as unreviewed. */
  problem?: StoreProblem;
}

export function emptySidecar(id: string): Sidecar {
  return {
    schemaVersion: SIDECAR_SCHEMA_VERSION, image: id, label: null, state: 'unreviewed',
    params: DEFAULT_MASK_PARAMS, score: null, scoreModel: null, mask: null, updatedAt: null,
  };
}

export interface ReviewUpdate {
  state: ReviewState;
  params: MaskParams;
  mask: WireMask | null;
}

export class ProjectStore {
  readonly dir: string;
  // Saves of one image run one after another: each save removes the mask the previous one wrote.
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(readonly root: string) {
    this.dir = join(root, KIZU_DIR);
  }

  sidecarPath(id: string): string {
    return join(this.dir, ...id.split('/')) + '.json';
  }

  maskPath(id: string, file: string): string {
    return join(dirname(this.sidecarPath(id)), file);
  }

  /** The image's sidecar; a missing one is a fresh image, a bad one is reported and replaced by a fresh one. */
  async read(id: string): Promise<SidecarRead> {
    const path = this.sidecarPath(id);
    let text: string;
    try {
      await this.assertInside(path);
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { sidecar: emptySidecar(id) };
      if (err instanceof OutsideProjectError) return { sidecar: emptySidecar(id), problem: { file: path, message: `${err.message}; the image is treated as unreviewed` } };
      return { sidecar: emptySidecar(id), problem: { file: path, message: `cannot read the sidecar (${(err as Error).message})` } };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return { sidecar: emptySidecar(id), problem: { file: path, message: `the sidecar is not JSON (${(err as Error).message}); the image is treated as unreviewed` } };
    }
    const version = (raw as { schemaVersion?: unknown } | null)?.schemaVersion;
    if (typeof version === 'number' && version > SIDECAR_SCHEMA_VERSION) {
      return { sidecar: emptySidecar(id), problem: { file: path, message: `written by a newer Kizu (sidecar schema ${version}, this one reads ${SIDECAR_SCHEMA_VERSION}); the image is treated as unreviewed` } };
    }
    const parsed = sidecarSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      return { sidecar: emptySidecar(id), problem: { file: path, message: `invalid sidecar (${issues}); the image is treated as unreviewed` } };
    }
    if (parsed.data.image !== id) {
      return { sidecar: emptySidecar(id), problem: { file: path, message: `the sidecar belongs to "${parsed.data.image}", not "${id}"; the image is treated as unreviewed` } };
    }
    return { sidecar: parsed.data };
  }

  /** The mask a sidecar names, checked against the size the sidecar records. */
  async readMask(sidecar: Sidecar): Promise<WireMask | null> {
    if (!sidecar.mask) return null;
    const path = this.maskPath(sidecar.image, sidecar.mask.file);
    await this.assertInside(path);
    return readMaskPng(path, sidecar.mask.width, sidecar.mask.height);
  }

  /** The sidecar with its mask; an unreadable mask is reported and the image counts as unreviewed (its score kept). */
  async loadReview(id: string): Promise<SidecarRead & { mask: WireMask | null }> {
    const read = await this.read(id);
    try {
      return { ...read, mask: await this.readMask(read.sidecar) };
    } catch (err) {
      const file = read.sidecar.mask ? this.maskPath(id, read.sidecar.mask.file) : this.sidecarPath(id);
      const { score, scoreModel } = read.sidecar;
      return {
        sidecar: { ...emptySidecar(id), score, scoreModel },
        mask: null,
        problem: { file, message: `cannot read the saved mask (${(err as Error).message}); the image is treated as unreviewed` },
      };
    }
  }

  /** Saves a review (state, parameters, mask) and keeps the stored score. */
  saveReview(id: string, update: ReviewUpdate, now = new Date()): Promise<Sidecar> {
    return this.serialise(id, async () => {
      const { sidecar: previous } = await this.read(id);
      const next: Sidecar = {
        ...previous, state: update.state, label: LABEL_OF_REVIEW[update.state] ?? previous.label, params: update.params,
        mask: update.mask ? await this.writeMask(id, update.mask) : null, updatedAt: now.toISOString(),
      };
      await this.writeSidecar(id, next);
      await this.dropMask(previous, next);
      return next;
    });
  }

  /**
   * Sets or clears the image-level label; the review and its mask stay as they are. Like a
   * review, a label the user gives replaces an unreadable sidecar.
   */
  saveLabel(id: string, label: ImageLabel | null, now = new Date()): Promise<Sidecar> {
    return this.serialise(id, async () => {
      const { sidecar: previous } = await this.read(id);
      const next: Sidecar = { ...previous, label, updatedAt: now.toISOString() };
      await this.writeSidecar(id, next);
      return next;
    });
  }

  /**
   * Records a classification score without touching the review. An unreadable sidecar is
   * left as it is (it may be a newer Kizu's): only a review the user makes replaces it.
   */
  saveScore(id: string, score: number, model: string): Promise<Sidecar> {
    return this.serialise(id, async () => {
      const { sidecar: previous, problem } = await this.read(id);
      if (problem) return { ...previous, score, scoreModel: model };
      const next: Sidecar = { ...previous, score, scoreModel: model };
      await this.writeSidecar(id, next);
      return next;
    });
  }

  private async writeMask(id: string, mask: WireMask): Promise<NonNullable<Sidecar['mask']>> {
    const values = new Uint8Array(mask.data.length);
    for (let i = 0; i < values.length; i++) values[i] = mask.data[i] ? 255 : 0;
    const png = encodeGreyPng(mask.width, mask.height, values);
    const hash = createHash('sha256').update(png).digest('hex').slice(0, 16);
    const file = `${baseName(id)}.mask-${hash}.png`;
    const path = this.maskPath(id, file);
    await this.assertInside(path);
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, png);
    return { file, width: mask.width, height: mask.height };
  }

  private async writeSidecar(id: string, sidecar: Sidecar): Promise<void> {
    const path = this.sidecarPath(id);
    await this.assertInside(path);
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, `${JSON.stringify(sidecar, null, 2)}\n`);
  }

  /**
   * Refuses a path under .kizu that a link leads out of the project: the file itself when it
   * exists, else the deepest of its folders that does (folders made below it are real ones).
   */
  private async assertInside(path: string): Promise<void> {
    const root = await realpath(this.root);
    for (let at = path; ; at = dirname(at)) {
      let real: string;
      try {
        real = await realpath(at);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && dirname(at) !== at) continue;
        throw err;
      }
      const rel = relative(root, real);
      if (rel.startsWith('..') || isAbsolute(rel)) throw new OutsideProjectError(path, this.root);
      return;
    }
  }

  /** Removes the mask the previous sidecar named once the new sidecar no longer does. */
  private async dropMask(previous: Sidecar, next: Sidecar): Promise<void> {
    if (!previous.mask || previous.mask.file === next.mask?.file) return;
    await unlink(this.maskPath(previous.image, previous.mask.file)).catch(() => undefined);
  }

  private serialise<T>(id: string, work: () => Promise<T>): Promise<T> {
    const before = this.queues.get(id) ?? Promise.resolve();
    const run = before.then(work, work);
    const settled = run.catch(() => undefined);
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return run;
  }
}

/** A stored mask PNG as 0/1, checked against the size its sidecar records. */
export async function readMaskPng(path: string, width: number, height: number): Promise<WireMask> {
  const png = decodeLabelPng(new Uint8Array(await readFile(path)), path);
  if (png.width !== width || png.height !== height) {
    throw new Error(`${path}: mask is ${png.width}x${png.height}, the sidecar says ${width}x${height}`);
  }
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = png.values[i] ? 1 : 0;
  return { width, height, data };
}

function baseName(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1);
}
