import { access, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, type InfoRecord } from 'csv-parse/sync';
import { unreadableImages } from './dataset-images.ts';
import type { Dataset, DatasetItem, OpenOptions } from './dataset-types.ts';
import { ProblemLog } from './dataset-problems.ts';
import { labelMeaning } from './labels.ts';

const COLUMN_NAMES = {
  path: ['path', 'file', 'filename', 'image', 'image_path'],
  label: ['label', 'class', 'category'],
  mask: ['mask', 'mask_path', 'maskpath'],
  split: ['split', 'subset'],
  kind: ['kind', 'defect_kind', 'defect_type', 'defectkind'],
  view: ['view', 'view_id', 'viewid'],
} as const;
type Column = keyof typeof COLUMN_NAMES;

interface Row { line: number; cells: string[] }

/** Column positions from a header row, or null when the first row is data (path,label[,mask]). */
function headerColumns(first: string[]): Partial<Record<Column, number>> | null {
  const lower = first.map((c) => c.toLowerCase());
  const found: Partial<Record<Column, number>> = {};
  for (const col of Object.keys(COLUMN_NAMES) as Column[]) {
    const i = lower.findIndex((c) => (COLUMN_NAMES[col] as readonly string[]).includes(c));
    if (i >= 0) found[col] = i;
  }
  return found.path !== undefined && found.label !== undefined ? found : null;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/**
 * A CSV of path,label[,mask] rows (a header naming the columns is optional; split=train|test, a
 * defect kind column and a view column are read when present). Relative paths are relative to the CSV's folder.
 */
export async function readCsvDataset(csvPath: string, opts: OpenOptions = {}): Promise<Dataset> {
  const log = new ProblemLog(opts.strict ?? false);
  const base = dirname(csvPath);
  // With info: true each record comes with where it ended (csv-parse's typings miss this overload).
  let records: Array<{ record: string[]; info: InfoRecord }>;
  try {
    records = parse(await readFile(csvPath, 'utf8'), {
      info: true, relax_column_count: true, skip_empty_lines: true, trim: true, bom: true,
    }) as unknown as Array<{ record: string[]; info: InfoRecord }>;
  } catch (err) {
    throw new Error(`${csvPath}: not a readable CSV (${err instanceof Error ? err.message : String(err)})`);
  }
  const rows: Row[] = records.map((r) => ({ line: r.info.lines, cells: r.record }));
  if (rows.length === 0) throw new Error(`${csvPath}: the CSV is empty`);
  const header = headerColumns(rows[0].cells);
  const cols = header ?? { path: 0, label: 1, mask: 2 };
  const dataRows = header ? rows.slice(1) : rows;
  const cell = (row: Row, col: Column) => (cols[col] === undefined ? '' : (row.cells[cols[col]!] ?? '').trim());
  const where = (row: Row) => `${csvPath}:${row.line}`;

  const meaning = labelMeaning(new Set(dataRows.map((r) => cell(r, 'label')).filter((l) => l !== '')), opts.defectLabel);
  const candidates: Array<{ row: Row; item: DatasetItem }> = [];
  for (const row of dataRows) {
    const rel = cell(row, 'path'), label = cell(row, 'label');
    if (rel === '' || label === '') {
      log.report(where(row), `expected path,label[,mask] but ${rel === '' ? 'the path' : 'the label'} is empty`);
      continue;
    }
    const isDefect = meaning(label);
    if (isDefect === undefined) {
      log.report(where(row), `unknown label '${label}'; name the defect label (--defect-label) to use it`);
      continue;
    }
    const path = isAbsolute(rel) ? rel : resolve(base, rel);
    if (!(await exists(path))) {
      log.report(where(row), `image not found: ${path}`);
      continue;
    }
    const item: DatasetItem = { path, label, isDefect };
    const mask = cell(row, 'mask');
    if (mask !== '') {
      const maskPath = isAbsolute(mask) ? mask : resolve(base, mask);
      if (await exists(maskPath)) item.maskPath = maskPath;
      else log.report(where(row), `mask not found: ${maskPath}; image kept without it`);
    }
    const kind = cell(row, 'kind');
    if (kind !== '' && isDefect) item.defectKind = kind;
    const view = cell(row, 'view');
    if (view !== '') item.view = view;
    const split = cell(row, 'split').toLowerCase();
    if (split === 'train' || split === 'test') item.split = split;
    else if (split !== '') log.report(where(row), `split must be train or test, got '${split}'; image kept without a split`);
    candidates.push({ row, item });
  }
  const bad = opts.checkImages === false ? new Map<number, string>() : await unreadableImages(candidates.map((c) => c.item.path));
  const items: DatasetItem[] = [];
  for (const [i, c] of candidates.entries()) {
    if (bad.has(i)) log.report(where(c.row), `unreadable image: ${bad.get(i)}; skipped`);
    else items.push(c.item);
  }
  return { root: base, items, problems: log.problems };
}
