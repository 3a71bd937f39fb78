import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { readManifest } from '../electron/engine/model-dir.ts';

/**
 * What `npm run dist` needs beyond `npm run build`: the files electron-builder.yml copies in
 * as they are (extraResources), above all the default model, which training makes and no
 * build step can. Packaging stops here, saying what is missing, rather than shipping an
 * installer that starts with "no model".
 */

export const CONFIG_FILE = 'build/electron-builder.yml';
export const DEFAULT_MODEL_DIR = 'models/default';

export interface BuilderConfig {
  extraResources?: { from: string; to: string }[];
  [key: string]: unknown;
}

export async function readBuilderConfig(root: string): Promise<BuilderConfig> {
  return parseYaml(await readFile(join(root, CONFIG_FILE), 'utf8')) as BuilderConfig;
}

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

/** Problems that would make the installer incomplete, one sentence each; empty when ready. */
export async function checkDistInputs(root: string): Promise<string[]> {
  const config = await readBuilderConfig(root);
  const problems: string[] = [];
  for (const { from } of config.extraResources ?? []) {
    if (!(await isDir(join(root, from)))) problems.push(`${from}: missing (${CONFIG_FILE} packs it as an extra resource)`);
  }
  const modelDir = join(root, DEFAULT_MODEL_DIR);
  if (!(await isDir(modelDir))) return problems;
  try {
    const manifest = await readManifest(modelDir);
    const weights = join(modelDir, manifest.weights.file);
    if (!((await stat(weights).catch(() => null))?.isFile())) {
      problems.push(`${DEFAULT_MODEL_DIR}: its manifest names ${manifest.weights.file}, which is not there`);
    }
  } catch (err) {
    problems.push(`${DEFAULT_MODEL_DIR}: not a usable model (${(err as Error).message}); train one with \`kizu train --out ${DEFAULT_MODEL_DIR}\` or copy a model directory there`);
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const problems = await checkDistInputs(fileURLToPath(new URL('..', import.meta.url)));
  for (const p of problems) process.stderr.write(`dist: ${p}\n`);
  if (problems.length > 0) {
    process.stderr.write('dist: not packaging an incomplete installer\n');
    process.exitCode = 1;
  }
}
