import { build } from 'vite';

/** The e2e tests load the production build, exactly what `npm run serve` and Electron serve. */
export default async function setup(): Promise<void> {
  await build({ configFile: new URL('../../vite.config.ts', import.meta.url).pathname, logLevel: 'warn' });
}
