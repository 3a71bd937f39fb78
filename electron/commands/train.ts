import type { Command } from 'commander';
import { DEFAULT_TRAINING_MINUTES } from '../api.ts';
import { DEFAULT_TRAIN_OPTIONS, PLAIN_BASELINE, sideHeadsFor, train, type TrainOptions } from '../engine/train/train.ts';
import { parseSideHeads, type SideHeadLayer } from '../engine/train/side-heads.ts';
import { choice, nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber } from './cli-options.ts';
import { terminalProgress, type Progress } from './progress.ts';

/** What commander hands over: the options minus those set only through the API. */
type TrainCliOptions = Omit<TrainOptions, 'augment' | 'command' | 'resume' | 'pooling' | 'masks' | 'maskLimit' | 'sideHeads'> & { resume?: boolean; pooling: 'avg' | 'topk'; topkFraction: number; plain?: boolean; last?: boolean; masks?: true | number; sideHeads?: SideHeadLayer[] };

export function registerTrain(program: Command): void {
  const d = DEFAULT_TRAIN_OPTIONS;
  program
    .command('train')
    .description('train the defect classifier on image-level labels (and, with --masks, on the training split\'s masks)')
    .requiredOption('--data <dataset>', 'a DAGM-layout folder, a folder per label, or a CSV of path,label')
    .requiredOption('--out <dir>', 'model directory to write (checkpoints and train-log.jsonl go there too)')
    .option('--defect-label <name>', 'which label means defect', d.defectLabel)
    .option('--ok-label <name>', 'folder layouts: which folder holds the OK images (default: ok, good or normal); every other folder is a defect kind')
    .option('--epochs <n>', 'train for N epochs instead of a time budget', positiveInt('--epochs'), d.epochs)
    .option('--batch <n>', 'images per optimiser step', positiveInt('--batch'), d.batch)
    .option('--micro-batch <n>', 'images per pass; gradients accumulate to --batch', positiveInt('--micro-batch'), d.microBatch)
    .option('--lr <x>', 'peak learning rate (warm-up then cosine)', nonNegativeNumber('--lr'), d.lr)
    .option('--optimizer <name>', 'sgd (with momentum) or adamw', choice('--optimizer', ['sgd', 'adamw'] as const), d.optimizer)
    .option('--momentum <x>', 'SGD momentum', nonNegativeNumber('--momentum'), d.momentum)
    .option('--weight-decay <x>', 'L2 on conv and fc weights', nonNegativeNumber('--weight-decay'), d.weightDecay)
    .option('--warmup-epochs <n>', 'linear warm-up length', nonNegativeInt('--warmup-epochs'), d.warmupEpochs)
    .option('--input-size <n>', 'input side: images train at about N x N pixels, shaped like the set\'s median image (a square set at N x N)', positiveInt('--input-size'), d.inputSize)
    .option('--width <n>', 'stem width (64 = torchvision ResNet50; smaller = narrower, same topology); default: that of --init, else 16', positiveInt('--width'))
    .option('--init <weights>', 'start from a ResNet50 .safetensors (torchvision/timm names) or a Kizu model dir')
    .option('--resume', 'continue from the checkpoint in --out')
    .option('--seed <n>', 'seed for initialisation, sampling and augmentation', nonNegativeInt('--seed'), d.seed)
    .option('--val-fraction <x>', 'share of training images held out for validation', nonNegativeNumber('--val-fraction'), d.valFraction)
    .option('--view-pattern <regex>', 'a regular expression over each image\'s path relative to the dataset that names the view (part position, camera) it shows: its capture groups, or the whole match. Photographs of one view stay on one side of the seeded test split and of the validation split, so near-duplicates are never scored against each other; kizu evaluate reads it from the manifest')
    .option('--workers <n>', 'data-parallel worker threads (0 = this thread)', nonNegativeInt('--workers'), d.workers)
    .option('--checkpoint-every <n>', 'steps between checkpoints', positiveInt('--checkpoint-every'), d.checkpointEvery)
    .option('--no-balance', 'sample classes as they come instead of balancing them')
    .option('--minutes <n>', `time budget: plan the schedule (phases, learning-rate decay) to end within N minutes, the whole run's (--resume gets what is left); overrides --epochs (default: ${DEFAULT_TRAINING_MINUTES} unless --epochs is given)`, positiveNumber('--minutes'))
    .option('--pooling <kind>', 'head: topk (mean of the most defect-like layer4 positions) or avg (torchvision)', choice('--pooling', ['topk', 'avg'] as const), d.pooling.kind)
    .option('--topk-fraction <x>', 'share of layer4 positions the topk head averages', positiveNumber('--topk-fraction'), d.pooling.kind === 'topk' ? d.pooling.fraction : 1 / 16)
    .option('--pretext-fraction <x>', 'share of the run spent on synthetic defects drawn onto OK images (0 = none)', nonNegativeNumber('--pretext-fraction'), d.pretextFraction)
    .option('--pretext-crop <n>', 'side of the crops the pretext trains on, at the input resolution', positiveInt('--pretext-crop'), d.pretextCrop)
    .option('--clip-norm <x>', 'largest gradient norm a step applies (0 = no limit)', nonNegativeNumber('--clip-norm'), d.clipNorm)
    .option('--paste-rate <x>', 'after the pretext, share of OK images still given a synthetic defect', nonNegativeNumber('--paste-rate'), d.pasteRate)
    .option('--dense-weight <x>', 'weight of the class-score-map loss on synthetic defects and OK images (0 = off)', nonNegativeNumber('--dense-weight'), d.denseWeight)
    .option('--side-heads <layers>', 'training-only 1x1 heads at layer2 / layer3 that the dense term\'s truth (synthetic defects, masks, OK images) supervises at their resolution, stride 8 / 16: "layer2,layer3", one of them, or none (default: layer2,layer3 with --masks, else none)', parseSideHeads)
    .option('--last', 'save the last step\'s parameters instead of those with the best validation AUROC')
    .option('--average-last <n>', 'also try the mean of the parameters at the ends of the last N fine-tune epochs (0 = off): saved when it scores at least the best epoch on validation (with --last: always)', nonNegativeInt('--average-last'), d.averageLast)
    .option('--plain', 'the baseline: the same network, head and schedule on the image labels alone, with no synthetic defect (no pretext, no pastes, no dense loss); overrides those three options')
    .option('--masks [count]', 'also learn from masks: a defective training-split image with a mask (the dataset\'s, or a reviewed one in a project\'s training set) supervises the class-score map at layer4\'s resolution and the side heads at layer2/layer3\'s; validation and test masks are never trained on. A count trains on that many, a seeded draw; none, on all. With --plain: labels and real masks, no synthetic defect', positiveInt('--masks'))
    .action(async (opts: TrainCliOptions, command: Command) => {
      const { pooling, topkFraction, plain, last, sideHeads, ...rest } = opts;
      await runTrainCli('train', {
        ...DEFAULT_TRAIN_OPTIONS, ...rest, minutes: budgetMinutes(opts.minutes, command), resume: Boolean(opts.resume), command: `kizu ${process.argv.slice(2).join(' ')}`,
        pooling: pooling === 'avg' ? { kind: 'avg' } : { kind: 'topk', fraction: topkFraction },
        keepBest: !last,
        ...(plain ? PLAIN_BASELINE : {}),
        // The masks' loss is the dense term: --plain --masks keeps it, on the real masks and OK images only.
        ...(plain && rest.masks ? { denseWeight: rest.denseWeight } : {}),
        masks: rest.masks !== undefined,
        sideHeads: sideHeads ?? sideHeadsFor(rest.masks !== undefined),
        ...(typeof rest.masks === 'number' ? { maskLimit: rest.masks } : {}),
      });
    });
}

/**
 * A run asked for with neither --minutes nor --epochs gets the default time budget, as the
 * app's Train does: a schedule that ends when the operator was told it would.
 */
export function budgetMinutes(minutes: number | undefined, command: Command): number | undefined {
  if (minutes !== undefined) return minutes;
  return command.getOptionValueSource('epochs') === 'cli' ? undefined : DEFAULT_TRAINING_MINUTES;
}

/**
 * Runs train() from the terminal: a progress bar, validation lines, Ctrl-C stops after the
 * step and writes a checkpoint (twice forces), the result as one JSON line on stdout.
 */
export async function runTrainCli(name: 'train' | 'pretrain', options: TrainOptions): Promise<void> {
  const controller = new AbortController();
  const onSignal = () => {
    process.stderr.write(`\nkizu ${name}: stopping after this step and writing a checkpoint (Ctrl-C again to force)\n`);
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let bar: Progress | undefined;
  let shown = 0;
  try {
    const result = await train(options, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'prepare') process.stderr.write(`kizu ${name}: ${p.message}\n`);
        if (p.phase === 'train') {
          bar ??= terminalProgress(p.totalSteps, name);
          while (shown < p.step) {
            bar.tick(`loss ${p.loss?.toFixed(4)} acc ${p.accuracy?.toFixed(3)} lr ${p.lr?.toExponential(2)} ${p.imagesPerSecond?.toFixed(2)} img/s`);
            shown++;
          }
        }
        if (p.validation && p.phase === 'validate') process.stderr.write(`\nepoch ${p.validation.epoch}: validation accuracy ${p.validation.accuracy.toFixed(4)}, AUROC ${p.validation.auroc.toFixed(4)}, loss ${p.validation.loss.toFixed(4)}\n`);
      },
    });
    bar?.stop();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exitCode = result.cancelled ? 130 : 0;
  } finally {
    bar?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
