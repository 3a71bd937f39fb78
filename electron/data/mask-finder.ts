import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { isImageFile } from './dataset-images.ts';
import { dirNames, fileNames, stemOf } from './fs-names.ts';

/** Folders that hold masks rather than images, beside the image folders they belong to. */
const MASK_DIRS = new Set(['masks', 'mask', 'gt', 'ground_truth', 'groundtruth']);
/** Suffixes that make `<stem><suffix>.<ext>` the mask of `<stem>.<ext'>` (KolektorSDD2 uses _GT). */
const MASK_SUFFIXES = ['_mask', '_label', '_gt'];

export function isMaskDirName(name: string): boolean {
  return MASK_DIRS.has(name.toLowerCase());
}

/** `scratch_mask.png` -> `scratch`; undefined when the name has no mask suffix. */
function maskBase(name: string): string | undefined {
  const stem = stemOf(name).toLowerCase();
  const suffix = MASK_SUFFIXES.find((s) => stem.endsWith(s) && stem.length > s.length);
  return suffix ? stemOf(name).slice(0, -suffix.length) : undefined;
}

export interface FolderImages {
  /** Image files, recursively, sorted; mask files and mask folders left out. */
  images: string[];
  /** Mask-named files (`x_mask.png`...) with no image of their stem beside them. */
  orphanMasks: string[];
}

/**
 * Lists the images under `dir` the way a folder-with-masks dataset means them: hidden folders and
 * mask folders are skipped, and a file is a mask, not an image, when it is named
 * `<stem>_mask|_label|_gt.*` or is `<stem>.png` beside a `<stem>.jpg` (or other non-PNG image).
 */
export async function listImagesWithoutMasks(dir: string): Promise<FolderImages> {
  const out: FolderImages = { images: [], orphanMasks: [] };
  const files = (await fileNames(dir)).filter(isImageFile);
  const stems = new Map<string, string[]>();
  for (const f of files) {
    const s = stemOf(f).toLowerCase();
    stems.set(s, [...(stems.get(s) ?? []), f]);
  }
  for (const f of files) {
    const base = maskBase(f);
    if (base !== undefined) {
      if (!stems.has(base.toLowerCase())) out.orphanMasks.push(join(dir, f));
      continue;
    }
    const sameStem = stems.get(stemOf(f).toLowerCase())!;
    const isPngBesideOther = extname(f).toLowerCase() === '.png' && sameStem.some((o) => extname(o).toLowerCase() !== '.png');
    if (!isPngBesideOther) out.images.push(join(dir, f));
  }
  for (const sub of await dirNames(dir)) {
    if (isMaskDirName(sub)) continue;
    const inner = await listImagesWithoutMasks(join(dir, sub));
    out.images.push(...inner.images);
    out.orphanMasks.push(...inner.orphanMasks);
  }
  out.images.sort();
  return out;
}

/** Finds masks by the conventions above; caches folder listings, as one dataset asks thousands of times. */
export class MaskFinder {
  private readonly listings = new Map<string, Promise<string[]>>();
  private readonly subdirs = new Map<string, Promise<string[]>>();

  /** @param root the dataset root: sibling mask folders are looked for up to it, not above. */
  constructor(private readonly root: string) {}

  private files(dir: string): Promise<string[]> {
    if (!this.listings.has(dir)) this.listings.set(dir, fileNames(dir).then((f) => f.filter(isImageFile)));
    return this.listings.get(dir)!;
  }

  private dirs(dir: string): Promise<string[]> {
    if (!this.subdirs.has(dir)) this.subdirs.set(dir, dirNames(dir));
    return this.subdirs.get(dir)!;
  }

  /** The first file in `dir` named `<stem><suffix>.<any image ext>` for the suffixes given. */
  private async named(dir: string, stem: string, suffixes: readonly string[]): Promise<string | undefined> {
    const files = await this.files(dir);
    for (const suffix of suffixes) {
      const wanted = `${stem}${suffix}`.toLowerCase();
      const hit = files.find((f) => stemOf(f).toLowerCase() === wanted);
      if (hit) return join(dir, hit);
    }
    return undefined;
  }

  /**
   * The mask of `image`, in this order: `<stem>_mask|_label|_gt.*` beside it; `<stem>.png` beside
   * a non-PNG image; then in a mask folder (masks/, GT/, ground_truth/) beside its folder or beside
   * any folder above it up to the root, either flat (`masks/<stem>.*`) or mirroring the image's
   * folders (`masks/<label>/<stem>.*`), with or without a mask suffix.
   */
  async find(image: string): Promise<string | undefined> {
    const dir = dirname(image), stem = stemOf(basename(image));
    const beside = await this.named(dir, stem, MASK_SUFFIXES);
    if (beside) return beside;
    if (extname(image).toLowerCase() !== '.png') {
      const png = (await this.files(dir)).find((f) => f.toLowerCase() === `${stem}.png`.toLowerCase());
      if (png) return join(dir, png);
    }
    const anyName = ['', ...MASK_SUFFIXES];
    for (let above = dirname(dir); !relative(this.root, above).startsWith('..'); above = dirname(above)) {
      const inside = relative(above, dir);
      for (const m of (await this.dirs(above)).filter(isMaskDirName)) {
        const flat = inside === basename(dir) ? await this.named(join(above, m), stem, anyName) : undefined;
        const mirrored = flat ?? (await this.named(join(above, m, ...inside.split(sep)), stem, anyName));
        if (mirrored) return mirrored;
      }
      if (above === this.root || above === dirname(above)) break;
    }
    return undefined;
  }
}
