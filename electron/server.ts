import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isApiMethod, type ApiErrorBody, type ApiMethod, type JobEvent, type KizuHandlers } from './api.ts';
import { messageOf, statusOf } from './service/error-status.ts';
import { CONTENT_SECURITY_POLICY, readRendererFile } from './service/renderer-files.ts';
import { checkRequest } from './service/request-check.ts';
import { decodeWire, encodeWire } from './wire.ts';

/**
 * The web mode: the same API as Electron's IPC, over HTTP on the loopback interface only,
 * plus the built renderer. Every request needs the per-run token: API calls as
 * `Authorization: Bearer <token>` (or `?token=` for EventSource, which cannot set headers);
 * the page load as `?token=`, which sets an HttpOnly, SameSite=Strict cookie for the
 * page's own scripts and styles. A Host header other than the server's own is refused, so a
 * rebound DNS name cannot reach it from a web page.
 */

export const HOST = '127.0.0.1';
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

export interface ServerOptions {
  handlers: KizuHandlers;
  jobs: { subscribe(listener: (event: JobEvent) => void): () => void };
  /** The built renderer; null serves the API only. */
  rendererDir: string | null;
  /** 0 (the default) picks a free port. */
  port?: number;
  token?: string;
  maxBodyBytes?: number;
  log?: (line: string) => void;
}

export interface KizuServer {
  /** The URL to open: it carries the token. */
  url: string;
  origin: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

function send(res: ServerResponse, status: number, contentType: string, body: string | Uint8Array, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, body: ApiErrorBody): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

class BodyTooLarge extends Error {}

/** The body as text; one over `limit` is read to its end but not kept, so the client gets its 413. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > limit) reject(new BodyTooLarge(`the request body is over ${limit} bytes`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

export async function startServer(opts: ServerOptions): Promise<KizuServer> {
  const token = opts.token ?? newToken();
  const tokenBytes = Buffer.from(token);
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = opts.log ?? (() => undefined);
  const streams = new Set<ServerResponse>();
  let port = 0;
  let cookieName = '';

  const matches = (given: string | null | undefined): boolean => {
    if (!given) return false;
    const bytes = Buffer.from(given);
    return bytes.length === tokenBytes.length && timingSafeEqual(bytes, tokenBytes);
  };
  const bearer = (req: IncomingMessage) => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const cookie = (req: IncomingMessage) =>
    (req.headers.cookie ?? '').split(';').map((c) => c.trim().split('=')).find(([k]) => k === cookieName)?.[1];

  const events = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    streams.add(res);
    const unsubscribe = opts.jobs.subscribe((event) => res.write(`data: ${encodeWire(event)}\n\n`));
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    };
    req.on('close', end);
    res.on('error', end);
  };

  const api = async (req: IncomingMessage, res: ServerResponse, name: string) => {
    if (!isApiMethod(name)) return sendError(res, 404, { error: `unknown API method "${name}"`, method: name });
    const method: ApiMethod = name;
    if (req.method !== 'POST') return sendError(res, 405, { error: `${method}: use POST`, method });
    let raw: unknown;
    try {
      const text = await readBody(req, maxBody);
      raw = text.trim() === '' ? {} : decodeWire(text);
    } catch (err) {
      if (err instanceof BodyTooLarge) return sendError(res, 413, { error: `${method}: ${err.message}`, method, where: '(body)' });
      return sendError(res, 400, { error: `${method}: the body is not valid JSON (${messageOf(err)})`, method, where: '(body)' });
    }
    try {
      const request = checkRequest(method, raw);
      const handler = opts.handlers[method] as (r: unknown) => Promise<unknown>;
      send(res, 200, 'application/json', encodeWire(await handler(request)));
    } catch (err) {
      const status = statusOf(err);
      if (status === 500) log(`kizu serve: ${method} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      const where = (err as { where?: string }).where;
      sendError(res, status, { error: messageOf(err), method, ...(where ? { where } : {}) });
    }
  };

  const page = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, { error: 'use GET' });
    if (!opts.rendererDir) return send(res, 404, 'text/plain; charset=utf-8', 'this server has no user interface; the API is at /api/<method>');
    const file = await readRendererFile(opts.rendererDir, url.pathname);
    const extra: Record<string, string> = {};
    if (matches(url.searchParams.get('token'))) extra['Set-Cookie'] = `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    send(res, file.status, file.contentType, req.method === 'HEAD' ? new Uint8Array(0) : file.body, extra);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host ?? '';
    if (host !== `${HOST}:${port}` && host !== `localhost:${port}`) {
      return sendError(res, 403, { error: `unexpected Host "${host}": Kizu answers only on ${HOST}:${port}` });
    }
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    const isEvents = url.pathname === '/api/events';
    const isCall = !isEvents && url.pathname.startsWith('/api/');
    // Calls take the header only, so the token never sits in a URL a log might keep.
    const authorised = matches(bearer(req))
      || (!isCall && matches(url.searchParams.get('token')))
      || (!isCall && !isEvents && matches(cookie(req)));
    if (!authorised) return sendError(res, 401, { error: 'missing or wrong token: open the URL `kizu serve` printed' });
    if (isEvents) {
      if (req.method !== 'GET') return sendError(res, 405, { error: 'events: use GET' });
      return events(req, res);
    }
    if (isCall) return api(req, res, url.pathname.slice('/api/'.length));
    return page(req, res, url);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`kizu serve: ${req.method} ${req.url}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      if (!res.headersSent) sendError(res, 500, { error: messageOf(err) });
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  cookieName = `kizu-${port}`;
  const origin = `http://${HOST}:${port}`;

  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    close: async () => {
      for (const res of streams) res.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
