import { access, readdir } from 'node:fs/promises';

// Small directory helpers the dataset readers share. Layouts are matched ignoring case
// (DAGM ships Train/Label, MVTec train/ground_truth; copies made on Windows mix both).

export async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/** Names of the visible sub-folders of `dir`, sorted; [] when it is not a readable folder. */
export async function dirNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Names of the visible files in `dir`, sorted; [] when it is not a readable folder. */
export async function fileNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

export function findName(names: readonly string[], wanted: string): string | undefined {
  return names.find((n) => n.toLowerCase() === wanted.toLowerCase());
}

/** The file name without its last extension. */
export function stemOf(name: string): string {
  return name.replace(/\.[^.]+$/, '');
}
