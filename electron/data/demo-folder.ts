import { generateDataset, readSynthManifest } from './synth/generate.ts';

export interface DemoOptions {
  /** Texture classes; each gets 8 images (6 train, 2 test), a third of them defective. */
  classes?: number;
  size?: number;
  seed?: number;
}

export const DEMO_DEFAULTS = { classes: 3, size: 512, seed: 7 } as const;
const PER_CLASS = { trainClean: 4, trainDefect: 2, testClean: 1, testDefect: 1 } as const;

/**
 * The first-launch demo: a small synthetic DAGM-layout dataset, as `kizu make-dataset`
 * writes it (24 images by default), so the same folder serves the inspector, the training
 * panel and evaluation. Made once: the generator writes its manifest last, so a folder a
 * kill left half made is made again.
 */
export async function ensureDemoFolder(dir: string, opts: DemoOptions = {}): Promise<{ dir: string; created: boolean }> {
  const wanted = { classes: opts.classes ?? DEMO_DEFAULTS.classes, size: opts.size ?? DEMO_DEFAULTS.size, seed: opts.seed ?? DEMO_DEFAULTS.seed };
  if (await isMade(dir, wanted)) return { dir, created: false };
  await generateDataset({ out: dir, ...PER_CLASS, classes: wanted.classes, size: wanted.size, seed: wanted.seed, force: true });
  return { dir, created: true };
}

async function isMade(dir: string, wanted: Required<DemoOptions>): Promise<boolean> {
  const m = await readSynthManifest(dir);
  return m !== undefined && m.seed === wanted.seed && m.size === wanted.size && m.classes.length === wanted.classes
    && m.counts.trainClean === PER_CLASS.trainClean && m.counts.trainDefect === PER_CLASS.trainDefect
    && m.counts.testClean === PER_CLASS.testClean && m.counts.testDefect === PER_CLASS.testDefect;
}
