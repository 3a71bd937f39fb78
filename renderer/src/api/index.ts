import type { KizuApi } from '../../../electron/api.ts';
import { createHttpClient } from './http-client.ts';
import { takeToken } from './token.ts';

let client: KizuApi | null = null;

/** Electron's preload bridge when present, else the web mode's HTTP client. */
function createClient(): KizuApi {
  const bridged = (window as Window & { kizu?: KizuApi }).kizu;
  if (bridged) return bridged;
  return createHttpClient(window.location.origin, takeToken(window.location, window.history, window.sessionStorage));
}

/** The one client every store talks through. */
export function api(): KizuApi {
  client ??= createClient();
  return client;
}

/** Replaces the client (store tests hand in a fake). */
export function setApi(next: KizuApi): void {
  client = next;
}
