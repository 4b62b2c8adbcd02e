/**
 * Web sign-in sessions (docs/architecture.md §11.6): in memory, keyed by a random 256-bit
 * id that only the browser's HttpOnly cookie holds. A session is the principal of the
 * extension that signed in (its role as the scope); it lapses after `idleMs` without a
 * request, and at most `maxSessions` exist (the least recently used goes first). The map
 * is keyed by the SHA-256 of the id, so looking one up reveals nothing about the ids held.
 * Pure apart from the random ids: time comes from the clock given.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../../sip/auth/clock.js';
import type { Principal } from './auth.js';

export interface SessionLimits {
  /** A session unused this long is gone. */
  idleMs: number;
  /** Sessions held at most; beyond it the least recently used is dropped. */
  maxSessions: number;
}

interface Entry {
  principal: Principal;
  lastUsed: number;
}

/** The key a session is held under: the SHA-256 of its id, so the key reveals no id. */
export function sessionKeyOf(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('base64');
}
const keyOf = sessionKeyOf;

/** A new session id: 256 random bits, 43 base64url characters. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Where web sessions are held, as the routes and the token check use them: this
 * instance's memory (`localSessions`), or with several instances the shared state
 * (src/cluster/sharedSessions.ts), so that a session signed in on one instance is
 * valid, and signed out, on every one. A backend that cannot answer rejects with the
 * API error to give (503 `cluster-unavailable`).
 */
export interface WebSessions {
  create(principal: Principal): Promise<string>;
  use(id: string | undefined): Promise<Principal | undefined>;
  end(id: string | undefined): Promise<boolean>;
  /** Drops lapsed sessions (a backend whose entries expire by themselves does nothing). */
  sweep(): void;
}

/** One instance: the sessions in its memory. */
export function localSessions(store: SessionStore): WebSessions {
  return {
    create: (principal) => Promise.resolve(store.create(principal)),
    use: (id) => Promise.resolve(store.use(id)),
    end: (id) => Promise.resolve(store.end(id)),
    sweep: () => store.sweep(),
  };
}

export class SessionStore {
  /** In order of last use, oldest first (Map keeps insertion order; a use re-inserts). */
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** A new session of `principal`: its id (43 base64url characters, 256 random bits). */
  create(principal: Principal): string {
    const id = newSessionId();
    while (this.entries.size >= this.limits.maxSessions) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.entries.set(keyOf(id), { principal, lastUsed: this.clock.now() });
    return id;
  }

  /** The principal of session `id` (and the session is used now), or undefined. */
  use(id: string | undefined): Principal | undefined {
    if (id === undefined || id === '') return undefined;
    const key = keyOf(id);
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.clock.now();
    this.entries.delete(key);
    if (now - entry.lastUsed >= this.limits.idleMs) return undefined;
    entry.lastUsed = now;
    this.entries.set(key, entry);
    return entry.principal;
  }

  /** Ends session `id` (sign-out); true when there was one. */
  end(id: string | undefined): boolean {
    if (id === undefined || id === '') return false;
    return this.entries.delete(keyOf(id));
  }

  /** Drops the sessions that lapsed (call now and then). */
  sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) {
      // Oldest first: the first one still fresh ends the lapsed run.
      if (now - entry.lastUsed < this.limits.idleMs) break;
      this.entries.delete(key);
    }
  }
}
