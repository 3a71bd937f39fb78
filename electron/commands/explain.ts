import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { COLORMAPS, type ColormapName } from '../annotate/colormap.ts';
import { imagePath, readManifest } from '../batch/image-manifest.ts';
import { parseShard, shardRange } from '../batch/shard.ts';
import { readImage, writePng } from '../data/image-io.ts';
import { encodeNpyFloat32 } from '../data/npy.ts';
import { initBackend } from '../engine/backend.ts';
import { CAM_METHODS, type CamMethod } from '../engine/cam/types.ts';
import { Explainer, type Explanation, type Map2D } from '../engine/explain.ts';
import { refinerFor, scaledMaps } from '../engine/map-scale.ts';
import { mapsEngineLine } from '../engine/maps-engine.ts';
import { loadModel } from '../engine/model-loader.ts';
import { renderMap } from '../engine/render-maps.ts';
import { CAM_LAYERS, type CamLayer } from '../engine/resnet-spec.ts';
import { defaultModelDir } from '../paths.ts';
import { inputSize, nonNegativeInt, numberList, oneOf, positiveInt } from './cli-options.ts';
import { failureLine } from '../failure-line.ts';
import { terminalProgress } from './progress.ts';
import type { InputSizePolicy } from '../engine/manifest.ts';

const MAP_CHOICES = [...CAM_LAYERS, 'fused'] as const;
type MapChoice = (typeof MAP_CHOICES)[number];

interface ExplainCliOptions {
  model: string;
  numClasses?: number;
  mean?: number[];
  std?: number[];
  method?: CamMethod[];
  layer?: MapChoice[];
  targetClass?: number;
  inputSize?: InputSizePolicy;
  out: string;
  raw?: boolean;
  colormap: ColormapName;
  opacity: number;
  /** Each map min-max normalised on its own, even where the model has a map scale. */
  stretch?: boolean;
}

/** The map to write: on the model's scale where given its scaled maps, else min-max normalised per image. */
function pickMap(result: Explanation, method: CamMethod, choice: MapChoice, scaled: Partial<Record<MapChoice, Float32Array>> | null): Map2D {
  const [height, width] = result.imageSize;
  if (scaled) return { width, height, data: scaled[choice]! };
  const maps = result.maps[method];
  return choice === 'fused' ? maps!.fused! : maps!.layers[choice]!.normalised;
}

export async function runExplain(images: string[], opts: ExplainCliOptions): Promise<{ failed: number }> {
  const backend = await initBackend();
  const model = await loadModel(opts.model, { numClasses: opts.numClasses, mean: opts.mean, std: opts.std, inputSize: opts.inputSize });
  const explainer = Explainer.fromModel(model);
  model.net.dispose();
  const methods = opts.method ?? ['layercam'];
  const choices = opts.layer ?? [...MAP_CHOICES];
  const layers = CAM_LAYERS.filter((l) => choices.includes(l) || choices.includes('fused'));
  // The scale is fitted on the defect class's maps: another target's maps are shown per image.
  const scale = !opts.stretch && (opts.targetClass ?? model.manifest.defectClass) === model.manifest.defectClass ? model.manifest.mapScale ?? null : null;
  const scaleNote = scale ? "maps on the model's scale" : opts.stretch ? 'maps stretched per image (--stretch)' : 'maps normalised per image (the model has no map scale)';
  const scoreNote = model.manifest.calibration ? 'p(defect) calibrated on the validation split' : 'p(defect) the softmax, uncalibrated';
  process.stderr.write(`kizu explain: ${model.manifest.name} on ${await mapsEngineLine(explainer, backend)}; ${scaleNote}; ${scoreNote}\n`);
  await mkdir(opts.out, { recursive: true });
  const progress = terminalProgress(images.length, 'explain');
  let failed = 0;
  for (const path of images) {
    try {
      const image = await readImage(path);
      const result = await explainer.explain(image, { methods, layers: layers as CamLayer[], targetClass: opts.targetClass, fused: choices.includes('fused') });
      const stem = basename(path, extname(path));
      const refiner = await refinerFor(scale ?? undefined, image, result.inputSize);
      for (const method of methods) {
        const scaled = scale ? await scaledMaps(result, method, scale, refiner) : null;
        for (const choice of choices) {
          const map = pickMap(result, method, choice, scaled);
          const base = join(opts.out, `${stem}.${method}.${choice}`);
          const { heatmap, overlay } = renderMap(image, map, opts.colormap, opts.opacity);
          await writePng(`${base}.heatmap.png`, { width: image.width, height: image.height, channels: 3, data: heatmap });
          await writePng(`${base}.overlay.png`, { width: image.width, height: image.height, channels: 3, data: overlay });
          if (opts.raw) await writeFile(`${base}.npy`, encodeNpyFloat32(map.data, [map.height, map.width]));
        }
      }
      const probs = result.probabilities.map((p, i) => `${model.manifest.classes[i]}=${p.toFixed(4)}`).join(' ');
      const calibrated = result.calibrated ? ` p(defect)=${result.defectProbability.toFixed(4)} (calibrated)` : '';
      process.stdout.write(`${path}: ${probs}${calibrated} (target ${model.manifest.classes[result.targetClass]})\n`);
    } catch (err) {
      failed++;
      process.stderr.write(`\nkizu explain: ${failureLine(path, err)}\n`);
    }
    progress.tick(basename(path));
  }
  progress.stop();
  explainer.dispose();
  if (failed) process.stderr.write(`kizu explain: ${failed} of ${images.length} image(s) failed (each named above): fix or remove them and run again\n`);
  return { failed };
}

/** The files given, or a manifest's images; with a shard, its slice of them. */
async function imagesToExplain(files: string[], manifestPath: string | undefined, shard: string | undefined): Promise<string[]> {
  if (manifestPath && files.length > 0) throw new Error('kizu explain: give image files or --manifest, not both');
  let images = files;
  if (manifestPath) {
    const manifest = await readManifest(manifestPath);
    images = manifest.ids.map((_, i) => imagePath(manifest, i));
  }
  if (images.length === 0) throw new Error('kizu explain: no images: give image files or --manifest FILE');
  if (shard === undefined) return images;
  const { start, end } = shardRange(parseShard(shard), images.length);
  return images.slice(start, end);
}

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('compute CAM maps for images and write heatmaps, overlays and (with --raw) .npy maps')
    .argument('[images...]', 'image files (PNG, JPEG, BMP, TIFF)')
    .option('--manifest <file>', 'the images of a list made by kizu manifest, instead of files')
    .option('--shard <I/N|auto>', "only the I-th (0-based) of N slices of the images; auto: from the array engine's variables")
    .requiredOption('--out <dir>', 'output folder')
    .option('--model <path>', 'Kizu model directory or a ResNet50 .safetensors', defaultModelDir())
    .option('--num-classes <n>', 'classes of a bare .safetensors head', positiveInt('--num-classes'))
    .option('--mean <m,m,m>', 'normalisation mean (default: the manifest, or ImageNet for .safetensors)', numberList('--mean'))
    .option('--std <s,s,s>', 'normalisation std', numberList('--std'))
    .option('--method <name>', `CAM method(s): ${CAM_METHODS.join(', ')} (repeatable; default layercam)`, oneOf('--method', CAM_METHODS))
    .option('--layer <name>', `map(s): ${MAP_CHOICES.join(', ')} (repeatable; default all)`, oneOf('--layer', MAP_CHOICES))
    .option('--target-class <n>', 'class whose score is explained (default: the defect class)', nonNegativeInt('--target-class'))
    .option('--input-size <native|N>', 'network input size (default: the manifest)', inputSize)
    .option('--raw', 'also write the float32 map as .npy [H, W], on the scale the heatmap shows')
    .option('--stretch', "min-max normalise each map on its own (for faint structure), even where the model has a map scale")
    .option('--colormap <name>', `heatmap colours: ${COLORMAPS.join(', ')}`, 'turbo')
    .option('--opacity <x>', 'overlay opacity 0..1', Number.parseFloat, 0.45)
    .action(async (files: string[], opts: ExplainCliOptions & { manifest?: string; shard?: string }) => {
      if (!COLORMAPS.includes(opts.colormap)) throw new Error(`--colormap must be one of ${COLORMAPS.join(', ')}`);
      const images = await imagesToExplain(files, opts.manifest, opts.shard);
      const { failed } = await runExplain(images, opts);
      process.exitCode = failed ? 1 : 0;
    });
}
