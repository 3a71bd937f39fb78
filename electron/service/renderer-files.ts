import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { isInside } from '../data/path-guard.ts';

/**
 * The built renderer (dist/renderer) as both shells serve it: the web mode over HTTP and
 * Electron through its app:// protocol, with one Content-Security-Policy. Only files inside
 * the folder are served, whatever the URL or a symlink says.
 */

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // Vue's style bindings and the chart library set inline styles.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

export interface RendererFile {
  status: 200 | 400 | 404;
  contentType: string;
  body: Uint8Array;
}

const notFound = (why: string): RendererFile => ({ status: 404, contentType: 'text/plain; charset=utf-8', body: new TextEncoder().encode(why) });

/** The file a URL path names under `rendererDir`; "/" is index.html. */
export async function readRendererFile(rendererDir: string, urlPath: string): Promise<RendererFile> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { status: 400, contentType: 'text/plain; charset=utf-8', body: new TextEncoder().encode('malformed URL') };
  }
  const rel = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  if (rel.includes('\0') || rel.includes('\\') || rel.split('/').some((part) => part === '..' || part === '.' || part === '')) {
    return notFound('not found');
  }
  let root: string;
  let real: string;
  try {
    root = await realpath(rendererDir);
    real = await realpath(join(root, ...rel.split('/')));
  } catch {
    return notFound('not found');
  }
  if (!isInside(root, real) || !(await stat(real)).isFile()) return notFound('not found');
  return {
    status: 200,
    contentType: CONTENT_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream',
    body: new Uint8Array(await readFile(real)),
  };
}
