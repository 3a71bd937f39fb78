import type { Command } from 'commander';
import { evaluate, formatEvaluation } from '../engine/evaluate.ts';
import { defaultModelDir } from '../paths.ts';
import { nonNegativeNumber, positiveInt } from './cli-options.ts';
import { terminalProgress, type Progress } from './progress.ts';

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('classification and CAM localisation metrics on a dataset\'s test split, in Kizu\'s protocol and the field\'s')
    .requiredOption('--data <dataset>', 'a dataset with a test split and masks (e.g. from make-dataset)')
    .option('--model <dir>', 'Kizu model directory', defaultModelDir())
    .option('--defect-label <name>', 'which label means defect', 'defect')
    .option('--ok-label <name>', 'folder layouts: which folder holds the OK images (default: ok, good or normal)')
    .option('--limit <n>', 'evaluate at most N test images', positiveInt('--limit'))
    .option('--val-fraction <x>', 'the share of training images the model held out for validation (kizu train\'s --val-fraction)', nonNegativeNumber('--val-fraction'), 0.15)
    .option('--json', 'print one JSON object instead of Markdown')
    .action(async (opts: { data: string; model: string; defectLabel: string; okLabel?: string; limit?: number; valFraction: number; json?: boolean }) => {
      let bar: Progress | undefined;
      const report = await evaluate(opts, (done, total, what) => {
        bar ??= terminalProgress(total, 'evaluate');
        bar.tick(what);
      });
      bar?.stop();
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${formatEvaluation(report)}\n`);
    });
}
