import type { Command } from 'commander';
import { EXPORT_FORMATS, exportAnnotations, type ExportFormat } from '../annotate/formats/index.ts';
import { finishedRanges, mergedItems, type MergeReport } from '../batch/part-merge.ts';
import { writeExport } from '../data/export-writer.ts';
import { choice } from './cli-options.ts';

/**
 * One export from the parts of shards or queue jobs, in any format: the same items in the
 * same order as a single `kizu export` of the manifest gives the formats, so the same bytes.
 * Everything is checked, and the whole export made, before a file is written.
 */
export async function runMerge(parts: string[], format: ExportFormat, out: string): Promise<MergeReport & { files: string[] }> {
  const ranges = await finishedRanges(parts);
  const report: MergeReport = { failures: [], annotated: 0 };
  const files = await writeExport(out, exportAnnotations(format, mergedItems(ranges, report)));
  for (const line of report.failures) process.stderr.write(`kizu merge: failed in its part: ${line}\n`);
  const images = ranges[0].done.header.manifest.images;
  process.stderr.write(
    `kizu merge: ${ranges.length} part(s), ${images} image(s), ${report.annotated} annotated, as ${format} in ${out}` +
      `${report.failures.length ? `; ${report.failures.length} failed in their shard and were left out (each named above): fix them and rerun those shards without their done.json` : ''}\n`,
  );
  return { ...report, files };
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
