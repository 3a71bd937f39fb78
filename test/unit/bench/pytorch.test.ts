import { describe, expect, it } from 'vitest';
import { benchPytorch } from '../../../electron/bench/pytorch.ts';

describe('kizu bench: PyTorch beside it', () => {
  it('runs PyTorch\'s side of the bench where torch is installed (small sizes: a check that it runs, not a figure)', { timeout: 300_000 }, async () => {
    const { figures, reason } = await benchPytorch(1, { runs: 1, sizes: [32, 64], fullSize: 32, defaultSize: 64 });
    if (figures === null) {
      // CI has no python3-torch: the bench still runs, and its line says what was tried.
      expect(reason).toMatch(/\/usr\/bin\/python3: .*python3: /);
      return;
    }
    for (const key of ['pytorch_layercam1_32_ms', 'pytorch_layercam1_64_ms', 'pytorch_train_32_images_per_s', 'pytorch_train_default_images_per_s']) {
      expect(figures[key], key).toBeGreaterThan(0);
    }
    expect(figures).toMatchObject({ pytorch_threads: 1, pytorch_train_default_size: 64 });
  });

  it('says why there are no PyTorch figures when no Python here has torch', async () => {
    const { figures, reason } = await benchPytorch(1, { pythons: ['/nonexistent/python3'] });
    expect(figures).toBeNull();
    expect(reason).toMatch(/^\/nonexistent\/python3: /);
  });
});
