import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository (or unpacked app) root: electron/ sits directly under it. */
export const APP_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The bundled model; KIZU_MODELS_DIR points elsewhere (e.g. an installer's resources folder). */
export function defaultModelDir(): string {
  return join(process.env.KIZU_MODELS_DIR ?? join(APP_ROOT, 'models'), 'default');
}
