/** Test vocabulary for digest auth: a hand-moved clock, a tiny UAC, a seeded PRNG. */
import { parseAuthHeader, serializeDigestCredentials } from '../../../../sip/auth/authParams.js';
import type { Clock } from '../../../../sip/auth/clock.js';
import {
  computeDigestResponse,
  computeHa1,
  hashFunctionOf,
  parseDigestAlgorithm,
} from '../../../../sip/auth/digest.js';

export class FakeClock implements Clock {
  constructor(public t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface AnswerOptions {
  readonly username: string;
  readonly password: string;
  readonly method?: string;
  readonly uri?: string;
  readonly nc?: number;
  readonly cnonce?: string;
  /** false: answer in the RFC 2069 form, without qop/nc/cnonce. */
  readonly qop?: boolean;
  /** Realm to claim instead of the challenge's. */
  readonly realm?: string;
}

/** Params of a challenge value, for assertions. */
export function challengeParams(value: string): ReadonlyMap<string, string> {
  const parsed = parseAuthHeader(value);
  if (!parsed.ok) throw new Error(`bad challenge in test: ${parsed.reason}`);
  return parsed.value.params;
}

/** What a UAC would put in Authorization after reading `challenge`. */
export function answer(challenge: string, o: AnswerOptions): string {
  const params = challengeParams(challenge);
  const algorithm = parseDigestAlgorithm(params.get('algorithm'));
  if (algorithm === undefined) throw new Error('unsupported algorithm in test');
  const realm = o.realm ?? params.get('realm') ?? '';
  const nonce = params.get('nonce') ?? '';
  const method = o.method ?? 'REGISTER';
  const uri = o.uri ?? 'sip:example.com';
  const withQop = o.qop ?? true;
  const nc = withQop ? (o.nc ?? 1).toString(16).padStart(8, '0') : undefined;
  const cnonce = withQop ? (o.cnonce ?? '0a4f113b') : undefined;
  const ha1 = computeHa1(hashFunctionOf(algorithm), o.username, realm, o.password);
  const response = computeDigestResponse({
    algorithm,
    ha1,
    method,
    uri,
    nonce,
    qop: withQop ? 'auth' : undefined,
    nc,
    cnonce,
  });
  return serializeDigestCredentials({
    username: o.username,
    realm,
    nonce,
    uri,
    response,
    algorithm,
    cnonce,
    opaque: params.get('opaque'),
    qop: withQop ? 'auth' : undefined,
    nc,
  });
}

/** mulberry32: a small deterministic PRNG for the garbage loops. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
