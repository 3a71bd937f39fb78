import { InvalidArgumentError, type Command } from 'commander';
import { maskFromMap } from '../annotate/cleanup.ts';
import { EXPORT_FORMATS, exportAnnotations, type ExportFormat } from '../annotate/formats/index.ts';
import type { ThresholdMethod } from '../annotate/threshold.ts';
import { readImage } from '../data/image-io.ts';
import { packExportItem, unpackExportItems, type PackedExportItem } from '../data/packed-export-items.ts';
import { writeExport } from '../data/export-writer.ts';
import { describeBackend, initBackend } from '../engine/backend.ts';
import { CAM_METHODS, type CamMethod } from '../engine/cam/types.ts';
import { Explainer } from '../engine/explain.ts';
import { loadModel } from '../engine/model-loader.ts';
import { CAM_LAYERS, type CamLayer } from '../engine/resnet-spec.ts';
import { defaultModelDir } from '../paths.ts';
import { scanImageFolder } from '../service/image-folder.ts';
import { nonNegativeInt } from './cli-options.ts';
import { failureLine } from './failure-line.ts';
import { terminalProgress } from './progress.ts';

const MAP_CHOICES = [...CAM_LAYERS, 'fused'] as const;
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

interface ExportCliOptions {
  images: string;
  model: string;
  method: CamMethod;
  layer: MapChoice;
  threshold: ThresholdMethod;
  minArea: number;
  open: number;
  close: number;
  fillHoles: boolean;
  format: ExportFormat;
  out: string;
  all?: boolean;
  minScore: number;
}

/**
 * Engine and export in one go: every image is classified and explained, its map made into a
 * mask by the same maskFromMap the app previews with, and the set written in one format.
 * Only images the model calls defective get annotations unless --all. One bad image is
 * reported and the rest go on; the exit code says whether any failed.
 */
export async function runExport(opts: ExportCliOptions): Promise<{ exported: number; failed: number; files: string[] }> {
  const backend = await initBackend();
  const model = await loadModel(opts.model);
  const explainer = Explainer.fromModel(model);
  model.net.dispose();
  const { images } = await scanImageFolder(opts.images);
  if (images.length === 0) throw new Error(`${opts.images}: no images (PNG, JPEG, BMP, TIFF) found`);
  process.stderr.write(`kizu export: ${images.length} image(s), ${model.manifest.name} on ${describeBackend(backend)}\n`);
  const layers: CamLayer[] = opts.layer === 'fused' ? [...CAM_LAYERS] : [opts.layer];
  const items: PackedExportItem[] = [];
  let failed = 0;
  const progress = terminalProgress(images.length, 'export');
  try {
    for (const file of images) {
      try {
        const image = await readImage(file.path);
        const result = await explainer.explain(image, { methods: [opts.method], layers, fused: opts.layer === 'fused' });
        const score = result.probabilities[model.manifest.defectClass];
        if (opts.all || score >= opts.minScore) {
          const maps = result.maps[opts.method]!;
          const map = opts.layer === 'fused' ? maps.fused! : maps.layers[opts.layer]!.normalised;
          const { mask } = maskFromMap(map, {
            threshold: opts.threshold,
            cleanup: { minArea: opts.minArea, openRadius: opts.open, closeRadius: opts.close, fillHoles: opts.fillHoles },
          });
          items.push(packExportItem({ fileName: file.id, width: image.width, height: image.height, mask, score, map, channels: image.channels }));
        }
      } catch (err) {
        failed++;
        process.stderr.write(`\nkizu export: ${failureLine(file.path, err)}\n`);
      }
      progress.tick(file.id);
    }
  } finally {
    progress.stop();
    explainer.dispose();
  }
  const files = await writeExport(opts.out, exportAnnotations(opts.format, unpackExportItems(items)));
  process.stderr.write(`kizu export: ${items.length} annotated image(s) as ${opts.format} in ${opts.out}${failed ? `; ${failed} failed and were left out (each named above): fix or remove them and run again` : ''}\n`);
  return { exported: items.length, failed, files };
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('explain images and export their defect masks as annotations')
    .requiredOption('--images <dir>', 'a folder of images (subfolders included) or a dataset folder')
    .requiredOption('--format <name>', `one of ${EXPORT_FORMATS.join(', ')}`, choice('--format', EXPORT_FORMATS))
    .requiredOption('--out <dir>', 'output folder')
    .option('--model <dir>', 'Kizu model directory or ResNet50 .safetensors', defaultModelDir())
    .option('--method <name>', `CAM method: ${CAM_METHODS.join(', ')}`, choice('--method', CAM_METHODS), 'layercam')
    .option('--layer <name>', `map: ${MAP_CHOICES.join(', ')}`, choice('--layer', MAP_CHOICES), 'fused')
    .option('--threshold <t>', 'a value in [0, 1], otsu, max:F (fraction of the maximum) or top:P (top P %)', parseThreshold, { kind: 'value', value: 0.5 } as ThresholdMethod)
    .option('--min-area <px>', 'drop components smaller than this', nonNegativeInt('--min-area'), 16)
    .option('--open <px>', 'morphological opening radius', nonNegativeInt('--open'), 0)
    .option('--close <px>', 'morphological closing radius', nonNegativeInt('--close'), 0)
    .option('--no-fill-holes', 'keep holes inside components')
    .option('--min-score <p>', 'defect probability an image needs to be annotated', Number.parseFloat, 0.5)
    .option('--all', 'annotate every image, whatever the classifier says')
    .action(async (opts: ExportCliOptions) => {
      const { failed } = await runExport(opts);
      process.exitCode = failed ? 1 : 0;
    });
}
