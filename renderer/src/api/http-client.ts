import { requestSchemas, type ApiErrorBody, type ApiMethod, type JobEvent, type KizuApi } from '../../../electron/api.ts';
import { decodeWire, encodeWire } from '../../../electron/wire.ts';

/** An API call that reached the back end and was refused or failed there. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly method: string,
    readonly status: number,
    readonly where?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function failure(method: ApiMethod, response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body = decodeWire(text) as Partial<ApiErrorBody>;
    if (typeof body.error === 'string') return new ApiError(body.error, method, response.status, body.where);
  } catch {
    // Not JSON: a proxy's or the server's plain-text page; report it as it is.
  }
  return new ApiError(`${method}: HTTP ${response.status} ${text.slice(0, 200) || response.statusText}`, method, response.status);
}

/**
 * The web mode's client: POST /api/<method> with the request as wire JSON (typed arrays as
 * base64), the per-run token as a bearer token, and job events over Server-Sent Events.
 */
export function createHttpClient(origin: string, token: string | null, fetchImpl: typeof fetch = fetch.bind(globalThis)): KizuApi {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;

  async function call(method: ApiMethod, request: unknown): Promise<unknown> {
    const response = await fetchImpl(`${origin}/api/${method}`, { method: 'POST', headers, body: encodeWire(request ?? {}) });
    if (!response.ok) throw await failure(method, response);
    return decodeWire(await response.text());
  }

  const listeners = new Set<(event: JobEvent) => void>();
  let source: EventSource | null = null;

  function onJobEvent(listener: (event: JobEvent) => void): () => void {
    listeners.add(listener);
    if (source === null) {
      // EventSource cannot send headers: the token goes in the query string of this one URL.
      const url = `${origin}/api/events${token ? `?token=${encodeURIComponent(token)}` : ''}`;
      source = new EventSource(url);
      source.onmessage = (message: MessageEvent<string>) => {
        const event = decodeWire(message.data) as JobEvent;
        for (const l of listeners) l(event);
      };
    }
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && source !== null) {
        source.close();
        source = null;
      }
    };
  }

  const client: Record<string, unknown> = { onJobEvent };
  for (const method of Object.keys(requestSchemas) as ApiMethod[]) client[method] = (request: unknown) => call(method, request);
  return client as KizuApi;
}
