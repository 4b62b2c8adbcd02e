/**
 * What a verification decided, and the SIP response each decision maps to.
 *
 * A registrar or UAS challenges with 401 and WWW-Authenticate, reading Authorization; a proxy
 * (or this server acting for INVITE, SUBSCRIBE, …) challenges with 407 and
 * Proxy-Authenticate, reading Proxy-Authorization (RFC 3261 §22.2, §22.3).
 */
import type { DigestAlgorithm } from './digest.js';

export type ChallengeReason =
  /** No Authorization values at all. */
  | 'no-credentials'
  /** Credentials present, none for our realm (or none in the Digest scheme). */
  | 'no-matching-realm'
  /** An algorithm we do not offer. */
  | 'unsupported-algorithm'
  /** Wrong password or unknown user (deliberately indistinguishable). */
  | 'bad-credentials'
  /** Digest right, nonce expired, forged, from another instance, or forgotten: stale=true. */
  | 'stale-nonce'
  /** Digest right, nc already used on this nonce. */
  | 'nc-replay'
  /** RFC 2069 client (no qop) reusing its nonce: it gets a fresh one with stale=true. */
  | 'nonce-reused'
  /** opaque not echoed as issued. */
  | 'opaque-mismatch'
  /** The user exists but has no HA1 stored for the algorithm the client chose. */
  | 'ha1-unavailable';

export type ForbiddenReason = 'source-locked' | 'user-locked';

export type BadRequestReason =
  | 'malformed-header'
  | 'missing-parameter'
  | 'invalid-nc'
  | 'unsupported-qop'
  /** No qop while legacy RFC 2069 responses are disabled (we always offer qop=auth). */
  | 'missing-qop'
  | 'userhash-unsupported';

export type AuthResult =
  | {
      readonly outcome: 'ok';
      readonly username: string;
      readonly algorithm: DigestAlgorithm;
      /** The digest-uri the client signed. */
      readonly uri: string;
      /** Whether uri equals the Request-URI given to verify(); undefined if none was given. */
      readonly uriMatchesRequest: boolean | undefined;
    }
  | {
      readonly outcome: 'challenge';
      readonly stale: boolean;
      readonly reason: ChallengeReason;
      readonly detail?: string;
      readonly username?: string;
    }
  | {
      readonly outcome: 'forbidden';
      readonly reason: ForbiddenReason;
      /** How long until the lock-out ends; usable for Retry-After. */
      readonly retryAfterMs: number;
      readonly username?: string;
    }
  | {
      readonly outcome: 'bad-request';
      readonly reason: BadRequestReason;
      readonly detail?: string;
    };

export type AuthOutcome = AuthResult['outcome'];

/** 'www': registrar/UAS (401, WWW-Authenticate). 'proxy': proxy role (407, Proxy-Authenticate). */
export type ChallengeKind = 'www' | 'proxy';

export function challengeStatusFor(kind: ChallengeKind): 401 | 407 {
  return kind === 'www' ? 401 : 407;
}

export function challengeHeaderName(
  kind: ChallengeKind,
): 'WWW-Authenticate' | 'Proxy-Authenticate' {
  return kind === 'www' ? 'WWW-Authenticate' : 'Proxy-Authenticate';
}

export function credentialsHeaderName(
  kind: ChallengeKind,
): 'Authorization' | 'Proxy-Authorization' {
  return kind === 'www' ? 'Authorization' : 'Proxy-Authorization';
}

/** The final response for an outcome; undefined for 'ok' (carry on with the request). */
export function statusForOutcome(
  outcome: AuthOutcome,
  kind: ChallengeKind,
): 400 | 401 | 403 | 407 | undefined {
  switch (outcome) {
    case 'ok':
      return undefined;
    case 'challenge':
      return challengeStatusFor(kind);
    case 'forbidden':
      return 403;
    case 'bad-request':
      return 400;
  }
}
