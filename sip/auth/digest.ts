/**
 * Digest response arithmetic (RFC 2617 §3.2.2, RFC 7616 §3.4.1–3.4.3, RFC 8760 for SIP).
 *
 *   HA1      = H(username ":" realm ":" password)             (the "base" HA1, storable)
 *   HA1-sess = H(HA1 ":" nonce ":" cnonce)                    (for the -sess algorithms)
 *   HA2      = H(method ":" digest-uri)                       (qop=auth; auth-int unsupported)
 *   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)   with qop
 *   response = H(HA1 ":" nonce ":" HA2)                       without qop (RFC 2069 form)
 *
 * H is MD5 or SHA-256, written as lowercase hex. Strings are hashed as UTF-8 (SIP is UTF-8;
 * RFC 7616 §4 charset=UTF-8).
 */
import { hash, timingSafeEqual } from 'node:crypto';

/** Strongest first: the order challenges are offered in (RFC 8760 §2.4). */
export const DIGEST_ALGORITHMS = ['SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];
export type HashFunction = 'md5' | 'sha256';
/** The largest nonce count: nc-value is 8LHEX (RFC 7616 §3.4). */
export const MAX_NC = 0xffffffff;

/**
 * Maps an `algorithm` parameter to a supported algorithm, case-insensitively. An absent
 * parameter means MD5 (RFC 2617 §3.2.1, RFC 7616 §3.3). Unknown names give undefined.
 */
export function parseDigestAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  const lower = value.toLowerCase();
  return DIGEST_ALGORITHMS.find((a) => a.toLowerCase() === lower);
}

export function hashFunctionOf(algorithm: DigestAlgorithm): HashFunction {
  return algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
}

export function isSessionAlgorithm(algorithm: DigestAlgorithm): boolean {
  return algorithm.endsWith('-sess');
}

export function hashHex(fn: HashFunction, data: string): string {
  // One-shot hashing (Node ≥ 20.12): 2-3× cheaper than a createHash object per call.
  return hash(fn, data, 'hex');
}

/** The base HA1 = H(username:realm:password); what a credential store may keep instead. */
export function computeHa1(
  fn: HashFunction,
  username: string,
  realm: string,
  password: string,
): string {
  return hashHex(fn, `${username}:${realm}:${password}`);
}

export interface DigestResponseInput {
  readonly algorithm: DigestAlgorithm;
  /** The base HA1 (never the -sess one); hex in either case. */
  readonly ha1: string;
  readonly method: string;
  readonly uri: string;
  readonly nonce: string;
  /** 'auth', or undefined for the RFC 2069 form. */
  readonly qop?: 'auth';
  /** The nc exactly as the client wrote it: it is hashed as text. */
  readonly nc?: string;
  readonly cnonce?: string;
}

/** The expected `response` value, lowercase hex. */
export function computeDigestResponse(input: DigestResponseInput): string {
  const fn = hashFunctionOf(input.algorithm);
  const cnonce = input.cnonce ?? '';
  let ha1 = input.ha1.toLowerCase();
  if (isSessionAlgorithm(input.algorithm)) ha1 = hashHex(fn, `${ha1}:${input.nonce}:${cnonce}`);
  const ha2 = hashHex(fn, `${input.method}:${input.uri}`);
  if (input.qop === undefined) return hashHex(fn, `${ha1}:${input.nonce}:${ha2}`);
  return hashHex(fn, `${ha1}:${input.nonce}:${input.nc ?? ''}:${cnonce}:${input.qop}:${ha2}`);
}

/**
 * Compares a received response to the expected one in constant time for a given length.
 * The length of a digest is public (it follows from the algorithm), so a length mismatch
 * may return early. Hex case is ignored (LHEX is required, but uppercase is harmless).
 */
export function digestEquals(expectedHex: string, receivedHex: string): boolean {
  const expected = Buffer.from(expectedHex.toLowerCase(), 'utf8');
  const received = Buffer.from(receivedHex.toLowerCase(), 'utf8');
  if (expected.length !== received.length) return false;
  return timingSafeEqual(expected, received);
}
