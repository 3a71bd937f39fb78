import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    pool: 'forks',
    // Engine tests run whole ResNet passes on wasm; CI has 2 cores, so be generous.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
