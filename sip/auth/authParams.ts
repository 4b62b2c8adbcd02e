/**
 * Parser and serializer for the values of WWW-Authenticate, Proxy-Authenticate, Authorization
 * and Proxy-Authorization (one challenge or credential per header value, RFC 3261 §20.7,
 * §20.27, §20.28, §20.44).
 *
 * Grammar, RFC 3261 §25.1:
 *   challenge     = "Digest" LWS digest-cln *(COMMA digest-cln)
 *   credentials   = "Digest" LWS dig-resp *(COMMA dig-resp)
 *   auth-param    = auth-param-name EQUAL ( token / quoted-string )
 *   EQUAL = SWS "=" SWS      COMMA = SWS "," SWS      LWS = [*WSP CRLF] 1*WSP
 *   quoted-string = SWS DQUOTE *(qdtext / quoted-pair ) DQUOTE
 *   quoted-pair   = "\" (%x00-09 / %x0B-0C / %x0E-7F)
 *
 * Leniency: empty list elements (`a=1,,b=2`, a trailing comma) are skipped. Unquoted values
 * must be tokens: a client that leaves a base64 nonce unquoted is rejected, not guessed at.
 * Network input never throws here; the serializers throw on values we produced wrongly.
 */

/** Longest header value we look at; digest credentials are a few hundred bytes. */
export const MAX_AUTH_HEADER_LENGTH = 4096;
/** Most auth-params accepted in one value (RFC 7616 defines about a dozen). */
export const MAX_AUTH_PARAMS = 32;

export interface AuthHeader {
  /** The scheme as written (`Digest`); compare case-insensitively. */
  readonly scheme: string;
  /** Parameter names lowercased; values unquoted and unescaped. */
  readonly params: ReadonlyMap<string, string>;
}

export type AuthParseResult =
  | { readonly ok: true; readonly value: AuthHeader }
  | { readonly ok: false; readonly reason: string };

const SP = 0x20;
const HTAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const EQUALS = 0x3d;

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
const TOKEN_CHAR = new Uint8Array(128);
for (const ch of "-.!%*_+`'~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN_CHAR[ch.charCodeAt(0)] = 1;
}

function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN_CHAR[code] === 1;
}

export function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    if (!isTokenChar(value.charCodeAt(i))) return false;
  }
  return true;
}

function isWsp(code: number): boolean {
  return code === SP || code === HTAB;
}

/** Length of a line fold (CRLF or bare LF followed by WSP) starting at `i`, else 0. */
function foldLength(s: string, i: number): number {
  let j = i;
  if (s.charCodeAt(j) === CR) j++;
  if (s.charCodeAt(j) !== LF) return 0;
  j++;
  return isWsp(s.charCodeAt(j)) ? j - i : 0;
}

/** Skips SWS/LWS: spaces, tabs and folded line breaks. */
function skipLws(s: string, start: number): number {
  let i = start;
  while (i < s.length) {
    if (isWsp(s.charCodeAt(i))) {
      i++;
      continue;
    }
    const fold = foldLength(s, i);
    if (fold === 0) break;
    i += fold;
  }
  return i;
}

function readToken(s: string, start: number): number {
  let i = start;
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

type Quoted = { readonly ok: true; readonly value: string; readonly end: number } | Failure;
type Failure = { readonly ok: false; readonly reason: string };

function fail(reason: string): Failure {
  return { ok: false, reason };
}

/**
 * Reads a quoted-string whose opening DQUOTE is at `start`. Runs of plain qdtext are
 * sliced out whole: only an escape or a fold makes the value differ from the text.
 */
function readQuoted(s: string, start: number): Quoted {
  let value = '';
  let run = start + 1;
  let i = run;
  while (i < s.length) {
    const code = s.charCodeAt(i);
    if (code === DQUOTE) return { ok: true, value: value + s.slice(run, i), end: i + 1 };
    if (code === BACKSLASH) {
      const next = s.charCodeAt(i + 1);
      if (Number.isNaN(next) || next === CR || next === LF) {
        return fail(`bad escape in quoted string at ${i}`);
      }
      value += s.slice(run, i) + s[i + 1];
      i += 2;
      run = i;
      continue;
    }
    if (code === CR || code === LF) {
      // A folded line inside qdtext is LWS and reads as one space (RFC 3261 §7.3.1).
      const fold = foldLength(s, i);
      if (fold === 0) return fail(`line break in quoted string at ${i}`);
      value += s.slice(run, i) + ' ';
      i = skipLws(s, i + fold);
      run = i;
      continue;
    }
    if ((code < SP && code !== HTAB) || code === 0x7f) {
      return fail(`control character in quoted string at ${i}`);
    }
    i++;
  }
  return fail('unterminated quoted string');
}

/** Parses one challenge or credentials value. Never throws. */
export function parseAuthHeader(input: string): AuthParseResult {
  if (typeof input !== 'string') return fail('header value is not a string');
  if (input.length > MAX_AUTH_HEADER_LENGTH) return fail('header value too long');
  const s = input;
  let i = skipLws(s, 0);
  const schemeEnd = readToken(s, i);
  if (schemeEnd === i) return fail('missing auth scheme');
  const scheme = s.slice(i, schemeEnd);
  i = schemeEnd;
  const params = new Map<string, string>();
  if (i < s.length && skipLws(s, i) === i) return fail('expected whitespace after auth scheme');

  for (;;) {
    i = skipLws(s, i);
    if (i >= s.length) break;
    if (s.charCodeAt(i) === COMMA) {
      i++;
      continue;
    }
    const nameEnd = readToken(s, i);
    if (nameEnd === i) return fail(`expected parameter name at ${i}`);
    const name = s.slice(i, nameEnd).toLowerCase();
    i = skipLws(s, nameEnd);
    if (s.charCodeAt(i) !== EQUALS) return fail(`expected "=" after ${name}`);
    i = skipLws(s, i + 1);

    let value: string;
    if (s.charCodeAt(i) === DQUOTE) {
      const quoted = readQuoted(s, i);
      if (!quoted.ok) return quoted;
      value = quoted.value;
      i = quoted.end;
    } else {
      const valueEnd = readToken(s, i);
      if (valueEnd === i) return fail(`expected token or quoted string for ${name}`);
      value = s.slice(i, valueEnd);
      i = valueEnd;
    }

    // RFC 7235 §2.2: each parameter name occurs at most once per challenge.
    if (params.has(name)) return fail(`duplicate parameter ${name}`);
    if (params.size >= MAX_AUTH_PARAMS) return fail('too many parameters');
    params.set(name, value);

    i = skipLws(s, i);
    if (i >= s.length) break;
    if (s.charCodeAt(i) !== COMMA) return fail(`expected "," at ${i}`);
    i++;
  }
  return { ok: true, value: { scheme, params } };
}

/**
 * Quotes a value as a quoted-string, escaping `"` and `\`. Throws RangeError on control
 * characters: CR and LF cannot appear even escaped, and the others have no business in a
 * realm or nonce.
 */
export function quoteString(value: string): string {
  let escapes = false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < SP && code !== HTAB) || code === 0x7f) {
      throw new RangeError('control character in auth-param value');
    }
    if (code === DQUOTE || code === BACKSLASH) escapes = true;
  }
  // A nonce or realm never needs an escape: quoted as it is, without a copy per character.
  if (!escapes) return `"${value}"`;
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    out += code === DQUOTE || code === BACKSLASH ? `\\${value[i]}` : value[i];
  }
  return `${out}"`;
}

function token(value: string): string {
  if (!isToken(value)) throw new RangeError(`not a token: ${JSON.stringify(value)}`);
  return value;
}

export interface DigestChallengeFields {
  readonly realm: string;
  readonly nonce: string;
  readonly algorithm?: string;
  readonly qop?: readonly string[];
  readonly opaque?: string;
  readonly stale?: boolean;
  readonly domain?: string;
}

/**
 * `Digest realm="…", nonce="…", algorithm=SHA-256, qop="auth", opaque="…", stale=true`.
 * Quoting follows RFC 7616 §3.3: realm, domain, nonce, opaque and the qop list are
 * quoted-strings; algorithm and stale are tokens. stale is only written when true.
 */
export function serializeDigestChallenge(c: DigestChallengeFields): string {
  const parts = [`realm=${quoteString(c.realm)}`];
  if (c.domain !== undefined) parts.push(`domain=${quoteString(c.domain)}`);
  parts.push(`nonce=${quoteString(c.nonce)}`);
  if (c.algorithm !== undefined) parts.push(`algorithm=${token(c.algorithm)}`);
  if (c.qop !== undefined && c.qop.length > 0) {
    parts.push(`qop=${quoteString(c.qop.map(token).join(','))}`);
  }
  if (c.opaque !== undefined) parts.push(`opaque=${quoteString(c.opaque)}`);
  if (c.stale === true) parts.push('stale=true');
  return `Digest ${parts.join(', ')}`;
}

export interface DigestCredentialFields {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  readonly algorithm?: string;
  readonly cnonce?: string;
  readonly opaque?: string;
  readonly qop?: string;
  readonly nc?: string;
}

/**
 * The client side mirror, for tests and for a UAC answering a challenge. RFC 7616 §3.4:
 * algorithm, qop and nc are tokens, everything else is quoted.
 */
export function serializeDigestCredentials(c: DigestCredentialFields): string {
  const parts = [
    `username=${quoteString(c.username)}`,
    `realm=${quoteString(c.realm)}`,
    `nonce=${quoteString(c.nonce)}`,
    `uri=${quoteString(c.uri)}`,
    `response=${quoteString(c.response)}`,
  ];
  if (c.algorithm !== undefined) parts.push(`algorithm=${token(c.algorithm)}`);
  if (c.cnonce !== undefined) parts.push(`cnonce=${quoteString(c.cnonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quoteString(c.opaque)}`);
  if (c.qop !== undefined) parts.push(`qop=${token(c.qop)}`);
  if (c.nc !== undefined) parts.push(`nc=${token(c.nc)}`);
  return `Digest ${parts.join(', ')}`;
}
