import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { ApiError } from '../../../../src/http/api/errors.js';
import { sessionKeyOf } from '../../../../src/http/api/sessionStore.js';
import { clusterKeys } from '../../../../src/cluster/keys.js';
import { ClusterUnavailableError } from '../../../../src/cluster/redisConnection.js';
import { parsePrincipal, sharedSessions } from '../../../../src/cluster/sharedSessions.js';

/** The commands sharedSessions uses, over a map with expiries timed by `now`. */
class FakeRedis {
  readonly values = new Map<string, { value: string; until: number }>();
  now = 0;
  down = false;

  private live(key: string) {
    const e = this.values.get(key);
    if (e !== undefined && e.until <= this.now) this.values.delete(key);
    return this.values.get(key);
  }
  set(key: string, value: string, _px: 'PX', ms: number) {
    this.values.set(key, { value, until: this.now + ms });
    return Promise.resolve('OK');
  }
  getex(key: string, _px: 'PX', ms: number) {
    const e = this.live(key);
    if (e !== undefined) e.until = this.now + ms;
    return Promise.resolve(e?.value ?? null);
  }
  del(key: string) {
    const had = this.live(key) !== undefined;
    this.values.delete(key);
    return Promise.resolve(had ? 1 : 0);
  }
  run<T>(command: (r: Redis) => Promise<T>): Promise<T> {
    if (this.down) return Promise.reject(new ClusterUnavailableError(new Error('down')));
    return command(this as unknown as Redis);
  }
}

const SAM = Object.freeze({ name: 'web-1005', scope: 'supervisor' as const, extension: '1005' });

function setup() {
  const redis = new FakeRedis();
  const keys = clusterKeys('cw:');
  // Two instances: each its own view of the same Redis.
  const a = sharedSessions({ redis, keys, idleMs: 1000 });
  const b = sharedSessions({ redis, keys, idleMs: 1000 });
  return { redis, a, b };
}

describe('sharedSessions: web sessions every instance can verify', () => {
  it('a session created on one instance is valid on another, stored under the hash of its id', async () => {
    const { redis, a, b } = setup();
    const id = await a.create(SAM);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await b.use(id)).toEqual(SAM);
    expect([...redis.values.keys()]).toEqual([`cw:session:${sessionKeyOf(id)}`]);
    expect([...redis.values.keys()].some((k) => k.includes(id))).toBe(false);
    expect(await b.use('not-a-session')).toBeUndefined();
    expect(await b.use(undefined)).toBeUndefined();
  });

  it('lapses after the idle time without use; every use on any instance renews it', async () => {
    const { redis, a, b } = setup();
    const id = await a.create(SAM);
    redis.now = 900;
    expect(await b.use(id)).toEqual(SAM);
    redis.now = 1800;
    expect(await a.use(id)).toEqual(SAM);
    redis.now = 2800;
    expect(await b.use(id)).toBeUndefined();
  });

  it('sign-out on one instance ends it on every instance', async () => {
    const { a, b } = setup();
    const id = await a.create(SAM);
    expect(await b.end(id)).toBe(true);
    expect(await a.use(id)).toBeUndefined();
    expect(await a.end(id)).toBe(false);
  });

  it('Redis down: 503 cluster-unavailable with Retry-After, not "signed out"', async () => {
    const { redis, a } = setup();
    const id = await a.create(SAM);
    redis.down = true;
    for (const attempt of [a.use(id), a.create(SAM), a.end(id)]) {
      const err = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({
        status: 503,
        code: 'cluster-unavailable',
        headers: { 'Retry-After': '1' },
      });
    }
    redis.down = false;
    expect(await a.use(id)).toEqual(SAM);
  });

  it('reads back only a well-formed principal', () => {
    expect(parsePrincipal(JSON.stringify(SAM))).toEqual(SAM);
    expect(parsePrincipal('{"name":"x","scope":"root","extension":"1"}')).toBeUndefined();
    expect(parsePrincipal('{"name":"x","scope":"agent"}')).toBeUndefined();
    expect(parsePrincipal('not json')).toBeUndefined();
  });
});
