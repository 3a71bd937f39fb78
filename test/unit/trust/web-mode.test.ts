import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MASK_PARAMS, requestSchemas, type KizuHandlers } from '../../../electron/api.ts';
import { API_METHOD_NAMES } from '../../../electron/ipc-channels.ts';
import { startServer, type KizuServer } from '../../../electron/server.ts';
import { JobRegistry } from '../../../electron/service/jobs.ts';
import { createKizuService, type EnginePort } from '../../../electron/service/kizu-service.ts';
import { decodeWire, encodeWire } from '../../../electron/wire.ts';

/*
 * The web mode's promises, where test/unit/app/server.test.ts (a fake service) and
 * service.test.ts (no HTTP) leave gaps: every method behind the token, nothing on IPv6, and
 * file access through the real service over HTTP staying inside the opened folder.
 */

interface Reply {
  status: number;
  text: string;
}

function send(host: string, port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, method, path, headers: { Host: `127.0.0.1:${port}`, ...headers }, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'kizu web mode '));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const TOKEN = 'web-mode-test-token-0123456789abcdef';

describe('every request needs the token', () => {
  const called: string[] = [];
  let server: KizuServer;
  beforeAll(async () => {
    const handlers = Object.fromEntries(API_METHOD_NAMES.map((m) => [m, async () => (called.push(m), {})])) as unknown as KizuHandlers;
    server = await startServer({ handlers, jobs: new JobRegistry(), rendererDir: null, token: TOKEN });
  });
  afterAll(() => server.close());

  it('answers 401 on every API method without it, with a wrong or truncated one, or with it anywhere but the header', async () => {
    const attempts: [string, Record<string, string>][] = [
      ['', {}],
      ['', { Authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
      ['', { Authorization: `Bearer ${TOKEN}x` }],
      ['', { Authorization: `Basic ${Buffer.from(`kizu:${TOKEN}`).toString('base64')}` }],
      ['', { Authorization: TOKEN }],
      ['', { Cookie: `kizu-0=${TOKEN}` }],
      [`?token=${TOKEN}`, {}],
    ];
    for (const method of API_METHOD_NAMES) {
      for (const [query, headers] of attempts) {
        const reply = await send('127.0.0.1', server.port, 'POST', `/api/${method}${query}`, { 'Content-Type': 'application/json', ...headers }, '{}');
        expect(reply.status, `${method} ${query} ${JSON.stringify(headers)}`).toBe(401);
      }
    }
    expect(called).toEqual([]);
    // The control: the header opens every method.
    for (const method of API_METHOD_NAMES.filter((m) => requestSchemas[m].safeParse({}).success)) {
      expect((await send('127.0.0.1', server.port, 'POST', `/api/${method}`, { Authorization: `Bearer ${TOKEN}` }, '{}')).status).toBe(200);
    }
    expect(called.length).toBeGreaterThan(0);
  });

  it('listens on IPv4 loopback only: nothing answers on IPv6 loopback', async () => {
    const outcome = await send('::1', server.port, 'GET', '/').then((r) => `answered ${r.status}`, (err: NodeJS.ErrnoException) => err.code ?? err.message);
    expect(outcome).not.toMatch(/^answered/);
    expect((await send('127.0.0.1', server.port, 'GET', '/')).status).toBe(401);
  });
});

describe('file access stays inside the folder the user opened, over HTTP with the real service', () => {
  const folder = join(tmp, 'line 3 parts');
  const outside = join(tmp, 'elsewhere');
  let server: KizuServer;
  const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
  const call = (method: string, request: unknown) => send('127.0.0.1', server.port, 'POST', `/api/${method}`, auth, encodeWire(request));

  const engine: EnginePort = {
    start: async () => { throw new Error('not used'); },
    call: async (op) => {
      if (op === 'status') return { backend: { name: 'cpu', version: 'x', threads: 1, simd: false, label: 'cpu' }, model: null, modelError: 'no model' } as never;
      throw new Error(`the engine was asked to ${op}`);
    },
  };

  beforeAll(async () => {
    mkdirSync(join(folder, 'sub'), { recursive: true });
    mkdirSync(join(outside, 'private'), { recursive: true });
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer();
    writeFileSync(join(folder, 'a.png'), png);
    writeFileSync(join(folder, 'sub', 'b.png'), png);
    writeFileSync(join(outside, 'secret.png'), await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff0000' } }).png().toBuffer());
    writeFileSync(join(outside, 'private', 'c.png'), png);
    symlinkSync(join(outside, 'secret.png'), join(folder, 'linked-out.png'));
    symlinkSync(join(outside, 'private'), join(folder, 'linked-dir'));
    const service = createKizuService({
      engine, runIsolated: async () => { throw new Error('not used'); }, demoDir: join(tmp, 'demo'), appVersion: 'test', log: () => undefined,
    });
    server = await startServer({ handlers: service.handlers, jobs: service.jobs, rendererDir: null, token: TOKEN });
    const opened = await call('openFolder', { path: folder });
    expect(opened.status).toBe(200);
  });
  afterAll(() => server.close());

  it('lists only the images really inside it: links that lead out are not images of the project', async () => {
    const list = decodeWire((await call('listImages', {})).text) as { id: string }[];
    expect(list.map((i) => i.id)).toEqual(['a.png', 'sub/b.png']);
    const image = await call('getImage', { id: 'a.png' });
    expect(image.status).toBe(200);
  });

  it('refuses ids that climb out, are absolute, or go through a link out, for every call that takes one', async () => {
    const ids = [
      '../elsewhere/secret.png', 'sub/../../elsewhere/secret.png', '..%2felsewhere%2fsecret.png', '..\\elsewhere\\secret.png',
      join(outside, 'secret.png'), 'linked-out.png', 'linked-dir/c.png', './a.png', 'a.png\u0000.txt', '.kizu/a.png.json',
    ];
    const mask = { width: 8, height: 8, data: new Uint8Array(64) };
    for (const id of ids) {
      const replies = [
        await call('getImage', { id }),
        await call('getThumbnail', { id, size: 16 }),
        await call('getReview', { id }),
        await call('explain', { id, methods: ['layercam'] }),
        await call('saveReview', { id, state: 'edited', params: DEFAULT_MASK_PARAMS, mask }),
      ];
      for (const reply of replies) {
        expect([403, 404], `${id}: ${reply.text}`).toContain(reply.status);
        expect(reply.text).not.toContain('PNG');
      }
    }
    // Nothing was written outside the folder, nor anywhere for the refused ids.
    expect(readdirSync(outside).sort()).toEqual(['private', 'secret.png']);
    expect(existsSync(join(folder, '.kizu'))).toBe(false);
  });

  it('refuses to keep its sidecars in a .kizu that is a link leading out of the folder', async () => {
    const elsewhereState = join(outside, 'state');
    mkdirSync(elsewhereState);
    symlinkSync(elsewhereState, join(folder, '.kizu'));
    try {
      const mask = { width: 8, height: 8, data: new Uint8Array(64).fill(1) };
      const saved = await call('saveReview', { id: 'a.png', state: 'edited', params: DEFAULT_MASK_PARAMS, mask });
      expect(saved.status).toBe(403);
      expect(JSON.parse(saved.text).error).toMatch(/\.kizu.*leads outside/);
      expect(readdirSync(elsewhereState)).toEqual([]);
      // Reading goes no further: a file out there is reported, never parsed into the reply.
      writeFileSync(join(elsewhereState, 'a.png.json'), 'SECRET-CONTENT-OF-ANOTHER-FILE');
      const reopened = await call('openFolder', { path: folder });
      expect(reopened.status).toBe(200);
      expect(reopened.text).not.toContain('SECRET');
      expect((decodeWire(reopened.text) as { problems?: { message: string }[] }).problems?.[0].message).toMatch(/leads outside/);
      const review = await call('getReview', { id: 'a.png' });
      expect([review.status, review.text.includes('SECRET')]).toEqual([200, false]);
      expect((decodeWire(review.text) as { state: string }).state).toBe('unreviewed');
    } finally {
      rmSync(join(folder, '.kizu'));
    }
    const saved = await call('saveReview', { id: 'a.png', state: 'ok', params: DEFAULT_MASK_PARAMS, mask: null });
    expect(saved.status).toBe(200);
    expect(existsSync(join(folder, '.kizu', 'a.png.json'))).toBe(true);
  });
});
