/**
 * Web sign-in sessions held in the shared state, so a browser signed in on one instance
 * is signed in on every instance, and signed out or lapsed on every one at once
 * (docs/architecture.md "Several instances"). A session is `session:<SHA-256 of its id>`
 * holding the principal, with an expiry of the idle timeout that every use renews
 * (GETEX ... PX, one round trip); sign-out deletes it. Redis times the expiry, so the
 * instances' clocks play no part. Redis down: signing in, using a session and signing out
 * answer 503 `cluster-unavailable` (bearer tokens, which are configuration, still work).
 */
import type { Principal } from '../http/api/auth.js';
import { ApiError } from '../http/api/errors.js';
import { newSessionId, sessionKeyOf, type WebSessions } from '../http/api/sessionStore.js';
import type { ClusterKeys } from './keys.js';
import { ClusterUnavailableError, type RedisConnection } from './redisConnection.js';

export interface SharedSessionsDeps {
  redis: Pick<RedisConnection, 'run'>;
  keys: Pick<ClusterKeys, 'session'>;
  /** A session unused this long is gone. */
  idleMs: number;
}

/** A principal read back from Redis, or undefined when the entry is not one. */
export function parsePrincipal(text: string): Principal | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.name !== 'string' || typeof o.extension !== 'string') return undefined;
  if (o.scope !== 'admin' && o.scope !== 'supervisor' && o.scope !== 'agent') return undefined;
  return Object.freeze({ name: o.name, scope: o.scope, extension: o.extension });
}

export function sharedSessions(deps: SharedSessionsDeps): WebSessions {
  const key = (id: string) => deps.keys.session(sessionKeyOf(id));
  const run = async <T>(
    what: string,
    command: Parameters<SharedSessionsDeps['redis']['run']>[0],
  ) => {
    try {
      return (await deps.redis.run(command)) as T;
    } catch (err) {
      if (!(err instanceof ClusterUnavailableError)) throw err;
      throw new ApiError(503, 'cluster-unavailable', `${what}: ${err.message}`, {
        headers: { 'Retry-After': '1' },
      });
    }
  };
  return {
    async create(principal) {
      const id = newSessionId();
      const value = JSON.stringify({
        name: principal.name,
        scope: principal.scope,
        extension: principal.extension,
      });
      await run('signing in', (r) => r.set(key(id), value, 'PX', deps.idleMs));
      return id;
    },
    async use(id) {
      if (id === undefined || id === '') return undefined;
      const text = await run<string | null>('checking the session', (r) =>
        r.getex(key(id), 'PX', deps.idleMs),
      );
      return text === null ? undefined : parsePrincipal(text);
    },
    async end(id) {
      if (id === undefined || id === '') return false;
      const removed = await run<number>('signing out', (r) => r.del(key(id)));
      return removed > 0;
    },
    sweep() {
      // Redis expires lapsed sessions itself.
    },
  };
}
