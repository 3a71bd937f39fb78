import { APP_HOST } from '../ipc.ts';
import { CONTENT_SECURITY_POLICY, readRendererFile } from '../service/renderer-files.ts';

/** The app:// protocol's answer for a URL: a file of the built renderer, with the app's CSP. */
export async function rendererResponse(rendererDir: string, url: string): Promise<Response> {
  const u = new URL(url);
  const headers = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' };
  if (u.host !== APP_HOST) return new Response('not found', { status: 404, headers });
  const file = await readRendererFile(rendererDir, u.pathname);
  return new Response(file.body, { status: file.status, headers: { ...headers, 'Content-Type': file.contentType } });
}
