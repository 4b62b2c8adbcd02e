/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1), the value
 * shape of From, To, Contact, Route, Record-Route, Reply-To and Refer-To.
 *
 *   ( name-addr / addr-spec ) *( SEMI generic-param )
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *( token LWS ) / quoted-string
 *
 * In the addr-spec form (no `<…>`) everything after the first `;` is a header parameter,
 * not a URI parameter, and the URI may not contain `,`, `?` or `;` (RFC 3261 §20.10).
 * A token display name directly followed by `<` is accepted (RFC 4475 §3.1.1.6).
 */
import { SipParseError } from './errors.js';
import { attempt, isTokenChar, isWsp, quote, readQuoted, skipLws, trimLws } from './lexer.js';
import { formatParams, parseParams, type Params } from './params.js';
import { parseUri, type Uri } from './uri.js';

export interface NameAddr {
  /** Unquoted, unescaped display name, if any. */
  displayName?: string;
  /** The URI text between `<` and `>` (or the addr-spec), exactly as written. */
  uriText: string;
  uri: Uri;
  params: Params;
}

export function parseNameAddr(text: string): NameAddr {
  const s = trimLws(text);
  let displayName: string | undefined;
  let uriText: string;
  let rest: number;
  let i = 0;
  if (s.charCodeAt(0) === 0x22) {
    const q = readQuoted(s, 0);
    displayName = q.value;
    i = skipLws(s, q.end);
    if (s.charCodeAt(i) !== 0x3c) throw new SipParseError('display name not followed by <URI>');
  } else {
    // A token display name: tokens separated by LWS, up to '<'.
    while (i < s.length && (isTokenChar(s.charCodeAt(i)) || isWsp(s.charCodeAt(i)))) i++;
    if (s.charCodeAt(i) === 0x3c) {
      const name = trimLws(s.slice(0, i));
      if (name !== '') displayName = name;
    } else {
      i = -1;
    }
  }
  if (i >= 0) {
    const gt = s.indexOf('>', i + 1);
    if (gt < 0) throw new SipParseError('unterminated <URI>');
    uriText = s.slice(i + 1, gt);
    rest = gt + 1;
  } else {
    // addr-spec: the URI ends at the first ';' and may not contain ',' or '?'.
    let end = 0;
    while (end < s.length && s.charCodeAt(end) !== 0x3b) end++;
    uriText = trimLws(s.slice(0, end));
    for (let k = 0; k < uriText.length; k++) {
      const c = uriText.charCodeAt(k);
      if (c === 0x2c || c === 0x3f || c === 0x3c || c === 0x3e || c === 0x22) {
        throw new SipParseError('this URI needs <> around it');
      }
    }
    rest = end;
  }
  if (uriText === '') throw new SipParseError('empty URI');
  for (let k = 0; k < uriText.length; k++) {
    if (uriText.charCodeAt(k) <= 0x20) throw new SipParseError('whitespace inside a URI');
  }
  const uri = parseUri(uriText);
  let params: Params = new Map();
  const after = skipLws(s, rest);
  if (after < s.length) {
    if (s.charCodeAt(after) !== 0x3b) throw new SipParseError('junk after <URI>');
    params = parseParams(s.slice(after + 1), 'header parameter');
  }
  const out: NameAddr = { uriText, uri, params };
  if (displayName !== undefined) out.displayName = displayName;
  return out;
}

/** Like parseNameAddr, but `undefined` instead of an exception for malformed text. */
export function tryParseNameAddr(text: string): NameAddr | undefined {
  return attempt(() => parseNameAddr(text));
}

/** Formats a name-addr, always with `<…>` (safe whatever the URI holds). */
export function formatNameAddr(addr: Pick<NameAddr, 'displayName' | 'uriText' | 'params'>): string {
  const name = addr.displayName !== undefined ? `${quote(addr.displayName)} ` : '';
  return `${name}<${addr.uriText}>${formatParams(addr.params)}`;
}
