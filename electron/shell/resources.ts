import { join } from 'node:path';

/**
 * Where the packaged app finds what the installer put beside app.asar: electron-builder's
 * extraResources copy models/default to <resources>/models/default (build/electron-builder.yml),
 * because a model read from inside the archive could not be swapped by an administrator.
 */
export const MODELS_RESOURCE_DIR = 'models';

export interface AppLocation {
  isPackaged: boolean;
  /** app.getAppPath(): the repository in development, <resources>/app.asar when packaged. */
  appPath: string;
  /** process.resourcesPath. */
  resourcesPath: string;
}

/** The folder holding the shipped models; KIZU_MODELS_DIR points elsewhere. */
export function modelsDir(location: AppLocation, env: NodeJS.ProcessEnv): string {
  if (env.KIZU_MODELS_DIR) return env.KIZU_MODELS_DIR;
  return location.isPackaged ? join(location.resourcesPath, MODELS_RESOURCE_DIR) : join(location.appPath, MODELS_RESOURCE_DIR);
}
