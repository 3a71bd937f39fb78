import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./pytorch_bench.py', import.meta.url));
/** Debian's python3-torch installs into the system Python; a PATH python3 (pyenv, venv) may lack it. */
const PYTHONS = ['/usr/bin/python3', 'python3'];

export type PytorchFigures = Record<string, number | string>;

/**
 * PyTorch's figures for the same work, measured now on this machine (pytorch_bench.py), so the
 * ratio compares like with like; null with the reason when no Python here has torch.
 */
export async function benchPytorch(
  threads: number,
  opts: { runs?: number; sizes?: number[]; fullSize?: number; defaultSize?: number; pythons?: readonly string[] } = {},
): Promise<{ figures: PytorchFigures | null; reason?: string }> {
  const { runs = 3, sizes = [224, 512], fullSize = 224, defaultSize = 512, pythons = PYTHONS } = opts;
  const reasons: string[] = [];
  for (const python of pythons) {
    try {
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(python, [SCRIPT, String(threads), String(runs), sizes.join(','), String(fullSize), String(defaultSize)], { timeout: 15 * 60_000, maxBuffer: 1 << 20 }, (err, out, errOut) => {
          if (err) reject(new Error(errOut.trim().split('\n').at(-1) || err.message));
          else resolve(out);
        });
      });
      const line = stdout.trim().split('\n').at(-1) ?? '';
      return { figures: JSON.parse(line) as PytorchFigures };
    } catch (err) {
      reasons.push(`${python}: ${(err as Error).message}`);
    }
  }
  return { figures: null, reason: reasons.join('; ') };
}
