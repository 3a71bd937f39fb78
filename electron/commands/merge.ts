import type { Command } from 'commander';
import { EXPORT_FORMATS, type ExportFormat } from '../annotate/formats/index.ts';
import { mergeParts, type MergeResult } from '../batch/part-merge.ts';
import { choice } from './cli-options.ts';

/** kizu merge: the parts into one export, each image that failed in its shard named. */
export async function runMerge(parts: string[], format: ExportFormat, out: string): Promise<MergeResult> {
  const result = await mergeParts(parts, format, out);
  for (const line of result.failures) process.stderr.write(`kizu merge: failed in its part: ${line}\n`);
  process.stderr.write(
    `kizu merge: ${result.parts} part(s), ${result.images} image(s), ${result.annotated} annotated, as ${format} in ${out}` +
      `${result.failures.length ? `; ${result.failures.length} failed in their shard and were left out (each named above): fix them and rerun those shards without their done.json` : ''}\n`,
  );
  return result;
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('combine the parts of kizu export --shard or kizu worker into one export')
    .argument('<parts...>', 'parts folders (or their range-* folders)')
    .requiredOption('--format <name>', `one of ${EXPORT_FORMATS.join(', ')}`, choice('--format', EXPORT_FORMATS))
    .requiredOption('--out <dir>', 'output folder')
    .action(async (parts: string[], opts: { format: ExportFormat; out: string }) => {
      const { failures } = await runMerge(parts, opts.format, opts.out);
      process.exitCode = failures.length ? 1 : 0;
    });
}
