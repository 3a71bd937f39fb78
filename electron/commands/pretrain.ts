import type { Command } from 'commander';
import { DEFAULT_TRAINING_MINUTES } from '../api.ts';
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from '../engine/train/train.ts';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber } from './cli-options.ts';
import { budgetMinutes, runTrainCli } from './train.ts';

type PretrainCliOptions = Pick<TrainOptions, 'data' | 'out' | 'epochs' | 'batch' | 'microBatch' | 'lr' | 'inputSize' | 'width' | 'init' | 'seed' | 'workers' | 'checkpointEvery' | 'pretextCrop' | 'denseWeight' | 'minutes' | 'okLabel'> & { resume?: boolean };

/**
 * The recipe's pretext alone: synthetic defects drawn onto OK images, learnt from their exact
 * masks. No label is needed, so a line's archive of good parts is enough; the model it writes
 * is an `--init` for `kizu train` (and for the app's Train).
 */
export function registerPretrain(program: Command): void {
  const d = DEFAULT_TRAIN_OPTIONS;
  program
    .command('pretrain')
    .description('learn local features from OK images alone (synthetic defects, no labels); the model is an --init for train')
    .requiredOption('--data <folder>', 'a folder of OK images, or any dataset layout (its OK training images are used)')
    .requiredOption('--out <dir>', 'model directory to write (checkpoints and train-log.jsonl go there too)')
    .option('--ok-label <name>', 'folder layouts: which folder holds the OK images')
    .option('--minutes <n>', `time budget: plan the schedule to end within N minutes; overrides --epochs (default: ${DEFAULT_TRAINING_MINUTES} unless --epochs is given)`, positiveNumber('--minutes'))
    .option('--epochs <n>', 'epochs over the OK images, instead of a time budget', positiveInt('--epochs'), d.epochs)
    .option('--batch <n>', 'crops per optimiser step', positiveInt('--batch'), d.batch)
    .option('--micro-batch <n>', 'crops per pass; gradients accumulate to --batch', positiveInt('--micro-batch'), d.microBatch)
    .option('--lr <x>', 'peak learning rate (warm-up then cosine)', nonNegativeNumber('--lr'), d.lr)
    .option('--input-size <n>', 'square input size the images are brought to', positiveInt('--input-size'), d.inputSize)
    .option('--pretext-crop <n>', 'side of the crops trained on, at the input resolution', positiveInt('--pretext-crop'), d.pretextCrop)
    .option('--width <n>', 'stem width (64 = torchvision ResNet50); default: that of --init, else 16', positiveInt('--width'))
    .option('--init <weights>', 'start from a ResNet50 .safetensors or a Kizu model dir')
    .option('--dense-weight <x>', 'weight of the class-score-map loss on the drawn defects', nonNegativeNumber('--dense-weight'), d.denseWeight)
    .option('--resume', 'continue from the checkpoint in --out')
    .option('--seed <n>', 'seed for initialisation, sampling, augmentation and the drawn defects', nonNegativeInt('--seed'), d.seed)
    .option('--workers <n>', 'data-parallel worker threads (0 = this thread)', nonNegativeInt('--workers'), d.workers)
    .option('--checkpoint-every <n>', 'steps between checkpoints', positiveInt('--checkpoint-every'), d.checkpointEvery)
    .action(async (opts: PretrainCliOptions, command: Command) => {
      await runTrainCli('pretrain', {
        ...DEFAULT_TRAIN_OPTIONS, ...opts, minutes: budgetMinutes(opts.minutes, command), resume: Boolean(opts.resume), pretextOnly: true, command: `kizu ${process.argv.slice(2).join(' ')}`,
      });
    });
}
