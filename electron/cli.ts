import { Command, CommanderError } from 'commander';
import { registerApp } from './commands/app.ts';
import { registerBench } from './commands/bench.ts';
import { registerEvaluate } from './commands/evaluate.ts';
import { registerExplain } from './commands/explain.ts';
import { registerExport } from './commands/export.ts';
import { registerInfo } from './commands/info.ts';
import { registerMakeDataset } from './commands/make-dataset.ts';
import { registerManifest } from './commands/manifest.ts';
import { registerMerge } from './commands/merge.ts';
import { registerServe } from './commands/serve.ts';
import { registerPretrain } from './commands/pretrain.ts';
import { registerQueue } from './commands/queue.ts';
import { registerTrain } from './commands/train.ts';
import { registerWorker } from './commands/worker.ts';

/** Builds the `kizu` command; each subcommand lives in electron/commands/<name>.ts. */
export function buildProgram(): Command {
  const program = new Command('kizu')
    .description('Kizu: defect masks from image-level labels with LayerCAM on a ResNet50')
    .showHelpAfterError()
    .exitOverride();
  registerInfo(program);
  registerBench(program);
  registerExplain(program);
  registerTrain(program);
  registerPretrain(program);
  registerEvaluate(program);
  registerExport(program);
  registerManifest(program);
  registerMerge(program);
  registerQueue(program);
  registerWorker(program);
  registerMakeDataset(program);
  registerServe(program);
  registerApp(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`kizu: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
