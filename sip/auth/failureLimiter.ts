/**
 * Counts authentication failures per key (a source IP, or a username) and locks a key out
 * after `maxFailures` failures within `windowMs`, for `lockoutMs`.
 *
 * The window is fixed: it opens at the first failure and resets once `windowMs` has passed
 * (so a patient guesser can fit at most 2·maxFailures − 1 failures in any window; cheap and
 * O(1) per key). When a lock-out ends the key starts over with a clean count.
 *
 * Bounded memory: at most `maxTrackedKeys` keys; the key least recently failed is evicted
 * first. An attacker spraying failures from more than `maxTrackedKeys` addresses can push an
 * earlier lock-out out of the table: size the cap above the address count you expect.
 * Idle entries are purged a few at a time on each failure and fully by `sweep()`; no timers.
 */
import { detached } from '../util/detached.js';
import type { Clock } from './clock.js';

export interface FailureLimiterOptions {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly lockoutMs: number;
  readonly maxTrackedKeys: number;
}

/** Per source address: a brute-forcer is stopped after 5 guesses a minute, for 5 minutes. */
export const DEFAULT_SOURCE_LIMITS: FailureLimiterOptions = {
  maxFailures: 5,
  windowMs: 60_000,
  lockoutMs: 300_000,
  maxTrackedKeys: 100_000,
};

/**
 * Per username: more forgiving than per source, and a shorter lock, since anyone can lock a
 * known username out by failing on purpose (the price of stopping distributed guessing).
 */
export const DEFAULT_USER_LIMITS: FailureLimiterOptions = {
  maxFailures: 10,
  windowMs: 300_000,
  lockoutMs: 120_000,
  maxTrackedKeys: 100_000,
};

/** Entries examined for idleness per recorded failure. */
const LAZY_PURGE_STEPS = 2;

export interface FailureRecord {
  /** True when this failure locked the key (or it was locked already). */
  readonly locked: boolean;
  /** Failures in the current window; 0 once locked. */
  readonly failures: number;
}

interface Entry {
  windowStart: number;
  failures: number;
  /** 0 when not locked. */
  lockedUntil: number;
}

function checkPositive(name: string, value: number, integer: boolean): void {
  const ok = integer ? Number.isInteger(value) && value >= 1 : value > 0 && Number.isFinite(value);
  if (!ok) throw new RangeError(`${name} must be a positive ${integer ? 'integer' : 'number'}`);
}

export class FailureLimiter {
  readonly #clock: Clock;
  readonly #options: FailureLimiterOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(clock: Clock, options: FailureLimiterOptions) {
    checkPositive('maxFailures', options.maxFailures, true);
    checkPositive('windowMs', options.windowMs, false);
    checkPositive('lockoutMs', options.lockoutMs, false);
    checkPositive('maxTrackedKeys', options.maxTrackedKeys, true);
    this.#clock = clock;
    this.#options = { ...options };
  }

  /** Number of keys currently tracked. */
  get size(): number {
    return this.#entries.size;
  }

  /** When the lock on `key` ends (clock ms), or undefined if it is not locked. */
  lockedUntil(key: string): number | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.#clock.now();
    if (entry.lockedUntil > now) return entry.lockedUntil;
    if (this.#isIdle(entry, now)) this.#entries.delete(key);
    return undefined;
  }

  isLocked(key: string): boolean {
    return this.lockedUntil(key) !== undefined;
  }

  recordFailure(key: string): FailureRecord {
    const now = this.#clock.now();
    const { maxFailures, windowMs, lockoutMs } = this.#options;
    let entry = this.#entries.get(key);
    if (entry !== undefined && entry.lockedUntil > now) return { locked: true, failures: 0 };
    if (entry === undefined || entry.lockedUntil !== 0 || now - entry.windowStart >= windowMs) {
      entry = { windowStart: now, failures: 0, lockedUntil: 0 };
    }
    entry.failures++;
    if (entry.failures >= maxFailures) {
      entry.lockedUntil = now + lockoutMs;
      entry.failures = 0;
    }
    // Re-insert so the Map's order is least recently failed first.
    this.#entries.delete(key);
    this.#purgeOldest(now);
    // Kept for the window or the lock-out: its own copy, not a slice of the request.
    this.#entries.set(detached(key), entry);
    this.#evictOverflow();
    return { locked: entry.lockedUntil !== 0, failures: entry.failures };
  }

  /** Forgets a key: a successful authentication clears the user's count. */
  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Drops every idle entry (not locked, window over); returns how many. */
  sweep(): number {
    const now = this.#clock.now();
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (this.#isIdle(entry, now)) {
        this.#entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  #isIdle(entry: Entry, now: number): boolean {
    if (entry.lockedUntil !== 0) return entry.lockedUntil <= now;
    return now - entry.windowStart >= this.#options.windowMs;
  }

  #purgeOldest(now: number): void {
    let left = LAZY_PURGE_STEPS;
    for (const [key, entry] of this.#entries) {
      if (left-- <= 0 || !this.#isIdle(entry, now)) return;
      this.#entries.delete(key);
    }
  }

  #evictOverflow(): void {
    while (this.#entries.size > this.#options.maxTrackedKeys) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) return;
      this.#entries.delete(oldest.value);
    }
  }
}
