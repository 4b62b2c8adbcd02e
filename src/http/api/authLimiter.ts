/**
 * Wrong API tokens per source address, limited like SIP digest failures: the same
 * FailureLimiter (sip/auth/failureLimiter.ts: a fixed window per key, then a lock-out)
 * keyed by the request's IP. After `maxFailures` wrong tokens within `windowSec` the
 * address is refused with 429 `too-many-auth-failures` and `Retry-After` for `lockSec`,
 * whatever it presents, the right token included (a guesser must not learn which guess
 * was right). Requests without any token are not guesses and do not count; a right token
 * does not clear the count (it would let a token holder guess on).
 *
 * The lock-out answer is counted in `callwatch_api_auth_failures_total{reason="locked"}`
 * and each wrong token in `{reason="bad-token"}`; the lock itself is logged once (warn).
 */
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../../../sip/auth/clock.js';
import { FailureLimiter } from '../../../sip/auth/failureLimiter.js';
import { ApiError } from './errors.js';

export interface AuthLimitConfig {
  maxFailures: number;
  windowSec: number;
  lockSec: number;
}

/** Addresses tracked at most (the least recently failed is forgotten first). */
const MAX_TRACKED_SOURCES = 100_000;

export class AuthLimiter {
  private readonly limiter: FailureLimiter;
  private readonly failures: Counter<'reason'>;

  constructor(
    limits: AuthLimitConfig,
    private readonly clock: Clock,
    registry?: Registry,
  ) {
    this.limiter = new FailureLimiter(clock, {
      maxFailures: limits.maxFailures,
      windowMs: limits.windowSec * 1000,
      lockoutMs: limits.lockSec * 1000,
      maxTrackedKeys: MAX_TRACKED_SOURCES,
    });
    this.failures = new Counter({
      name: 'callwatch_api_auth_failures_total',
      help: 'REST/WebSocket/Yeastar requests refused for their token: bad-token (wrong), locked (the source address is locked out after too many)',
      labelNames: ['reason'] as const,
      registers: registry ? [registry] : [],
    });
    this.failures.inc({ reason: 'bad-token' }, 0);
    this.failures.inc({ reason: 'locked' }, 0);
  }

  /** Seconds until `source` may try again, or undefined when it is not locked. */
  retryAfterSec(source: string): number | undefined {
    const until = this.limiter.lockedUntil(source);
    if (until === undefined) return undefined;
    return Math.max(1, Math.ceil((until - this.clock.now()) / 1000));
  }

  /** A refused request from a locked source: counted; the error to answer. */
  refuse(retryAfterSec: number): ApiError {
    this.failures.inc({ reason: 'locked' });
    return tooManyFailures(retryAfterSec);
  }

  /** A wrong token from `source`: counted; true when this failure locked the source. */
  fail(source: string): boolean {
    this.failures.inc({ reason: 'bad-token' });
    return this.limiter.recordFailure(source).locked;
  }

  /** Forgets idle addresses (call now and then). */
  sweep(): void {
    this.limiter.sweep();
  }
}

export function tooManyFailures(retryAfterSec: number): ApiError {
  return new ApiError(
    429,
    'too-many-auth-failures',
    `too many failed authentications from this address: try again in ${retryAfterSec} s`,
    { headers: { 'retry-after': String(retryAfterSec) } },
  );
}
