import { DEFAULT_MASK_PARAMS, type WireMask } from '../../../../electron/api.ts';
import { exportAnnotations } from '../../../../electron/annotate/formats/index.ts';
import type { ExportFiles } from '../../../../electron/annotate/types.ts';

/**
 * The saves the kill test makes and checks: every file carries the number of the iteration
 * that wrote it, so after a kill each can be matched to "the one before" or "the new one".
 */

export const WIDTH = 64;
export const HEIGHT = 32;
export const VERSION_BITS = 24;
export const IMAGE_IDS = ['a.png', 'sub/b.png'];
/** An image only labelled, never reviewed: its label flips with the version. */
export const LABELLED_ID = 'c.png';
export const PARAMS = DEFAULT_MASK_PARAMS;

/** A mask whose first row spells `version` in binary, with a block below whose size changes with it. */
export function maskFor(version: number): WireMask {
  const data = new Uint8Array(WIDTH * HEIGHT);
  for (let bit = 0; bit < VERSION_BITS; bit++) data[bit] = (version >> bit) & 1;
  for (let y = 8; y < 24; y++) for (let x = 8; x < 9 + (version % 48); x++) data[y * WIDTH + x] = 1;
  return { width: WIDTH, height: HEIGHT, data };
}

export function versionOfMask(values: ArrayLike<number>): number {
  let version = 0;
  for (let bit = 0; bit < VERSION_BITS; bit++) if (values[bit]) version |= 1 << bit;
  return version;
}

export const labelOf = (version: number) => (version % 2 ? 'defect' : 'ok');

/** The sidecar's save time is the version in seconds. */
export const timeOf = (version: number) => new Date(version * 1000);
export const versionOfTime = (iso: string) => Date.parse(iso) / 1000;

/** An export of one image in two formats: COCO (its score is the version / 1e6) and a PNG mask. */
export function exportFor(version: number): ExportFiles {
  const item = { fileName: 'a.png', width: WIDTH, height: HEIGHT, mask: maskFor(version), score: version / 1e6 };
  return { ...exportAnnotations('coco', [item]), ...exportAnnotations('png', [item]) };
}

export const EXPORT_FILES = Object.keys(exportFor(1)).sort();
