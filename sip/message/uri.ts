/**
 * SIP, SIPS (RFC 3261 §19.1, §25.1) and tel (RFC 3966) URIs. Components are kept as
 * written (escaped), so formatting a parsed URI gives back equivalent text; `unescapeUri`
 * decodes a component for comparison (RFC 3261 §19.1.4).
 *
 *   SIP-URI  = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
 *   userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
 *   hostport = host [ ":" port ]
 *   host     = hostname / IPv4address / IPv6reference
 *
 * Any other scheme is an absoluteURI and stays opaque. The parsers are hand-written
 * character scans: linear time whatever the input.
 */
import { isUtf8 } from 'node:buffer';
import { SipParseError } from './errors.js';
import { isAlnum, isAlpha, isDigit, isDigits, isHexDigit, isUnreservedChar } from './lexer.js';
import { formatParams, type Params } from './params.js';

export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  user?: string;
  password?: string;
  /** Host as written; an IPv6 reference keeps its brackets (`[2001:db8::1]`). */
  host: string;
  port?: number;
  /** URI parameters, names lower-case, values as written (escaped). */
  params: Params;
  /** URI headers (`?name=value&…`), names and values as written (escaped). */
  headers: Array<[string, string]>;
}

export interface TelUri {
  readonly scheme: 'tel';
  /** The telephone-subscriber part before any parameter (`+1-201-555-0123`). */
  number: string;
  params: Params;
}

/** Any other absolute URI (`http:`, `mailto:`, `urn:`): kept opaque. */
export interface OtherUri {
  readonly scheme: string;
  opaque: string;
}

export type Uri = SipUri | TelUri | OtherUri;

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.scheme === 'sip' || uri.scheme === 'sips';
}

export function isTelUri(uri: Uri): uri is TelUri {
  return uri.scheme === 'tel';
}

/** A character class as a 128-entry table: unreserved plus `extra`. */
function charSet(extra: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) if (isUnreservedChar(c)) t[c] = 1;
  for (let i = 0; i < extra.length; i++) t[extra.charCodeAt(i)] = 1;
  return t;
}

/** user = 1*( unreserved / escaped / user-unreserved ) */
const USER_CHAR = charSet('&=+$,;?/');
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
const PASSWORD_CHAR = charSet('&=+$,');
/** paramchar = param-unreserved / unreserved / escaped */
const PARAM_CHAR = charSet('[]/:&+$');
/** hname / hvalue = *( hnv-unreserved / unreserved / escaped ) */
const HEADER_CHAR = charSet('[]/?:+$');
/** uric = reserved / unreserved / escaped, plus `[`, `]` and `#` (RFC 3986 URIs). */
const URIC_CHAR = charSet(';/?:@&=+$,[]#');

/**
 * True when text[start, end) consists of `allowed` characters and well-formed `%HH`
 * escapes (and is non-empty unless `allowEmpty`).
 */
function isEscapedRun(
  text: string,
  start: number,
  end: number,
  allowed: Uint8Array,
  allowEmpty = false,
): boolean {
  if (start >= end) return allowEmpty;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= end) return false;
      if (!isHexDigit(text.charCodeAt(i + 1)) || !isHexDigit(text.charCodeAt(i + 2))) return false;
      i += 2;
    } else if (c >= 128 || allowed[c] !== 1) {
      return false;
    }
  }
  return true;
}

/** Index of the first `code` in text[from, to), or -1 (never scans past `to`). */
function indexBetween(text: string, code: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === code) return i;
  return -1;
}

/** Parses any absolute URI; SIP, SIPS and tel URIs are parsed into components. */
export function parseUri(text: string): Uri {
  let colon = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3a) {
      colon = i;
      break;
    }
    const ok = i === 0 ? isAlpha(c) : isAlnum(c) || c === 0x2b || c === 0x2d || c === 0x2e;
    if (!ok) break;
  }
  if (colon <= 0) throw new SipParseError(`URI without a scheme: "${text.slice(0, 40)}"`);
  const scheme = text.slice(0, colon).toLowerCase();
  const rest = text.slice(colon + 1);
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(scheme, rest);
  if (scheme === 'tel') return parseTelUri(rest);
  if (!isEscapedRun(rest, 0, rest.length, URIC_CHAR)) {
    throw new SipParseError(`bad ${scheme.slice(0, 20)} URI`);
  }
  return { scheme, opaque: rest };
}

function parseSipUri(scheme: 'sip' | 'sips', rest: string): SipUri {
  const uri: SipUri = { scheme, host: '', params: new Map(), headers: [] };
  // '@' cannot appear unescaped in host, parameters or headers: the first one ends the
  // userinfo (whose user part may itself contain ';', '?' and '/').
  const at = rest.indexOf('@');
  let i = 0;
  if (at >= 0) {
    let colon = rest.indexOf(':');
    if (colon > at) colon = -1;
    const userEnd = colon >= 0 ? colon : at;
    if (!isEscapedRun(rest, 0, userEnd, USER_CHAR)) {
      throw new SipParseError(`bad user part in ${scheme} URI`);
    }
    uri.user = rest.slice(0, userEnd);
    if (colon >= 0) {
      if (!isEscapedRun(rest, colon + 1, at, PASSWORD_CHAR, true)) {
        throw new SipParseError('bad password in URI');
      }
      uri.password = rest.slice(colon + 1, at);
    }
    i = at + 1;
  }
  let hostEnd = i;
  while (hostEnd < rest.length) {
    const c = rest.charCodeAt(hostEnd);
    if (c === 0x3b || c === 0x3f) break;
    hostEnd++;
  }
  const { host, port } = parseHostPort(rest.slice(i, hostEnd));
  uri.host = host;
  if (port !== undefined) uri.port = port;
  let q = rest.indexOf('?', hostEnd);
  if (q < 0) q = rest.length;
  if (hostEnd < q) uri.params = parseUriParams(rest, hostEnd + 1, q);
  if (q < rest.length) uri.headers = parseUriHeaders(rest, q + 1);
  return uri;
}

/**
 * Parses `;`-separated URI parameters in text[start, end) (`start` just past the first
 * `;`): uri-parameter = pname [ "=" pvalue ], pname/pvalue = 1*paramchar.
 */
export function parseUriParams(text: string, start: number, end: number): Params {
  const params: Params = new Map();
  let i = start;
  for (;;) {
    let pieceEnd = text.indexOf(';', i);
    if (pieceEnd < 0 || pieceEnd > end) pieceEnd = end;
    const eq = indexBetween(text, 0x3d, i, pieceEnd);
    const nameEnd = eq >= 0 ? eq : pieceEnd;
    if (!isEscapedRun(text, i, nameEnd, PARAM_CHAR)) {
      throw new SipParseError('bad URI parameter name');
    }
    const name = text.slice(i, nameEnd).toLowerCase();
    if (eq >= 0) {
      if (!isEscapedRun(text, eq + 1, pieceEnd, PARAM_CHAR)) {
        throw new SipParseError(`bad value for URI parameter "${name.slice(0, 40)}"`);
      }
      params.set(name, text.slice(eq + 1, pieceEnd));
    } else {
      params.set(name, null);
    }
    if (pieceEnd >= end) return params;
    i = pieceEnd + 1;
  }
}

/** headers = "?" header *( "&" header ), header = hname "=" hvalue */
function parseUriHeaders(text: string, start: number): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = start;
  for (;;) {
    let end = text.indexOf('&', i);
    if (end < 0) end = text.length;
    const eq = indexBetween(text, 0x3d, i, end);
    if (eq < 0) throw new SipParseError('URI header without "="');
    if (
      !isEscapedRun(text, i, eq, HEADER_CHAR) ||
      !isEscapedRun(text, eq + 1, end, HEADER_CHAR, true)
    ) {
      throw new SipParseError('bad URI header');
    }
    out.push([text.slice(i, eq), text.slice(eq + 1, end)]);
    if (end >= text.length) return out;
    i = end + 1;
  }
}

/** Parses `host[:port]` (RFC 3261 hostport); IPv6 references keep their brackets. */
export function parseHostPort(text: string): { host: string; port?: number } {
  let host: string;
  let portText: string | undefined;
  if (text.charCodeAt(0) === 0x5b) {
    const close = text.indexOf(']');
    if (close < 0) throw new SipParseError('unterminated IPv6 reference');
    host = text.slice(0, close + 1);
    if (!isIPv6Address(text.slice(1, close))) throw new SipParseError('bad IPv6 reference');
    if (close + 1 < text.length) {
      if (text.charCodeAt(close + 1) !== 0x3a) {
        throw new SipParseError('junk after IPv6 reference');
      }
      portText = text.slice(close + 2);
    }
  } else {
    const colon = text.indexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    if (colon >= 0) portText = text.slice(colon + 1);
    if (!isIPv4Address(host) && !isHostname(host)) {
      throw new SipParseError(`bad host "${host.slice(0, 60)}"`);
    }
  }
  if (portText === undefined) return { host };
  return { host, port: parsePort(portText) };
}

/** A port number 1–65535 written as 1 to 5 digits. */
export function parsePort(text: string): number {
  if (text.length > 5 || !isDigits(text)) throw new SipParseError('bad port');
  const port = Number(text);
  if (port < 1 || port > 65535) throw new SipParseError(`port out of range: ${port}`);
  return port;
}

/** IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each at most 255. */
export function isIPv4Address(s: string): boolean {
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (isDigit(c)) {
      digits++;
      value = value * 10 + (c - 0x30);
      if (digits > 3) return false;
    } else if (c === 0x2e) {
      if (digits === 0 || value > 255) return false;
      parts++;
      digits = 0;
      value = 0;
    } else {
      return false;
    }
  }
  return parts === 4;
}

/**
 * hostname = *( domainlabel "." ) toplabel [ "." ], labels of alphanumerics and inner
 * hyphens; the top label starts with a letter (which is what tells it from an IPv4
 * address). Underscores are accepted inside labels: container and service names carry
 * them and nothing in SIP confuses them with a delimiter.
 */
export function isHostname(s: string): boolean {
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === 0x2e) end--;
  if (end === 0 || end > 255) return false;
  let labelStart = 0;
  for (let i = 0; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (i === labelStart) return false;
      if (s.charCodeAt(labelStart) === 0x2d || s.charCodeAt(i - 1) === 0x2d) return false;
      if (i === end && !isAlpha(s.charCodeAt(labelStart))) return false;
      labelStart = i + 1;
    } else if (!isAlnum(c) && c !== 0x2d && c !== 0x5f) {
      return false;
    }
  }
  return true;
}

/** RFC 4291 text form without brackets, optionally ending in an IPv4 address. */
export function isIPv6Address(s: string): boolean {
  if (s.length < 2 || s.length > 45) return false;
  const gap = s.indexOf('::');
  if (gap >= 0 && s.indexOf('::', gap + 1) >= 0) return false;
  let groups = 0;
  const count = (part: string, last: boolean): boolean => {
    if (part === '') return true;
    const pieces = part.split(':');
    for (let k = 0; k < pieces.length; k++) {
      const piece = pieces[k] ?? '';
      if (last && k === pieces.length - 1 && piece.includes('.')) {
        if (!isIPv4Address(piece)) return false;
        groups += 2;
      } else {
        if (piece.length === 0 || piece.length > 4) return false;
        for (let i = 0; i < piece.length; i++) if (!isHexDigit(piece.charCodeAt(i))) return false;
        groups += 1;
      }
    }
    return true;
  };
  if (gap < 0) return count(s, true) && groups === 8;
  return count(s.slice(0, gap), false) && count(s.slice(gap + 2), true) && groups <= 7;
}

/**
 * tel URI (RFC 3966): a global number (`+` and digits with visual separators) or a local
 * number (hex digits, `*`, `#`), then parameters. `phone-context` is not required on
 * local numbers: phones send `tel:1001` and nothing here depends on the context.
 */
function parseTelUri(rest: string): TelUri {
  let semi = rest.indexOf(';');
  if (semi < 0) semi = rest.length;
  const number = rest.slice(0, semi);
  let dialable = 0;
  const global = number.charCodeAt(0) === 0x2b;
  for (let i = global ? 1 : 0; i < number.length; i++) {
    const c = number.charCodeAt(i);
    const separator = c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29;
    if (global ? isDigit(c) : isHexDigit(c) || c === 0x2a || c === 0x23) dialable++;
    else if (!separator) throw new SipParseError('bad tel URI number');
  }
  if (dialable === 0) throw new SipParseError('tel URI without digits');
  const params = semi < rest.length ? parseUriParams(rest, semi + 1, rest.length) : new Map();
  return { scheme: 'tel', number, params };
}

/** Formats a parsed URI back to text. */
export function formatUri(uri: Uri): string {
  if (isSipUri(uri)) {
    let out = `${uri.scheme}:`;
    if (uri.user !== undefined) {
      out += uri.user;
      if (uri.password !== undefined) out += `:${uri.password}`;
      out += '@';
    }
    out += uri.host;
    if (uri.port !== undefined) out += `:${uri.port}`;
    out += formatParams(uri.params);
    if (uri.headers.length > 0) out += `?${uri.headers.map(([n, v]) => `${n}=${v}`).join('&')}`;
    return out;
  }
  if (isTelUri(uri)) return `tel:${uri.number}${formatParams(uri.params)}`;
  return `${uri.scheme}:${(uri as OtherUri).opaque}`;
}

/**
 * Decodes %HH escapes (RFC 3261 §19.1.4 compares URIs after unescaping). The decoded
 * octets are read as UTF-8 when they form valid UTF-8, else one character per octet.
 */
export function unescapeUri(text: string): string {
  if (!text.includes('%')) return text;
  const parts: Buffer[] = [];
  let chunk = 0;
  for (let i = 0; i + 2 < text.length; i++) {
    if (
      text.charCodeAt(i) === 0x25 &&
      isHexDigit(text.charCodeAt(i + 1)) &&
      isHexDigit(text.charCodeAt(i + 2))
    ) {
      if (i > chunk) parts.push(Buffer.from(text.slice(chunk, i), 'utf8'));
      parts.push(Buffer.of(parseInt(text.slice(i + 1, i + 3), 16)));
      i += 2;
      chunk = i + 1;
    }
  }
  if (chunk < text.length) parts.push(Buffer.from(text.slice(chunk), 'utf8'));
  const buf = Buffer.concat(parts);
  return isUtf8(buf) ? buf.toString('utf8') : buf.toString('latin1');
}

/** A host without IPv6 brackets, as sockets want it. */
export function socketHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
