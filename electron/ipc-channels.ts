import type { ApiErrorBody, ApiMethod } from './api.ts';

/**
 * The IPC channel names shared by ipc.ts (main) and preload.ts (the sandboxed preload,
 * bundled alone, so this file imports types only: no zod in the preload).
 */

// `satisfies` makes the compiler fail when api.ts gains or loses a method and this does not.
const METHODS = {
  engineInfo: true, openFolder: true, openImages: true, openDemo: true, listImages: true, getImage: true,
  getThumbnail: true, explain: true, getReview: true, saveReview: true, setLabels: true, projectInfo: true, trainingSet: true,
  startExport: true, startTraining: true, useProjectModel: true, startScoring: true, startQualityCheck: true,
  startEvaluation: true, cancelJob: true, listJobs: true, loadModel: true,
} as const satisfies Record<ApiMethod, true>;

export const API_METHOD_NAMES = Object.keys(METHODS) as ApiMethod[];

export const channelOf = (method: ApiMethod): string => `kizu:api:${method}`;
export const JOB_EVENT_CHANNEL = 'kizu:job-event';
export const APP_COMMAND_CHANNEL = 'kizu:app-command';
/** Paths of files dropped on the window, which only the preload can read (webUtils). */
export const DROP_CHANNEL = 'kizu:dropped-paths';

/** What an API channel answers: errors travel as data, so the renderer gets the message intact. */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: ApiErrorBody };
