/**
 * Turns a parsed Authorization / Proxy-Authorization value into typed digest credentials
 * (RFC 3261 §25.1 dig-resp, RFC 7616 §3.4), or a typed reason it cannot be used.
 */
import { type AuthHeader, parseAuthHeader } from './authParams.js';
import {
  type DigestAlgorithm,
  MAX_NC,
  isSessionAlgorithm,
  parseDigestAlgorithm,
} from './digest.js';

export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  /** digest-uri as sent; hashed as text, never normalised. */
  readonly uri: string;
  readonly response: string;
  readonly algorithm: DigestAlgorithm;
  /** undefined: the RFC 2069 form, without cnonce and nc. */
  readonly qop: 'auth' | undefined;
  /** nc as sent (hashed as text) and its value. Present exactly when qop is. */
  readonly nc: string | undefined;
  readonly ncValue: number | undefined;
  readonly cnonce: string | undefined;
  readonly opaque: string | undefined;
}

export type CredentialsError =
  | { readonly kind: 'not-digest'; readonly detail: string }
  | { readonly kind: 'missing-parameter'; readonly detail: string }
  | { readonly kind: 'unsupported-algorithm'; readonly detail: string }
  | { readonly kind: 'unsupported-qop'; readonly detail: string }
  | { readonly kind: 'invalid-nc'; readonly detail: string }
  | { readonly kind: 'userhash-unsupported'; readonly detail: string };

export type CredentialsResult =
  | { readonly ok: true; readonly value: DigestCredentials }
  | { readonly ok: false; readonly error: CredentialsError };

/** nc-value = 8LHEX; shorter hex is tolerated since the text is hashed as sent. */
const NC_PATTERN = /^[0-9a-fA-F]{1,8}$/;

const REQUIRED = ['username', 'realm', 'nonce', 'uri', 'response'] as const;

function failure(kind: CredentialsError['kind'], detail: string): CredentialsResult {
  return { ok: false, error: { kind, detail } };
}

export function isDigestScheme(header: AuthHeader): boolean {
  return header.scheme.toLowerCase() === 'digest';
}

export function readDigestCredentials(header: AuthHeader): CredentialsResult {
  if (!isDigestScheme(header)) return failure('not-digest', header.scheme);
  const p = header.params;
  // RFC 7616 §3.4.4: userhash, and username* for non-ASCII names; we offer neither.
  if (p.get('userhash')?.toLowerCase() === 'true') return failure('userhash-unsupported', '');
  if (!p.has('username') && p.has('username*')) {
    return failure('userhash-unsupported', 'username*');
  }
  for (const name of REQUIRED) {
    if (!p.has(name)) return failure('missing-parameter', name);
  }
  const rawAlgorithm = p.get('algorithm');
  const algorithm = parseDigestAlgorithm(rawAlgorithm);
  if (algorithm === undefined) return failure('unsupported-algorithm', rawAlgorithm ?? '');

  const rawQop = p.get('qop');
  let qop: 'auth' | undefined;
  let nc: string | undefined;
  let ncValue: number | undefined;
  let cnonce: string | undefined;
  if (rawQop !== undefined) {
    // qop-value is compared case-insensitively; only auth is offered (no auth-int).
    if (rawQop.toLowerCase() !== 'auth') return failure('unsupported-qop', rawQop);
    qop = 'auth';
    nc = p.get('nc');
    cnonce = p.get('cnonce');
    if (nc === undefined) return failure('missing-parameter', 'nc');
    if (cnonce === undefined) return failure('missing-parameter', 'cnonce');
    if (!NC_PATTERN.test(nc)) return failure('invalid-nc', nc);
    ncValue = Number.parseInt(nc, 16);
    if (ncValue < 1 || ncValue > MAX_NC) return failure('invalid-nc', nc);
  } else if (isSessionAlgorithm(algorithm)) {
    // The -sess HA1 needs a cnonce, which only exists with qop (RFC 3261 §22.4 item 8).
    return failure('missing-parameter', 'qop');
  }

  return {
    ok: true,
    value: {
      username: p.get('username') ?? '',
      realm: p.get('realm') ?? '',
      nonce: p.get('nonce') ?? '',
      uri: p.get('uri') ?? '',
      response: p.get('response') ?? '',
      algorithm,
      qop,
      nc,
      ncValue,
      cnonce,
      opaque: p.get('opaque'),
    },
  };
}

/** Authorization values examined per request; more are ignored. */
export const MAX_CREDENTIAL_VALUES = 16;

export type CredentialsSelection =
  | { readonly kind: 'found'; readonly header: AuthHeader }
  | { readonly kind: 'malformed'; readonly detail: string }
  | { readonly kind: 'none' };

/**
 * RFC 3261 §22.3: among several Authorization values take the one whose realm is ours,
 * preferring one whose algorithm we offer (a UAC may answer several challenges, RFC 8760
 * §2.4). Values for other realms or schemes are ignored; an unparseable value is only an
 * error when nothing usable is left, since it may belong to another realm.
 */
export function selectCredentials(
  values: readonly string[],
  realm: string,
  offered: readonly DigestAlgorithm[],
): CredentialsSelection {
  let malformed: string | undefined;
  let fallback: AuthHeader | undefined;
  for (const value of values.slice(0, MAX_CREDENTIAL_VALUES)) {
    const parsed = parseAuthHeader(value);
    if (!parsed.ok) {
      malformed ??= parsed.reason;
      continue;
    }
    const header = parsed.value;
    if (!isDigestScheme(header) || header.params.get('realm') !== realm) continue;
    const algorithm = parseDigestAlgorithm(header.params.get('algorithm'));
    if (algorithm !== undefined && offered.includes(algorithm)) return { kind: 'found', header };
    fallback ??= header;
  }
  if (fallback !== undefined) return { kind: 'found', header: fallback };
  if (malformed !== undefined) return { kind: 'malformed', detail: malformed };
  return { kind: 'none' };
}
