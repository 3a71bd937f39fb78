import { Command, CommanderError } from 'commander';
import { registerBench } from './commands/bench.ts';
import { registerExplain } from './commands/explain.ts';
import { registerInfo } from './commands/info.ts';

/** Builds the `kizu` command; each subcommand lives in electron/commands/<name>.ts. */
export function buildProgram(): Command {
  const program = new Command('kizu')
    .description('Kizu: defect masks from image-level labels with LayerCAM on a ResNet50')
    .showHelpAfterError()
    .exitOverride();
  registerInfo(program);
  registerBench(program);
  registerExplain(program);
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
