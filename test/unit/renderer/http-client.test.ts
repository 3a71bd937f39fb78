import { describe, expect, it } from 'vitest';
import { decodeWire, encodeWire } from '../../../electron/wire.ts';
import { ApiError, createHttpClient } from '../../../renderer/src/api/http-client.ts';
import { takeToken } from '../../../renderer/src/api/token.ts';

describe('http client', () => {
  it('posts wire JSON with the bearer token and decodes typed arrays in the answer', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      seen.push({ url, init });
      return new Response(encodeWire({ width: 2, height: 1, png: new Uint8Array([1, 2, 3]) }), { status: 200 });
    }) as typeof fetch;
    const client = createHttpClient('http://127.0.0.1:9', 'secret', fetchImpl);
    const pixels = await client.getImage({ id: 'a.png' });
    expect(seen[0].url).toBe('http://127.0.0.1:9/api/getImage');
    expect(seen[0].init.method).toBe('POST');
    expect((seen[0].init.headers as Record<string, string>).authorization).toBe('Bearer secret');
    expect(decodeWire(seen[0].init.body as string)).toEqual({ id: 'a.png' });
    expect(pixels.png).toBeInstanceOf(Uint8Array);
    expect(Array.from(pixels.png)).toEqual([1, 2, 3]);
  });

  it('sends masks as typed arrays', async () => {
    let body = '';
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      body = init.body as string;
      return new Response('{}', { status: 200 });
    }) as typeof fetch;
    const client = createHttpClient('', null, fetchImpl);
    await client.saveReview({
      id: 'a', state: 'edited',
      params: { method: 'layercam', layer: 'fused', threshold: { kind: 'value', value: 0.5 }, cleanup: { openRadius: 0, closeRadius: 0, fillHoles: false, minArea: 0 } },
      mask: { width: 2, height: 1, data: new Uint8Array([0, 1]) },
    });
    const sent = decodeWire(body) as { mask: { data: Uint8Array } };
    expect(sent.mask.data).toBeInstanceOf(Uint8Array);
    expect(body).not.toContain('"0":0');
  });

  it("turns the server's error body into an error naming what went wrong", async () => {
    const fetchImpl = (async () =>
      new Response(JSON.stringify({ error: 'explain: no model is loaded', method: 'explain', where: 'model' }), { status: 409 })) as unknown as typeof fetch;
    const client = createHttpClient('', 't', fetchImpl);
    const err = await client.explain({ id: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe('explain: no model is loaded');
    expect((err as ApiError).status).toBe(409);
    expect((err as ApiError).where).toBe('model');
  });

  it('reports a non-JSON failure with its status', async () => {
    const fetchImpl = (async () => new Response('Bad Gateway', { status: 502 })) as unknown as typeof fetch;
    const err = await createHttpClient('', null, fetchImpl).listImages({}).catch((e: unknown) => e);
    expect((err as Error).message).toBe('listImages: HTTP 502 Bad Gateway');
  });
});

describe('token', () => {
  it('takes the token from the URL, removes it from the address bar and keeps it for reloads', () => {
    history.replaceState(null, '', '/index.html?token=abc&x=1#h');
    sessionStorage.clear();
    expect(takeToken(window.location, window.history, window.sessionStorage)).toBe('abc');
    expect(window.location.search).toBe('?x=1');
    expect(window.location.hash).toBe('#h');
    expect(takeToken(window.location, window.history, window.sessionStorage)).toBe('abc');
  });
});
