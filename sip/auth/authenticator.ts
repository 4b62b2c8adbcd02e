/**
 * Server-side SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760), independent of
 * the message model: it takes header values and answers with a typed decision.
 *
 * Order of checks in verify(), and why:
 *  1. source locked out → forbidden (cheapest, before any parsing or hashing). The
 *     source is the packet's address, or for a request from a trusted proxy the client
 *     address below it in the Via stack, or none (user only): see proxiedSource.ts;
 *  2. pick the credentials for our realm, parse, validate (malformed → bad-request);
 *  3. user locked out → forbidden;
 *  4. compute the expected response. Unknown users are hashed against a random dummy
 *     password so they cost the same and fail the same way as a wrong password;
 *  5. mismatch → one failure for the source and one for the username → challenge, or
 *     forbidden once either key reaches its limit;
 *  6. digest right → consult the nonce: expired, forged or forgotten → challenge with
 *     stale=true (RFC 7616 §3.3: stale only when the digest itself was valid); nc already
 *     seen → challenge with stale=false; else ok and the user's failure count is cleared.
 *
 * A replayed nc is not counted as a failure: it carries no password guess (the digest
 * matched), and counting it would let anyone who sniffed one request lock its user out.
 *
 * Legacy RFC 2069 responses (no qop): RFC 3261 §22.4 item 8 makes servers always send qop
 * but lets them still accept answers without it. Off by default (allowLegacyNoQop): without
 * nc they are replayable. When enabled each such nonce is good for one request; reuse gets a
 * fresh nonce with stale=true, so old phones re-authenticate without prompting the user.
 *
 * Credential lookup is synchronous: the credential store is expected in memory (config).
 * Timers: none. Call sweep() periodically (e.g. each minute) to release expired state;
 * expired state is also dropped a little at a time on use.
 */
import { randomBytes } from 'node:crypto';
import { quoteString, serializeDigestChallenge } from './authParams.js';
import type {
  AuthResult,
  BadRequestReason,
  ChallengeReason,
  ForbiddenReason,
} from './authResult.js';
import type { Clock } from './clock.js';
import { type DigestCredentials, readDigestCredentials, selectCredentials } from './credentials.js';
import {
  type DigestAlgorithm,
  computeDigestResponse,
  computeHa1,
  digestEquals,
  hashFunctionOf,
  parseDigestAlgorithm,
} from './digest.js';
import {
  DEFAULT_SOURCE_LIMITS,
  DEFAULT_USER_LIMITS,
  FailureLimiter,
  type FailureLimiterOptions,
} from './failureLimiter.js';
import { NonceStore } from './nonceStore.js';
import { failureSourceKey } from './proxiedSource.js';

/** What the credential store knows about a user: the password, or stored base HA1 values
 * (H(username:realm:password) in hex, per hash function; the realm must be ours). */
export type StoredCredentials =
  | { readonly password: string }
  | { readonly ha1: { readonly md5?: string; readonly sha256?: string } };

export type CredentialLookup = (username: string) => StoredCredentials | undefined;

export const DEFAULT_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];
export const DEFAULT_NONCE_LIFETIME_MS = 300_000;

export interface DigestAuthenticatorOptions {
  readonly realm: string;
  /** Offered algorithms, one challenge each, in the order given. RFC 8760 §2.3 asks for
   * the preferred (strongest) first, but many phones (baresip 1.0, SIPp 3.6, older desk
   * phones) answer only the first challenge and fail on SHA-256, so the order is the
   * operator's choice. Duplicates are dropped. Default ['SHA-256', 'MD5']. */
  readonly algorithms?: readonly DigestAlgorithm[];
  readonly nonceLifetimeMs?: number;
  readonly lookupCredentials: CredentialLookup;
  readonly clock: Clock;
  /** Nonce HMAC key (≥ 16 bytes). Random per instance when absent. */
  readonly secret?: Uint8Array;
  readonly sourceLimits?: Partial<FailureLimiterOptions>;
  readonly userLimits?: Partial<FailureLimiterOptions>;
  /** Addresses of SIP proxies whose requests are counted by the client address in their
   * Via stack, not by the proxy's own (see proxiedSource.ts). IP literals. */
  readonly trustedProxies?: readonly string[];
  readonly maxTrackedNonces?: number;
  /** See NonceStore: 1 = nc strictly increasing; default 32. */
  readonly ncWindow?: number;
  /** Sent in every challenge and required back unchanged when set. */
  readonly opaque?: string;
  /** Accept RFC 2069 responses without qop. Default false. */
  readonly allowLegacyNoQop?: boolean;
  readonly randomBytes?: (size: number) => Uint8Array;
}

export interface VerifyInput {
  /** The request method, as in the request line (hashed into HA2). */
  readonly method: string;
  /** All Authorization (or Proxy-Authorization) header values, in message order. */
  readonly authorizationHeaderValues: readonly string[];
  /** The peer's IP address (without port): the key for per-source lock-out. */
  readonly sourceAddress: string;
  /** The request's Via values, topmost first: read only when `sourceAddress` is a trusted
   * proxy; without them such a request is limited by its user only. */
  readonly via?: readonly string[];
  /** The Request-URI; only compared with the signed uri and reported, never enforced. */
  readonly requestUri?: string;
}

export interface AuthenticatorSizes {
  readonly nonces: number;
  readonly sources: number;
  readonly users: number;
}

function offeredAlgorithms(list: readonly DigestAlgorithm[]): readonly DigestAlgorithm[] {
  for (const a of list) {
    if (parseDigestAlgorithm(a) !== a) throw new RangeError(`unsupported algorithm ${String(a)}`);
  }
  const unique = [...new Set(list)];
  if (unique.length === 0) throw new RangeError('at least one algorithm is required');
  return unique;
}

function challengeResult(
  stale: boolean,
  reason: ChallengeReason,
  detail?: string,
  username?: string,
): AuthResult {
  return { outcome: 'challenge', stale, reason, detail, username };
}

function badRequest(reason: BadRequestReason, detail?: string): AuthResult {
  return { outcome: 'bad-request', reason, detail };
}

export class DigestAuthenticator {
  readonly realm: string;
  readonly algorithms: readonly DigestAlgorithm[];
  readonly #clock: Clock;
  readonly #lookup: CredentialLookup;
  readonly #opaque: string | undefined;
  readonly #allowLegacyNoQop: boolean;
  readonly #nonces: NonceStore;
  readonly #sources: FailureLimiter;
  readonly #users: FailureLimiter;
  readonly #trustedProxies: ReadonlySet<string>;
  /** Hashed for unknown users so they take as long as known ones. */
  readonly #dummyPassword: string;

  constructor(options: DigestAuthenticatorOptions) {
    if (options.realm.length === 0) throw new RangeError('realm must not be empty');
    quoteString(options.realm); // throws on characters a challenge cannot carry
    if (options.opaque !== undefined) quoteString(options.opaque);
    this.realm = options.realm;
    this.algorithms = offeredAlgorithms(options.algorithms ?? DEFAULT_ALGORITHMS);
    this.#clock = options.clock;
    this.#lookup = options.lookupCredentials;
    this.#opaque = options.opaque;
    this.#allowLegacyNoQop = options.allowLegacyNoQop ?? false;
    const random = options.randomBytes ?? randomBytes;
    this.#nonces = new NonceStore({
      clock: options.clock,
      lifetimeMs: options.nonceLifetimeMs ?? DEFAULT_NONCE_LIFETIME_MS,
      maxTracked: options.maxTrackedNonces,
      ncWindow: options.ncWindow,
      secret: options.secret,
      // The store draws from a pooled CSPRNG buffer unless a test injects a source.
      randomBytes: options.randomBytes,
    });
    this.#sources = new FailureLimiter(options.clock, {
      ...DEFAULT_SOURCE_LIMITS,
      ...options.sourceLimits,
    });
    this.#users = new FailureLimiter(options.clock, {
      ...DEFAULT_USER_LIMITS,
      ...options.userLimits,
    });
    this.#trustedProxies = new Set(options.trustedProxies ?? []);
    this.#dummyPassword = Buffer.from(random(16)).toString('hex');
  }

  /**
   * Header values for WWW-Authenticate or Proxy-Authenticate: one per offered algorithm,
   * in the configured order, sharing one fresh nonce (as in RFC 7616 §3.9.1). Always qop="auth"
   * (RFC 3261 §22.4 item 8).
   */
  challenge(opts: { readonly stale?: boolean } = {}): string[] {
    const nonce = this.#nonces.issue();
    return this.algorithms.map((algorithm) =>
      serializeDigestChallenge({
        realm: this.realm,
        nonce,
        algorithm,
        qop: ['auth'],
        opaque: this.#opaque,
        stale: opts.stale === true,
      }),
    );
  }

  verify(input: VerifyInput): AuthResult {
    const sourceKey = failureSourceKey(input.sourceAddress, input.via, this.#trustedProxies);
    const sourceLock = sourceKey === undefined ? undefined : this.#sources.lockedUntil(sourceKey);
    if (sourceLock !== undefined) return this.#forbidden('source-locked', sourceLock);
    if (input.authorizationHeaderValues.length === 0) {
      return challengeResult(false, 'no-credentials');
    }

    const selected = selectCredentials(
      input.authorizationHeaderValues,
      this.realm,
      this.algorithms,
    );
    if (selected.kind === 'malformed') return badRequest('malformed-header', selected.detail);
    if (selected.kind === 'none') return challengeResult(false, 'no-matching-realm');

    const read = readDigestCredentials(selected.header);
    if (!read.ok) {
      const { kind, detail } = read.error;
      if (kind === 'unsupported-algorithm') return challengeResult(false, kind, detail);
      if (kind === 'not-digest') return challengeResult(false, 'no-matching-realm', detail);
      return badRequest(kind, detail);
    }
    const creds = read.value;
    if (!this.algorithms.includes(creds.algorithm)) {
      return challengeResult(false, 'unsupported-algorithm', creds.algorithm);
    }
    if (creds.qop === undefined && !this.#allowLegacyNoQop) return badRequest('missing-qop');
    if (this.#opaque !== undefined && creds.opaque !== this.#opaque) {
      return challengeResult(false, 'opaque-mismatch', undefined, creds.username);
    }

    const userLock = this.#users.lockedUntil(creds.username);
    if (userLock !== undefined) return this.#forbidden('user-locked', userLock, creds.username);

    const stored = this.#lookup(creds.username);
    const ha1 = this.#baseHa1(stored, creds);
    if (ha1 === undefined) {
      return challengeResult(false, 'ha1-unavailable', creds.algorithm, creds.username);
    }
    const expected = computeDigestResponse({ ...creds, method: input.method, ha1 });
    if (stored === undefined || !digestEquals(expected, creds.response)) {
      return this.#fail(creds.username, sourceKey);
    }
    return this.#useNonce(creds, input);
  }

  /** Releases expired nonce state and idle limiter entries. */
  sweep(): AuthenticatorSizes {
    return {
      nonces: this.#nonces.sweep(),
      sources: this.#sources.sweep(),
      users: this.#users.sweep(),
    };
  }

  /** Entries currently held, for metrics. */
  get sizes(): AuthenticatorSizes {
    return {
      nonces: this.#nonces.trackedCount,
      sources: this.#sources.size,
      users: this.#users.size,
    };
  }

  /** The base HA1 to check against; undefined when the user has none for this hash. */
  #baseHa1(stored: StoredCredentials | undefined, creds: DigestCredentials): string | undefined {
    const fn = hashFunctionOf(creds.algorithm);
    if (stored === undefined) {
      return computeHa1(fn, creds.username, this.realm, this.#dummyPassword);
    }
    if ('password' in stored) return computeHa1(fn, creds.username, this.realm, stored.password);
    return fn === 'md5' ? stored.ha1.md5 : stored.ha1.sha256;
  }

  /** `sourceKey` undefined: a proxied request whose client address is unknown (user only). */
  #fail(username: string, sourceKey: string | undefined): AuthResult {
    const source = sourceKey === undefined ? undefined : this.#sources.recordFailure(sourceKey);
    const user = this.#users.recordFailure(username);
    if (source?.locked === true && sourceKey !== undefined) {
      return this.#forbidden('source-locked', this.#sources.lockedUntil(sourceKey), username);
    }
    if (user.locked) {
      return this.#forbidden('user-locked', this.#users.lockedUntil(username), username);
    }
    return challengeResult(false, 'bad-credentials', undefined, username);
  }

  #useNonce(creds: DigestCredentials, input: VerifyInput): AuthResult {
    // Without qop there is no nc: the nonce itself is single-use (nc 1).
    const use = this.#nonces.use(creds.nonce, creds.ncValue ?? 1);
    switch (use) {
      case 'accepted':
        this.#users.reset(creds.username);
        return {
          outcome: 'ok',
          username: creds.username,
          algorithm: creds.algorithm,
          uri: creds.uri,
          uriMatchesRequest:
            input.requestUri === undefined ? undefined : input.requestUri === creds.uri,
        };
      case 'replayed':
        return creds.qop === undefined
          ? challengeResult(true, 'nonce-reused', undefined, creds.username)
          : challengeResult(false, 'nc-replay', creds.nc, creds.username);
      case 'expired':
      case 'invalid':
      case 'forgotten':
        return challengeResult(true, 'stale-nonce', use, creds.username);
    }
  }

  #forbidden(reason: ForbiddenReason, until: number | undefined, username?: string): AuthResult {
    const retryAfterMs = Math.max(0, (until ?? this.#clock.now()) - this.#clock.now());
    return { outcome: 'forbidden', reason, retryAfterMs, username };
  }
}
