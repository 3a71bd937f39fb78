import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A package's installed version, or "unknown" when it is not installed. */
export function packageVersion(name: string): string {
  try {
    return (require(name === 'kizu' ? '../package.json' : `${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
