import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent, KizuHandlers } from '../../../electron/api.ts';
import { startServer, type KizuServer } from '../../../electron/server.ts';
import { ApiError } from '../../../electron/api-error.ts';
import { JobRegistry } from '../../../electron/service/jobs.ts';
import { decodeWire, encodeWire } from '../../../electron/wire.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function send(port: number, method: string, path: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: opts.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const root = mkdtempSync(join(tmpdir(), 'kizu-server-'));
const rendererDir = join(root, 'renderer');
const calls: { method: string; request: unknown }[] = [];
const jobs = new JobRegistry();
let server: KizuServer;

const handlers = {
  listImages: async (request: unknown) => {
    calls.push({ method: 'listImages', request });
    return [{ id: 'a.png', name: 'a.png', state: 'unreviewed', score: null, modifiedAt: 1 }];
  },
  getThumbnail: async () => ({ width: 1, height: 1, png: new Uint8Array([137, 80, 78, 71]) }),
  saveReview: async (request: { mask: { data: Uint8Array } | null }) => {
    calls.push({ method: 'saveReview', request });
    return { echoed: request.mask?.data, map: new Float32Array([0.25, 0.5]) };
  },
  getImage: async () => {
    throw new Error('disk on fire');
  },
  getReview: async () => {
    throw new ApiError(409, 'no folder is open');
  },
} as unknown as KizuHandlers;

beforeAll(async () => {
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Kizu</title>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(root, 'secret.txt'), 'the token of another app');
  symlinkSync(join(root, 'secret.txt'), join(rendererDir, 'assets', 'leak.txt'));
  server = await startServer({ handlers, jobs, rendererDir, token: 'test-token-0123456789', maxBodyBytes: 64 * 1024 });
});

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

const auth = { Authorization: 'Bearer test-token-0123456789', 'Content-Type': 'application/json' };

describe('web mode server', () => {
  it('listens on 127.0.0.1 only and prints a URL that carries the token', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=test-token-0123456789`);
    const others = Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === 'IPv4');
    for (const iface of others) {
      const refused = await new Promise<string>((resolve) => {
        const req = httpRequest({ host: iface!.address, port: server.port, path: '/', timeout: 2000 }, () => resolve('answered'));
        req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
        req.on('timeout', () => (req.destroy(), resolve('timeout')));
        req.end();
      });
      expect(refused).not.toBe('answered');
    }
  });

  it('answers 401 without the token, with a wrong one, and for calls that put it in the URL', async () => {
    expect((await send(server.port, 'POST', '/api/listImages', { body: '{}' })).status).toBe(401);
    const wrong = await send(server.port, 'POST', '/api/listImages', { headers: { Authorization: 'Bearer test-token-0123456788' }, body: '{}' });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.text).error).toMatch(/token/);
    expect((await send(server.port, 'POST', '/api/listImages?token=test-token-0123456789', { body: '{}' })).status).toBe(401);
    expect((await send(server.port, 'GET', '/')).status).toBe(401);
    expect((await send(server.port, 'GET', '/api/events')).status).toBe(401);
    expect(calls).toEqual([]);
  });

  it('calls the handler with the validated request and answers in the wire codec', async () => {
    const ok = await send(server.port, 'POST', '/api/listImages', { headers: auth, body: '{}' });
    expect(ok.status).toBe(200);
    expect(decodeWire(ok.text)).toEqual([{ id: 'a.png', name: 'a.png', state: 'unreviewed', score: null, modifiedAt: 1 }]);
    expect(ok.headers['content-security-policy']).toMatch(/default-src 'self'/);

    const mask = { width: 2, height: 2, data: new Uint8Array([0, 1, 1, 0]) };
    const params = { method: 'layercam', layer: 'fused', threshold: { kind: 'value', value: 0.5 }, cleanup: {} };
    const saved = await send(server.port, 'POST', '/api/saveReview', { headers: auth, body: encodeWire({ id: 'a.png', state: 'edited', params, mask }) });
    expect(saved.status).toBe(200);
    const back = decodeWire(saved.text) as { echoed: Uint8Array; map: Float32Array };
    expect(back.echoed).toBeInstanceOf(Uint8Array);
    expect(Array.from(back.echoed)).toEqual([0, 1, 1, 0]);
    expect(Array.from(back.map)).toEqual([0.25, 0.5]);
    // Defaults from the schema reached the handler: the cleanup was filled in.
    const request = calls.find((c) => c.method === 'saveReview')!.request as { params: { cleanup: unknown } };
    expect(request.params.cleanup).toEqual({ openRadius: 0, closeRadius: 0, fillHoles: false, minArea: 0 });
  });

  it('answers 400 naming the field of a bad request, and of a body that is not JSON', async () => {
    const bad = await send(server.port, 'POST', '/api/getThumbnail', { headers: auth, body: JSON.stringify({ id: 'a.png', size: 5 }) });
    expect(bad.status).toBe(400);
    const body = JSON.parse(bad.text);
    expect(body).toMatchObject({ method: 'getThumbnail', where: 'size' });
    expect(body.error).toMatch(/getThumbnail: invalid request: size: /);

    const missing = JSON.parse((await send(server.port, 'POST', '/api/saveReview', { headers: auth, body: '{"id":"a.png"}' })).text);
    expect(missing.where).toBe('state');

    const garbage = await send(server.port, 'POST', '/api/listImages', { headers: auth, body: '{"unclosed' });
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.text)).toMatchObject({ method: 'listImages', where: '(body)' });
  });

  it('answers 404 for an unknown method, 405 for a GET, 413 for a huge body', async () => {
    const unknown = await send(server.port, 'POST', '/api/deleteEverything', { headers: auth, body: '{}' });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toEqual({ error: 'unknown API method "deleteEverything"', method: 'deleteEverything' });
    expect((await send(server.port, 'POST', '/api/__proto__', { headers: auth, body: '{}' })).status).toBe(404);
    expect((await send(server.port, 'GET', '/api/listImages', { headers: auth })).status).toBe(405);
    const huge = await send(server.port, 'POST', '/api/listImages', { headers: auth, body: JSON.stringify({ pad: 'x'.repeat(100 * 1024) }) });
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.text).where).toBe('(body)');
  });

  it('turns a handler failure into a 500 (or its own status) and keeps serving', async () => {
    const failed = await send(server.port, 'POST', '/api/getImage', { headers: auth, body: '{"id":"a.png"}' });
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.text)).toEqual({ error: 'disk on fire', method: 'getImage' });
    const conflict = await send(server.port, 'POST', '/api/getReview', { headers: auth, body: '{"id":"a.png"}' });
    expect([conflict.status, JSON.parse(conflict.text).error]).toEqual([409, 'no folder is open']);
    expect((await send(server.port, 'POST', '/api/listImages', { headers: auth, body: '{}' })).status).toBe(200);
  });

  it('refuses a Host header that is not its own (DNS rebinding)', async () => {
    const rebound = await send(server.port, 'POST', '/api/listImages', { headers: { ...auth, Host: `evil.example:${server.port}` }, body: '{}' });
    expect(rebound.status).toBe(403);
    expect((await send(server.port, 'POST', '/api/listImages', { headers: { ...auth, Host: `localhost:${server.port}` }, body: '{}' })).status).toBe(200);
  });

  it('serves the page with the token and a strict CSP, then its assets by cookie', async () => {
    const page = await send(server.port, 'GET', '/?token=test-token-0123456789');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>Kizu</title>');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const cookie = String(page.headers['set-cookie']).split(';')[0];
    expect(cookie).toBe(`kizu-${server.port}=test-token-0123456789`);
    expect(String(page.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);

    const asset = await send(server.port, 'GET', '/assets/app.js', { headers: { Cookie: cookie } });
    expect([asset.status, asset.headers['content-type'], asset.text]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log(1)']);
    expect((await send(server.port, 'GET', '/assets/app.js')).status).toBe(401);
    // The cookie opens static files only, never the API.
    expect((await send(server.port, 'POST', '/api/listImages', { headers: { Cookie: cookie }, body: '{}' })).status).toBe(401);
  });

  it('refuses path traversal and symlinks out of the renderer folder', async () => {
    const cookie = { Cookie: `kizu-${server.port}=test-token-0123456789` };
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/%2e%2e%5c%2e%2e%5csecret.txt', '/assets/leak.txt', '/assets/app.js%00.html']) {
      const reply = await send(server.port, 'GET', path, { headers: cookie });
      expect(reply.status, path).toBe(404);
      expect(reply.text).not.toContain('another app');
    }
  });

  it('streams job events over Server-Sent Events', async () => {
    const event = await new Promise<JobEvent>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: server.port, path: '/api/events?token=test-token-0123456789' }, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          if (buffer.startsWith('retry:') && !buffer.includes('data: ')) {
            jobs.start('export', 2, 'exporting 2 image(s) as coco', async () => ({ files: 1 }));
          }
          const line = buffer.split('\n').find((l) => l.startsWith('data: '));
          if (line) {
            resolve(decodeWire(line.slice('data: '.length)) as JobEvent);
            req.destroy();
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(event).toMatchObject({ kind: 'export', state: 'running', done: 0, total: 2, message: 'exporting 2 image(s) as coco' });
  });
});
