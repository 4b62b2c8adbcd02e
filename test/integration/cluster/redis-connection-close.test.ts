/**
 * RedisConnection.close() leaves nothing open, whatever state its two connections are in
 * (src/cluster/redisConnection.ts): a Redis that never answered (the start that fails on
 * `cluster.redis`), and one that went away while connected (a shutdown during an outage,
 * both connections waiting to reconnect). What is left is read from the process itself
 * (process.getActiveResourcesInfo(): the handles and timers that keep Node running),
 * as soon as close() has resolved.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { RedisConnection } from '../../../src/cluster/redisConnection.js';
import { allocatePort } from '../../helpers/ports.js';
import { RedisProc } from './clusterRig.js';

const logger = pino({ level: 'silent' });
let redis: RedisProc | undefined;

afterEach(async () => {
  await redis?.close();
  redis = undefined;
});

/**
 * The active timers and TCP handles, by type, with their counts (the Redis server's own
 * process and pipes, started and stopped by the test, are not the connection's).
 */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) {
    if (r === 'Timeout' || r.startsWith('TCP')) counts[r] = (counts[r] ?? 0) + 1;
  }
  return counts;
}

/**
 * What is open now beyond `before` (type → how many more): a handle of the test's own
 * that closed meanwhile (a probe socket) is not counted against the connection.
 */
function opened(before: Record<string, number>): Record<string, number> {
  const more: Record<string, number> = {};
  for (const [type, n] of Object.entries(resources())) {
    if (n > (before[type] ?? 0)) more[type] = n - (before[type] ?? 0);
  }
  return more;
}

/** A turn of the event loop for handles closed just now to go. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe('RedisConnection.close', () => {
  it('after a connect that failed (nobody listening), nothing stays open', async () => {
    const nobody = await allocatePort({ udp: false });
    const before = resources();
    const connection = new RedisConnection({ url: `redis://127.0.0.1:${nobody}`, logger });
    await expect(connection.connect()).rejects.toThrow();
    await connection.close();
    await settle();
    expect(opened(before)).toEqual({});
  });

  it('while both connections wait to reconnect (Redis went away), nothing stays open', async () => {
    redis = await RedisProc.start();
    const before = resources();
    const connection = new RedisConnection({ url: redis.url, logger });
    await connection.connect();
    expect(connection.available).toBe(true);
    await redis.stop();
    const waiting = await until(
      () =>
        connection.commands.status === 'reconnecting' &&
        connection.subscriber.status === 'reconnecting',
      5000,
    );
    expect(waiting).toBe(true);
    await connection.close();
    await settle();
    expect(opened(before)).toEqual({});
  });
});
