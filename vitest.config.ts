import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    // Engine tests run whole ResNet passes on wasm; CI has 2 cores, so be generous.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], exclude: ['test/unit/renderer/**'] },
      },
      {
        // The renderer's stores and components, in a simulated DOM.
        extends: true,
        plugins: [vue()],
        test: { name: 'renderer', include: ['test/unit/renderer/**/*.test.ts'], environment: 'happy-dom' },
      },
      {
        // The UI end to end: the built renderer in Debian's Chromium against the real web-mode server.
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          // Each file runs a server and a Chromium: one at a time, and (npm test) after the unit
          // tests, so that their timeouts measure the app and not CI's 2 cores shared with them.
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
