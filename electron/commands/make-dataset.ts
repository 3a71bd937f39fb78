import type { Command } from 'commander';
import { iouDefect } from '../data/metrics.ts';
import { datasetHardness, type HardnessReport } from '../data/synth/dataset-hardness.ts';
import { generateDataset, GENERATE_DEFAULTS } from '../data/synth/generate.ts';
import { nonNegativeInt, positiveInt } from './cli-options.ts';
import { terminalProgress, type Progress } from './progress.ts';

interface MakeDatasetOptions {
  out: string;
  classes: number;
  trainClean: number;
  trainDefect: number;
  testClean: number;
  testDefect: number;
  size: number;
  seed: number;
  workers?: number;
  force?: boolean;
  hardness?: boolean;
}

export function registerMakeDataset(program: Command): void {
  const d = GENERATE_DEFAULTS;
  program
    .command('make-dataset')
    .description('write a synthetic DAGM-like dataset (DAGM 2007 layout, weak ellipse labels and exact masks)')
    .requiredOption('--out <dir>', 'output folder (new or empty)')
    .option('--classes <n>', 'ClassN folders, one texture family each', positiveInt('--classes'), d.classes)
    .option('--train-clean <n>', 'clean training images per class', nonNegativeInt('--train-clean'), d.trainClean)
    .option('--train-defect <n>', 'defective training images per class', nonNegativeInt('--train-defect'), d.trainDefect)
    .option('--test-clean <n>', 'clean test images per class', nonNegativeInt('--test-clean'), d.testClean)
    .option('--test-defect <n>', 'defective test images per class', nonNegativeInt('--test-defect'), d.testDefect)
    .option('--size <px>', 'image side in pixels', positiveInt('--size'), d.size)
    .option('--seed <n>', 'random seed; the same arguments give byte-identical files', nonNegativeInt('--seed'), d.seed)
    .option('--workers <n>', 'worker threads (default: one per core)', positiveInt('--workers'))
    .option('--force', 'write into a folder that already has files')
    .option('--hardness', 'then measure how far the test split is from being solved by brightness alone')
    .action(async (opts: MakeDatasetOptions) => {
      let bar: Progress | undefined;
      const result = await generateDataset(opts, (done, total) => {
        if (done === 0) bar = terminalProgress(total, 'make-dataset');
        else bar?.tick('');
      });
      bar?.stop();
      const rate = result.images / result.seconds;
      process.stdout.write(`wrote ${result.images} images to ${result.out} in ${result.seconds.toFixed(1)} s (${rate.toFixed(1)} images/s)\n`);
      for (const c of result.manifest.classes) process.stdout.write(`  ${c.name}: ${c.family}\n`);
      if (opts.hardness) process.stdout.write(formatHardness(await datasetHardness(result.out)));
    });
}

function formatHardness(h: HardnessReport): string {
  const lines = [
    `hardness of the test split (${h.images} images, ${h.defective} defective; defect pixels ${(h.defectFraction * 100).toFixed(2)}%,`,
    `  so predicting nothing scores mIoU ${(0.5 - h.defectFraction / 2).toFixed(4)}):`,
    `  AUROC of global mean ${h.meanAuroc.toFixed(3)}, of global std ${h.stdAuroc.toFixed(3)} (better direction)`,
  ];
  for (const [i, e] of h.exact.entries()) {
    const w = h.weak[i];
    lines.push(`  |x - median ${2 * e.radius + 1}x${2 * e.radius + 1}| > k sigma: exact masks mIoU ${e.miou.toFixed(4)} `
      + `(IoU defect ${iouDefect(e.counts).toFixed(4)}, best k ${e.bestK.toFixed(2)}); `
      + `weak labels mIoU ${w.miou.toFixed(4)} (IoU defect ${iouDefect(w.counts).toFixed(4)}, best k ${w.bestK.toFixed(2)})`);
  }
  return `${lines.join('\n')}\n`;
}
