import { describe, expect, it } from 'vitest';
import { checkedRedisUrl, redactedUrl } from '../../../electron/batch/redis-connection.ts';
import { formatDuration } from '../../../electron/batch/export-queue.ts';

describe('Redis URLs', () => {
  it('never prints a password, and keeps the rest to say where', () => {
    expect(redactedUrl('rediss://:s3cret@queue.plant:6380/0')).toBe('rediss://:***@queue.plant:6380/0');
    expect(redactedUrl('redis://kizu:s3cret@10.0.0.5:6379')).toBe('redis://kizu:***@10.0.0.5:6379');
    expect(redactedUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactedUrl('not a url :s3cret@')).not.toContain('s3cret');
  });

  it('takes redis:// and rediss:// only, saying what is wrong without the password', () => {
    expect(checkedRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(() => checkedRedisUrl('http://:pw@host:6379')).toThrow(/^--redis must start with redis:\/\/ or rediss:\/\/ \(TLS\), not http:\/\/$/);
    expect(() => checkedRedisUrl('127.0.0.1:6379 s3cret')).toThrow(/^--redis must be a URL such as redis:\/\/host:6379/);
    expect(() => checkedRedisUrl('127.0.0.1:6379 s3cret')).not.toThrow(/s3cret/);
  });

  it('writes an ETA in the unit a person reads it in', () => {
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(600)).toBe('10 min');
    expect(formatDuration(4 * 86_400)).toBe('96.0 h');
  });
});
