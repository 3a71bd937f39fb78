import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { exportAnnotations, type ExportFormat } from '../annotate/formats/index.ts';
import type { ExportItem } from '../annotate/types.ts';
import { writeExport } from '../data/export-writer.ts';
import { unpackExportItem } from '../data/packed-export-items.ts';
import { DONE_FILE, headerDifference, packedItemOf, readDoneMarker, readSegment, type DoneMarker, type PartRecord } from './part-store.ts';

export interface FinishedRange {
  folder: string;
  done: DoneMarker;
}

/**
 * The finished ranges in `paths` (parts folders, or range folders themselves), checked to be
 * one run's: same images, model and settings, covering every image exactly once. Refuses,
 * naming the culprit, before anything is read further or written.
 */
export async function finishedRanges(paths: readonly string[]): Promise<FinishedRange[]> {
  if (paths.length === 0) throw new Error('merge: no parts given');
  const folders: string[] = [];
  for (const given of paths) {
    const path = resolve(given);
    const s = await stat(path).catch(() => undefined);
    if (!s?.isDirectory()) throw new Error(`merge: ${given} is not a folder of parts`);
    const entries = await readdir(path);
    if (basename(path).startsWith('range-')) folders.push(path);
    else {
      const ranges = entries.filter((e) => /^range-\d+-\d+$/.test(e)).map((e) => join(path, e));
      if (ranges.length === 0) throw new Error(`merge: ${given} holds no parts (range-* folders from kizu export --shard or kizu worker)`);
      folders.push(...ranges);
    }
  }
  const ranges: FinishedRange[] = [];
  for (const folder of [...new Set(folders)]) {
    const done = await readDoneMarker(folder);
    if (!done) throw new Error(`merge: ${folder} is not finished (no ${DONE_FILE}): run its shard again, it carries on where it stopped`);
    ranges.push({ folder, done });
  }
  const first = ranges[0];
  for (const r of ranges.slice(1)) {
    const why = headerDifference(first.done.header, r.done.header);
    if (why) throw new Error(`merge: ${r.folder} does not belong with ${first.folder}: ${why}`);
  }
  ranges.sort((a, b) => a.done.header.range.start - b.done.header.range.start || a.done.header.range.end - b.done.header.range.end);
  const total = first.done.header.manifest.images;
  let next = 0;
  for (const r of ranges) {
    const { start, end } = r.done.header.range;
    if (start < next) throw new Error(`merge: ${r.folder} overlaps the part before it (images ${start}..${next - 1} twice: parts of two different shard counts?)`);
    if (start > next) throw new Error(`merge: images ${next}..${start - 1} of ${total} have no part (a shard or chunk not run yet?)`);
    next = end;
  }
  if (next !== total) throw new Error(`merge: images ${next}..${total - 1} of ${total} have no part (a shard or chunk not run yet?)`);
  return ranges;
}

export interface MergeReport {
  /** Images left out because they failed, each as "<path>: <why>". */
  failures: string[];
  annotated: number;
}

/**
 * The ranges' annotated images in manifest order, unpacked one at a time as a format reads
 * them. Where runs overlapped (a job retried while its first run still wrote), an image has
 * several records: the first exported one counts, so each image is in the export once.
 */
export function* mergedItems(ranges: readonly FinishedRange[], report: MergeReport): Generator<ExportItem> {
  for (const range of ranges) {
    const { start, end } = range.done.header.range;
    const streams = range.done.segments.map(({ file, bytes }) => {
      const path = join(range.folder, file);
      const records = readSegment(path, bytes).records;
      return { path, records, head: records.next() };
    });
    for (let i = start; i < end; i++) {
      let chosen: PartRecord | undefined;
      for (const s of streams) {
        while (!s.head.done && s.head.value.i < i) s.head = s.records.next();
        if (s.head.done || s.head.value.i !== i) continue;
        const record = s.head.value;
        if (chosen === undefined || (chosen.kind === 'failed' && record.kind !== 'failed')) chosen = record;
        if (chosen.id !== record.id) throw new Error(`merge: ${s.path}: image ${i} is "${record.id}" there but "${chosen.id}" in another segment`);
        s.head = s.records.next();
      }
      if (chosen === undefined) throw new Error(`merge: ${range.folder}: image ${i} has no record although the part is marked done (damaged part: run the shard again after removing ${DONE_FILE})`);
      if (chosen.kind === 'item') {
        report.annotated++;
        yield unpackExportItem(packedItemOf(chosen));
      } else if (chosen.kind === 'failed') {
        report.failures.push(chosen.error);
      }
    }
  }
}

export interface MergeResult extends MergeReport {
  parts: number;
  images: number;
  files: string[];
}

/**
 * One export from the parts of shards or queue jobs, in any format: the same items in the
 * same order as a single `kizu export` of the manifest gives the formats, so the same bytes.
 * Everything is checked, and the whole export made, before a file is written.
 */
export async function mergeParts(parts: readonly string[], format: ExportFormat, out: string): Promise<MergeResult> {
  const ranges = await finishedRanges(parts);
  const report: MergeReport = { failures: [], annotated: 0 };
  const files = await writeExport(out, exportAnnotations(format, mergedItems(ranges, report)));
  return { ...report, parts: ranges.length, images: ranges[0].done.header.manifest.images, files };
}
