import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdir, open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describeIssues } from '../annotate/formats/common.ts';
import { writeFileAtomic } from '../data/atomic-write.ts';
import type { PackedExportItem } from '../data/packed-export-items.ts';
import { exportSettingsSchema, modelIdentitySchema, settingsDifference } from './export-settings.ts';
import type { ImageRange } from './shard.ts';

/*
 * A part: the export of one range of the manifest's images, kept format-free (each image's
 * packed item) so one merge can write any format. It lives in its own folder of the parts
 * folder, range-<start>-<end>/, as one or more segments (JSON lines: a header, then one
 * record per image in manifest order) and, once every image of the range has a record, a
 * done marker, done.json, which names the segments and how many of their bytes count.
 *
 * Each run appends only to a segment of its own, so a run that was thought dead and still
 * writes cannot tear another's lines, and a killed run leaves at worst a torn last line,
 * which the next run ignores. A rerun skips every image a segment already holds: a
 * preempted node loses the image it was on, not the range.
 */

export const PART_FORMAT = 'kizu-export-part';
export const DONE_FILE = 'done.json';

export const partHeaderSchema = z.object({
  format: z.literal(PART_FORMAT),
  version: z.literal(1),
  manifest: z.object({ digest: z.string(), images: z.number().int().nonnegative() }),
  range: z.object({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative() }),
  model: modelIdentitySchema,
  settings: exportSettingsSchema,
});
export type PartHeader = z.infer<typeof partHeaderSchema>;

const packedImageSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  deflated: z.string(),
});

const recordSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('item'),
    i: z.number().int().nonnegative(),
    id: z.string().min(1),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    channels: z.number().int().positive().optional(),
    score: z.number().optional(),
    mask: packedImageSchema,
    map: packedImageSchema.optional(),
  }),
  z.object({ kind: z.literal('below-score'), i: z.number().int().nonnegative(), id: z.string().min(1), score: z.number() }),
  z.object({ kind: z.literal('failed'), i: z.number().int().nonnegative(), id: z.string().min(1), error: z.string() }),
]);
export type PartRecord = z.infer<typeof recordSchema>;

const doneSchema = z.object({
  header: partHeaderSchema,
  segments: z.array(z.object({ file: z.string().regex(/^seg-[\w.-]+\.jsonl$/), bytes: z.number().int().nonnegative() })),
  images: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
});
export type DoneMarker = z.infer<typeof doneSchema>;

/** Records a writer may have queued for the disk before add() waits for them. */
const MAX_PENDING_WRITES = 8;

export function rangeFolderName(range: ImageRange): string {
  return `range-${String(range.start).padStart(9, '0')}-${String(range.end).padStart(9, '0')}`;
}

export function itemRecord(i: number, item: PackedExportItem): PartRecord {
  const record: PartRecord = {
    kind: 'item',
    i,
    id: item.fileName,
    width: item.width,
    height: item.height,
    mask: { width: item.mask.width, height: item.mask.height, deflated: Buffer.from(item.mask.deflated).toString('base64') },
  };
  if (item.channels !== undefined) record.channels = item.channels;
  if (item.score !== undefined) record.score = item.score;
  if (item.map) record.map = { width: item.map.width, height: item.map.height, deflated: Buffer.from(item.map.deflated).toString('base64') };
  return record;
}

export function packedItemOf(record: Extract<PartRecord, { kind: 'item' }>): PackedExportItem {
  const item: PackedExportItem = {
    fileName: record.id,
    width: record.width,
    height: record.height,
    mask: { width: record.mask.width, height: record.mask.height, deflated: new Uint8Array(Buffer.from(record.mask.deflated, 'base64')) },
  };
  if (record.score !== undefined) item.score = record.score;
  if (record.map) item.map = { width: record.map.width, height: record.map.height, deflated: new Uint8Array(Buffer.from(record.map.deflated, 'base64')) };
  if (record.channels !== undefined) item.channels = record.channels;
  return item;
}

/** Why a part's header cannot join `expected`'s run, or undefined when it can. */
export function headerDifference(expected: PartHeader, found: PartHeader): string | undefined {
  if (found.manifest.digest !== expected.manifest.digest || found.manifest.images !== expected.manifest.images) {
    return `it lists other images (a manifest of ${found.manifest.images} image(s), not the same ${expected.manifest.images})`;
  }
  if (found.model.digest !== expected.model.digest) {
    return `it was made by another model ("${found.model.name}" ${found.model.digest.slice(0, 12)} vs "${expected.model.name}" ${expected.model.digest.slice(0, 12)})`;
  }
  const settings = settingsDifference(found.settings, expected.settings);
  if (settings) return `it was made with other settings (${settings})`;
  return undefined;
}

/** Reads a segment's complete lines, at most `limit` bytes, without holding the whole file. */
export function* segmentLines(path: string, limit = Number.POSITIVE_INFINITY): Generator<{ line: string; end: number }> {
  const fd = openSync(path, 'r');
  try {
    const block = Buffer.alloc(1 << 20);
    let pending = Buffer.alloc(0);
    let offset = 0;
    while (offset < limit) {
      const n = readSync(fd, block, 0, Math.min(block.length, limit - offset), offset);
      if (n === 0) break;
      const start = offset - pending.length;
      offset += n;
      let data = Buffer.concat([pending, block.subarray(0, n)]);
      let consumed = 0;
      for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, consumed)) {
        yield { line: data.toString('utf8', consumed, nl), end: start + nl + 1 };
        consumed = nl + 1;
      }
      data = data.subarray(consumed);
      pending = Buffer.from(data);
    }
  } finally {
    closeSync(fd);
  }
}

export interface SegmentRecords {
  header: PartHeader;
  records: Generator<PartRecord>;
}

/**
 * A segment's header and its records, up to `limit` bytes. A line that does not parse is
 * allowed only as the last one (a run killed while writing it); anywhere else the segment
 * is damaged and the error says where.
 */
export function readSegment(path: string, limit?: number, onEnd?: (bytes: number) => void): SegmentRecords {
  const lines = segmentLines(path, limit);
  const first = lines.next();
  if (first.done) throw new Error(`part segment ${path}: empty`);
  const header = partHeaderSchema.safeParse(jsonOrUndefined(first.value.line));
  if (!header.success) throw new Error(`part ${describeIssues(`${path} header`, header.error?.issues ?? [])} (not a kizu part?)`);
  function* records(): Generator<PartRecord> {
    let good = first.value!.end;
    let torn: number | undefined;
    for (const { line, end } of lines) {
      if (torn !== undefined) throw new Error(`part segment ${path}: damaged line at byte ${torn} (not the last one, so not a cut-short write)`);
      const parsed = recordSchema.safeParse(jsonOrUndefined(line));
      if (!parsed.success) {
        torn = good;
        continue;
      }
      good = end;
      yield parsed.data;
    }
    onEnd?.(good);
  }
  return { header: header.data, records: records() };
}

function jsonOrUndefined(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

export async function readDoneMarker(folder: string): Promise<DoneMarker | undefined> {
  let text: string;
  try {
    text = await readFile(join(folder, DONE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = doneSchema.safeParse(jsonOrUndefined(text));
  if (!parsed.success) throw new Error(describeIssues(join(folder, DONE_FILE), parsed.error.issues));
  return parsed.data;
}

async function segmentFiles(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((f) => /^seg-[\w.-]+\.jsonl$/.test(f)).sort();
}

/** A run's writer for one range: what earlier runs finished, and a segment of its own to add to. */
export class PartWriter {
  private handle: FileHandle | undefined;
  private pendingWrite: Promise<unknown> = Promise.resolve();
  private inFlight = 0;
  private writeError: unknown;
  private bytes = 0;

  private constructor(
    readonly folder: string,
    readonly header: PartHeader,
    /** Indices earlier runs exported or left out for their score; failed ones are tried again. */
    readonly finished: ReadonlySet<number>,
    private readonly earlier: { file: string; bytes: number }[],
    private readonly segment: string,
    private failed: number,
  ) {}

  /**
   * Opens the range's folder under `partsDir`. Resolves to 'done' when its done marker is there
   * (made with the same model, settings and images), to a writer otherwise; refuses parts made
   * by another model, settings or image list, naming the difference.
   */
  static async open(partsDir: string, header: PartHeader): Promise<PartWriter | 'done'> {
    const folder = join(partsDir, rangeFolderName(header.range));
    await mkdir(folder, { recursive: true });
    const done = await readDoneMarker(folder);
    if (done) {
      const why = headerDifference(header, done.header);
      if (why) throw new Error(`${folder} cannot be reused: ${why}; remove it or export into another folder`);
      return 'done';
    }
    const finished = new Set<number>();
    const earlier: { file: string; bytes: number }[] = [];
    for (const file of await segmentFiles(folder)) {
      const path = join(folder, file);
      // A run killed before its header line was whole wrote nothing of use.
      if (segmentLines(path).next().done) continue;
      let bytes = 0;
      const { header: found, records } = readSegment(path, undefined, (b) => (bytes = b));
      const why = headerDifference(header, found);
      if (why) throw new Error(`${path} cannot be reused: ${why}; remove ${folder} or export into another folder`);
      for (const r of records) {
        if (r.i < header.range.start || r.i >= header.range.end) throw new Error(`${path}: image ${r.i} is outside the range ${header.range.start}..${header.range.end - 1}`);
        if (r.kind !== 'failed') finished.add(r.i);
      }
      earlier.push({ file, bytes });
    }
    const segment = `seg-${hostname().replace(/[^\w.-]/g, '_')}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`;
    const writer = new PartWriter(folder, header, finished, earlier, segment, 0);
    writer.handle = await open(join(folder, segment), 'wx');
    await writer.write(header);
    return writer;
  }

  /** Adds one image's record; records go in manifest order. */
  add(record: PartRecord): Promise<void> {
    if (record.kind === 'failed') this.failed++;
    return this.write(record);
  }

  /**
   * Queues one line for the disk and returns at once, unless several are still on their way
   * (then it waits for them): the engine does not stand idle on each write, and a run killed
   * meanwhile loses at most those few records, which its rerun makes again.
   */
  private write(value: unknown): Promise<void> {
    if (this.writeError !== undefined) return Promise.reject(this.writeError);
    const line = `${JSON.stringify(value)}\n`;
    const handle = this.handle!;
    this.bytes += Buffer.byteLength(line);
    this.inFlight++;
    const next = this.pendingWrite
      .then(() => handle.write(line))
      .then(
        () => void this.inFlight--,
        (err: unknown) => {
          this.inFlight--;
          this.writeError ??= err;
        },
      );
    this.pendingWrite = next;
    return this.inFlight > MAX_PENDING_WRITES ? next.then(() => this.rethrow()) : Promise.resolve();
  }

  private rethrow(): void {
    if (this.writeError !== undefined) throw this.writeError;
  }

  /** Flushes the segment to disk, then writes the done marker: the range is complete. */
  async finish(): Promise<DoneMarker> {
    await this.pendingWrite;
    this.rethrow();
    await this.handle!.sync();
    await this.handle!.close();
    this.handle = undefined;
    const marker: DoneMarker = {
      header: this.header,
      segments: [...this.earlier, { file: this.segment, bytes: this.bytes }],
      images: this.header.range.end - this.header.range.start,
      failed: this.failed,
    };
    await writeFileAtomic(join(this.folder, DONE_FILE), `${JSON.stringify(marker)}\n`);
    return marker;
  }

  /** Closes the segment without a done marker (a stopped run); the next run carries on from it. */
  async close(): Promise<void> {
    await this.pendingWrite.catch(() => undefined);
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }
}
