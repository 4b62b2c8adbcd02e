/**
 * RedisConnection.close() leaves nothing open, whatever state its two connections are in
 * (src/cluster/redisConnection.ts): a Redis that never answered (the start that fails on
 * `cluster.redis`), and one that went away while connected (a shutdown during an outage,
 * both connections waiting to reconnect). What is left is read from the process itself, as
 * soon as close() has resolved: the timers and TCP handles the connection's code created
 * (their creation passed through ioredis or redisConnection.ts) that are still open and
 * would keep Node running. The test runner's own timers share this process and are not
 * the connection's, so resources are told apart by who created them, not counted.
 */
import { createHook } from 'node:async_hooks';
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

/** Async resource types that hold the process open: timers and TCP sockets. */
const WATCHED = new Set(['Timeout', 'TCPWRAP', 'TCPCONNECTWRAP']);
/** Where the connection's own code lives (ioredis, built or source, and our wrapper). */
const CONNECTION_CODE = /[/\\]ioredis[/\\]|redisConnection\.[jt]s/;

/** The connection's live resources: id → type and resource (a timer can be unref'd). */
const live = new Map<number, { type: string; resource: unknown }>();
let watching = false;
createHook({
  init(id, type, _trigger, resource) {
    if (!watching || !WATCHED.has(type)) return;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    const stack = String(new Error().stack);
    Error.stackTraceLimit = limit;
    if (CONNECTION_CODE.test(stack)) live.set(id, { type, resource });
  },
  destroy(id) {
    live.delete(id);
  },
}).enable();

/** What the connection created and still holds open, by type (an unref'd timer does not). */
function opened(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { type, resource } of live.values()) {
    const timer = resource as { hasRef?: () => boolean };
    if (type === 'Timeout' && typeof timer.hasRef === 'function' && !timer.hasRef()) continue;
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/** Starts attributing resources to the connection (before it is created). */
function watch(): void {
  live.clear();
  watching = true;
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
    watch();
    const connection = new RedisConnection({ url: `redis://127.0.0.1:${nobody}`, logger });
    await expect(connection.connect()).rejects.toThrow();
    await connection.close();
    await settle();
    expect(opened()).toEqual({});
  });

  it('while both connections wait to reconnect (Redis went away), nothing stays open', async () => {
    redis = await RedisProc.start();
    watch();
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
    // Each connection's reconnection timer is pending: the watch sees what the connection opens.
    expect(opened().Timeout ?? 0).toBeGreaterThanOrEqual(2);
    await connection.close();
    await settle();
    expect(opened()).toEqual({});
  });
});
