import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./renderer', import.meta.url));

/** The renderer: built into dist/renderer, served by the web mode and loaded by Electron. */
export default defineConfig({
  root,
  // Relative asset URLs, so the same build loads from file:// in Electron and from the server.
  base: './',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  // The renderer imports the shared pure modules in electron/annotate and electron/api.ts.
  server: { fs: { allow: [fileURLToPath(new URL('.', import.meta.url))] } },
});
