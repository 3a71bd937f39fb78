import type { Command } from 'commander';
import { scanManifest, writeManifest } from '../batch/image-manifest.ts';

export function registerManifest(program: Command): void {
  program
    .command('manifest')
    .description('list the images of a folder once, in export order, for shards and queue workers to share')
    .requiredOption('--images <dir>', 'a folder of images (subfolders included)')
    .requiredOption('--out <file>', 'the list to write (JSON lines)')
    .action(async (opts: { images: string; out: string }) => {
      const manifest = await scanManifest(opts.images);
      if (manifest.ids.length === 0) throw new Error(`${opts.images}: no images (PNG, JPEG, BMP, TIFF) found`);
      await writeManifest(opts.out, manifest);
      process.stderr.write(`kizu manifest: ${manifest.ids.length} image(s) under ${manifest.root} listed in ${opts.out}\n`);
    });
}
