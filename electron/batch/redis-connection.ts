import { Redis, type RedisOptions } from 'ioredis';

/*
 * Connections to the Redis a work queue lives in. The URL may carry a user, a password and
 * TLS (rediss://); it is never printed with its password. Kizu only connects out: nothing
 * of Kizu's listens on any address for the queue.
 */

/** The URL as it may be printed: the password replaced by ***. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(a malformed Redis URL)';
  }
}

export function checkedRedisUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--redis must be a URL such as redis://host:6379 or rediss://:password@host:6380, not "${redactedUrl(url)}"`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--redis must start with redis:// or rediss:// (TLS), not ${u.protocol}//`);
  return url;
}

function describeFailure(url: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException & { message: string };
  const message = e?.message ?? String(err);
  const where = `redis ${redactedUrl(url)}`;
  if (/WRONGPASS|invalid password|invalid username-password/i.test(message)) return `${where}: wrong password or user (the server said: ${message.split('\n')[0]})`;
  if (/NOAUTH/i.test(message)) return `${where}: the server needs a password; put it in the URL (rediss://:PASSWORD@host:port) or KIZU_REDIS_URL`;
  if (e?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) return `${where}: connection refused: is redis-server running there, and listening on that address?`;
  if (e?.code === 'ENOTFOUND' || /ENOTFOUND/.test(message)) return `${where}: host not found`;
  if (/certificate|CERT_|self.signed/i.test(message)) return `${where}: ${message.split('\n')[0]} (a private CA: point NODE_EXTRA_CA_CERTS at its certificate)`;
  if (/ETIMEDOUT|timed? ?out/i.test(message)) return `${where}: no answer within the connect timeout (a firewall, or the wrong port?)`;
  return `${where}: ${message.split('\n')[0]}`;
}

/**
 * Connects and checks the server answers (and takes the password) before anything is
 * queued, so a wrong URL is one line at once instead of retries forever. The connection
 * returned reconnects on its own afterwards (a restarted Redis does not end a worker), and
 * never gives up on a command, as BullMQ's blocking calls need.
 */
export async function connectRedis(url: string, options: { connectTimeoutMs?: number } = {}): Promise<Redis> {
  checkedRedisUrl(url);
  const common: RedisOptions = { connectTimeout: options.connectTimeoutMs ?? 5000, lazyConnect: true };
  const probe = new Redis(url, { ...common, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  // The connection's own error (refused, wrong password) comes as an event; connect() then only says it closed.
  let cause: unknown;
  probe.on('error', (err: unknown) => (cause ??= err));
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new Error(describeFailure(url, cause ?? err));
  } finally {
    probe.disconnect();
  }
  const redis = new Redis(url, { ...common, maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 200, 2000) });
  let lastReported = '';
  redis.on('error', (err: Error) => {
    // Reconnection is automatic; say once per kind of trouble that it is happening.
    const line = describeFailure(url, err);
    if (line !== lastReported) process.stderr.write(`kizu: ${line} (retrying)\n`);
    lastReported = line;
  });
  redis.on('ready', () => (lastReported = ''));
  await redis.connect();
  return redis;
}
