import { join } from 'node:path';

/**
 * The DAGM 2007 layout as published: ClassN/{Train,Test}/NNNN.PNG, the weak labels in
 * Label/NNNN_label.PNG and an index in Label/Labels.txt. Its first line holds a single number;
 * each further line is tab-separated: row number, 1 if defective else 0, image file, 0, and the
 * label file (or 0 when there is none). Kizu adds the exact mask as Label/NNNN_mask.PNG.
 */
export type DagmSplit = 'Train' | 'Test';
export const DAGM_SPLITS: readonly DagmSplit[] = ['Train', 'Test'];

export function imageName(index: number): string {
  return `${String(index).padStart(4, '0')}.PNG`;
}

function stemOf(imageFile: string): string {
  return imageFile.replace(/\.[^.]+$/, '');
}

export function weakLabelName(imageFile: string): string {
  return `${stemOf(imageFile)}_label.PNG`;
}

export function exactMaskName(imageFile: string): string {
  return `${stemOf(imageFile)}_mask.PNG`;
}

export function splitDir(root: string, classIndex: number, split: DagmSplit): string {
  return join(root, `Class${classIndex}`, split);
}

export interface LabelsEntry {
  image: string;
  isDefect: boolean;
  /** Weak label file name inside Label/, for defective images. */
  label?: string;
}

export function formatLabelsTxt(entries: readonly LabelsEntry[]): string {
  const rows = entries.map((e, i) => `${i + 1}\t${e.isDefect ? 1 : 0}\t${e.image}\t0\t${e.label ?? 0}`);
  return ['1', ...rows].join('\n') + '\n';
}

export interface ParsedLabels {
  entries: Array<LabelsEntry & { line: number }>;
  problems: Array<{ line: number; message: string }>;
}

/** Lenient about whitespace, CRLF and a missing header line; strict about each row's fields. */
export function parseLabelsTxt(text: string): ParsedLabels {
  const out: ParsedLabels = { entries: [], problems: [] };
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = i + 1, fields = raw.trim().split(/\s+/).filter((f) => f !== '');
    if (fields.length === 0) continue;
    if (i === 0 && fields.length === 1 && /^\d+$/.test(fields[0])) continue;
    if (fields.length < 3) {
      out.problems.push({ line, message: `expected 'row<TAB>0|1<TAB>image<TAB>0<TAB>label', got '${raw.trim()}'` });
      continue;
    }
    const [, flag, image, , label] = fields;
    if (flag !== '0' && flag !== '1') {
      out.problems.push({ line, message: `defect flag must be 0 or 1, got '${flag}'` });
      continue;
    }
    const isDefect = flag === '1';
    out.entries.push({ line, image, isDefect, ...(isDefect && label && label !== '0' ? { label } : {}) });
  }
  return out;
}
