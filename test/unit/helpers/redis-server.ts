import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A test CA and a certificate for 127.0.0.1 signed by it (openssl, valid to 2126; the CA's key was not kept). */
export const TLS_FIXTURES = fileURLToPath(new URL('../../fixtures/redis-tls/', import.meta.url));

/*
 * A real redis-server (Debian's), started by the test itself on a free loopback port, its
 * data in a temp folder with the append-only file on and fsynced at every write, so jobs
 * survive a restart. No redis-server is a failure, not a skip: CI installs it (.ci/run).
 */

export function redisServerPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error('redis-server is not installed: apt-get install redis-server (.ci/run installs it); the queue tests need a real Redis');
  return found;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  private process: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'kizu-redis-'));

  private constructor(readonly port: number, readonly password?: string, readonly tls = false) {}

  /** With tls, only a TLS port is open (rediss://), its certificate signed by TLS_FIXTURES' ca.crt. */
  static async start(options: { password?: string; tls?: boolean } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), options.password, options.tls);
    await server.launch();
    return server;
  }

  get url(): string {
    return `${this.tls ? 'rediss' : 'redis'}://${this.password ? `:${this.password}@` : ''}127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    const listen = this.tls
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', join(TLS_FIXTURES, 'redis.crt'), '--tls-key-file', join(TLS_FIXTURES, 'redis.key'), '--tls-ca-cert-file', join(TLS_FIXTURES, 'ca.crt'), '--tls-auth-clients', 'no']
      : ['--port', String(this.port)];
    const args = [...listen, '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--protected-mode', 'yes'];
    if (this.password) args.push('--requirepass', this.password);
    const child = spawn(redisServerPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10 s:\n${log}`)), 10_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${log}`));
      });
    });
    child.stdout!.resume();
    child.stderr!.resume();
  }

  /** Killed outright (SIGKILL: no shutdown save), then started again on the same port and data. */
  async restart(downMs = 1000): Promise<void> {
    await this.kill();
    await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }

  private async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
