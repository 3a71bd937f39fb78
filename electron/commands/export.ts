import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { EXPORT_FORMATS, exportAnnotations, type ExportFormat } from '../annotate/formats/index.ts';
import type { ThresholdMethod } from '../annotate/threshold.ts';
import { canonicalSettings, MAP_CHOICES, modelDigest, type ExportSettings } from '../batch/export-settings.ts';
import { imagePath, readManifest, scanManifest, withRoot, type ImageManifest } from '../batch/image-manifest.ts';
import { MaskExporter } from '../batch/mask-exporter.ts';
import { PART_FORMAT, rangeFolderName, type PartHeader } from '../batch/part-store.ts';
import { exportRange } from '../batch/range-export.ts';
import { parseShard, shardRange, type Shard } from '../batch/shard.ts';
import { unpackExportItems, type PackedExportItem } from '../data/packed-export-items.ts';
import { writeExport } from '../data/export-writer.ts';
import { CAM_METHODS, type CamMethod } from '../engine/cam/types.ts';
import { modelDefaults } from '../engine/model-defaults.ts';
import { defaultModelDir } from '../paths.ts';
import { nonNegativeInt } from './cli-options.ts';
import { failureLine } from '../failure-line.ts';
import { terminalProgress } from './progress.ts';

type MapChoice = (typeof MAP_CHOICES)[number];

/** `0.5` a fixed value; `otsu`; `max:0.6` a fraction of the map's maximum; `top:2` the top 2 % of pixels. */
export function parseThreshold(value: string): ThresholdMethod {
  if (value === 'otsu') return { kind: 'otsu' };
  const [kind, raw] = value.includes(':') ? value.split(':', 2) : ['value', value];
  const n = Number(raw);
  const bad = () => new InvalidArgumentError(`--threshold must be a number in [0, 1], "otsu", "max:F" or "top:P", not "${value}"`);
  if (!Number.isFinite(n)) throw bad();
  if (kind === 'value' && n >= 0 && n <= 1) return { kind: 'value', value: n };
  if (kind === 'max' && n > 0 && n <= 1) return { kind: 'fraction-of-max', fraction: n };
  if (kind === 'top' && n > 0 && n <= 100) return { kind: 'top-percent', percent: n };
  throw bad();
}

function choice<T extends string>(name: string, values: readonly T[]): (v: string) => T {
  return (v) => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}, not "${v}"`);
    return v as T;
  };
}

export interface MaskCliOptions {
  model: string;
  method: CamMethod;
  layer: MapChoice;
  /** Absent: the model's default for the map on its map scale, else 0.5. */
  threshold?: ThresholdMethod;
  minArea: number;
  open: number;
  close: number;
  fillHoles: boolean;
  all?: boolean;
  /** Absent: the model's decision threshold, else 0.5. */
  minScore?: number;
}

interface ExportCliOptions extends MaskCliOptions {
  images?: string;
  manifest?: string;
  shard?: string;
  format?: ExportFormat;
  out: string;
}

/** The export's settings, what the options leave out taken from the model (its map scale's threshold, its decision threshold). */
export async function settingsOf(opts: MaskCliOptions): Promise<ExportSettings> {
  const defaults = opts.threshold && opts.minScore !== undefined ? null : await modelDefaults(opts.model, opts.method, opts.layer);
  return canonicalSettings({
    method: opts.method,
    layer: opts.layer,
    threshold: opts.threshold ?? { kind: 'value', value: defaults!.threshold },
    minArea: opts.minArea,
    open: opts.open,
    close: opts.close,
    fillHoles: opts.fillHoles,
    minScore: opts.minScore ?? defaults!.minScore,
    all: opts.all ?? false,
  });
}

/** The images to export: a manifest (its folder, or --images where this machine mounts it), else the folder scanned now. */
async function imageList(opts: ExportCliOptions): Promise<ImageManifest> {
  if (opts.manifest) return withRoot(await readManifest(opts.manifest), opts.images);
  if (!opts.images) throw new Error('kizu export: give --images DIR or --manifest FILE');
  return scanManifest(opts.images);
}

/**
 * Engine and export in one go: every image is classified and explained, its map made into a
 * mask by the same maskFromMap the app previews with, and the set written in one format.
 * Only images the model calls defective get annotations unless --all. One bad image is
 * reported and the rest go on; the exit code says whether any failed.
 */
export async function runExport(opts: ExportCliOptions): Promise<{ exported: number; failed: number; files: string[] }> {
  if (opts.shard !== undefined) return runShard(opts, parseShard(opts.shard));
  if (!opts.format) throw new Error('kizu export: --format is needed (only --shard writes format-free parts, which kizu merge formats)');
  const manifest = await imageList(opts);
  if (manifest.ids.length === 0) throw new Error(`${opts.images ?? opts.manifest}: no images (PNG, JPEG, BMP, TIFF) found`);
  const settings = await settingsOf(opts);
  const exporter = await MaskExporter.open(opts.model, settings);
  process.stderr.write(`kizu export: ${manifest.ids.length} image(s), ${exporter.modelName} on ${exporter.engine}; ${await defaultsLine(opts, settings)}\n`);
  const items: PackedExportItem[] = [];
  let failed = 0;
  const progress = terminalProgress(manifest.ids.length, 'export');
  try {
    for (const [i, id] of manifest.ids.entries()) {
      const path = imagePath(manifest, i);
      try {
        const outcome = await exporter.exportImage(path, id);
        if (outcome.kind === 'item') items.push(outcome.item);
      } catch (err) {
        failed++;
        process.stderr.write(`\nkizu export: ${failureLine(path, err)}\n`);
      }
      progress.tick(id);
    }
  } finally {
    progress.stop();
    exporter.dispose();
  }
  const files = await writeExport(opts.out, exportAnnotations(opts.format, unpackExportItems(items)));
  process.stderr.write(`kizu export: ${items.length} annotated image(s) as ${opts.format} in ${opts.out}${failed ? `; ${failed} failed and were left out (each named above): fix or remove them and run again` : ''}\n`);
  return { exported: items.length, failed, files };
}

/** One shard: its slice of the manifest into its part under --out, carrying on from an earlier run. */
async function runShard(opts: ExportCliOptions, shard: Shard): Promise<{ exported: number; failed: number; files: string[] }> {
  if (opts.format) throw new Error('kizu export --shard writes format-free parts: leave out --format and give it to kizu merge');
  if (!opts.manifest) throw new Error('kizu export --shard needs --manifest FILE (make it once with kizu manifest), so every shard slices the same list');
  const manifest = await imageList(opts);
  const range = shardRange(shard, manifest.ids.length);
  const header: PartHeader = {
    format: PART_FORMAT,
    version: 1,
    manifest: { digest: manifest.digest, images: manifest.ids.length },
    range,
    model: { name: '', digest: await modelDigest(opts.model) },
    settings: await settingsOf(opts),
  };
  const exporter = await MaskExporter.open(opts.model, header.settings);
  header.model.name = exporter.modelName;
  const what = `shard ${shard.index}/${shard.count} (images ${range.start}..${range.end - 1} of ${manifest.ids.length}, from ${shard.source})`;
  process.stderr.write(`kizu export: ${what}, ${exporter.modelName} on ${exporter.engine}\n`);
  const progress = terminalProgress(range.end - range.start, 'shard');
  let result;
  try {
    result = await exportRange(exporter, manifest, opts.out, header, {
      onImage: (id) => progress.tick(id),
      onFailure: (line) => process.stderr.write(`\nkizu export: ${line}\n`),
    });
  } finally {
    progress.stop();
    exporter.dispose();
  }
  const folder = join(opts.out, rangeFolderName(range));
  process.stderr.write(
    result.alreadyDone
      ? `kizu export: ${what} was already done in ${folder}\n`
      : `kizu export: ${what} done in ${folder}: ${result.exported} exported, ${result.skipped} done by an earlier run${result.failed ? `, ${result.failed} failed (each named above; kizu merge leaves them out)` : ''}\n`,
  );
  return { exported: result.exported, failed: result.failed, files: [folder] };
}

/** Says where the threshold and the minimum score came from, so a log shows what the masks were cut at. */
async function defaultsLine(opts: MaskCliOptions, settings: ExportSettings): Promise<string> {
  const d = await modelDefaults(opts.model, opts.method, opts.layer);
  const t = settings.threshold;
  const threshold = opts.threshold ? `threshold ${JSON.stringify(t)}` : `threshold ${d.threshold} (${d.thresholdFromModel ? "the model's default for this map" : 'the model has no map scale: maps normalised per image'})`;
  const score = opts.minScore !== undefined ? `min score ${settings.minScore}` : `min score ${settings.minScore} (${d.minScoreFromModel ? "the model's decision threshold" : 'uncalibrated model'})`;
  return `${threshold}, ${score}`;
}

/** The model and the options that make an image's mask, shared by kizu export and kizu queue submit. */
export function addMaskOptions(command: Command): Command {
  return command
    .option('--model <dir>', 'Kizu model directory or ResNet50 .safetensors', defaultModelDir())
    .option('--method <name>', `CAM method: ${CAM_METHODS.join(', ')}`, choice('--method', CAM_METHODS), 'layercam')
    .option('--layer <name>', `map: ${MAP_CHOICES.join(', ')}`, choice('--layer', MAP_CHOICES), 'fused')
    .option('--threshold <t>', "a value in [0, 1], otsu, max:F (fraction of the maximum) or top:P (top P %); default: the model's threshold for the map on its map scale, else 0.5", parseThreshold)
    .option('--min-area <px>', 'drop components smaller than this', nonNegativeInt('--min-area'), 16)
    .option('--open <px>', 'morphological opening radius', nonNegativeInt('--open'), 0)
    .option('--close <px>', 'morphological closing radius', nonNegativeInt('--close'), 0)
    .option('--no-fill-holes', 'keep holes inside components')
    .option('--min-score <p>', "defect probability an image needs to be annotated; default: the model's decision threshold (calibrated on its validation split), else 0.5", Number.parseFloat)
    .option('--all', 'annotate every image, whatever the classifier says');
}

export function registerExport(program: Command): void {
  const command = program
    .command('export')
    .description('explain images and export their defect masks as annotations')
    .option('--images <dir>', 'a folder of images (subfolders included) or a dataset folder; with --manifest, where this machine finds its images')
    .option('--manifest <file>', 'the image list made by kizu manifest (instead of scanning --images now)')
    .option('--shard <I/N|auto>', "export only the I-th (0-based) of N slices of --manifest into a part under --out, for kizu merge; auto: from the array engine's variables")
    .option('--format <name>', `one of ${EXPORT_FORMATS.join(', ')} (not with --shard)`, choice('--format', EXPORT_FORMATS))
    .requiredOption('--out <dir>', 'output folder (with --shard: the parts folder)');
  addMaskOptions(command)
    .action(async (opts: ExportCliOptions) => {
      const { failed } = await runExport(opts);
      process.exitCode = failed ? 1 : 0;
    });
}
