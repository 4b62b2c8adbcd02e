/**
 * Lexical helpers for the RFC 3261 §25.1 productions shared by the header parsers:
 * character classes as lookup tables (no regular expressions, so no backtracking on
 * hostile input), LWS trimming, quoted strings with backslash escapes, and separators
 * that are ignored inside quotes or `<…>`.
 *
 * Every function here is linear in the length of its input.
 */
import { SipParseError } from './errors.js';

function table(chars: string, ranges: Array<[number, number]> = []): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  for (const [from, to] of ranges) for (let c = from; c <= to; c++) t[c] = 1;
  return t;
}

const ALNUM: Array<[number, number]> = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x61, 0x7a],
];

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
const TOKEN = table("-.!%*_+`'~", ALNUM);
/** unreserved = alphanum / mark (RFC 3261 §25.1). */
const UNRESERVED = table("-_.!~*'()", ALNUM);

export function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN[code] === 1;
}

/** True for a non-empty RFC 3261 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] !== 1) return false;
  }
  return true;
}

export function isUnreservedChar(code: number): boolean {
  return code < 128 && UNRESERVED[code] === 1;
}

export function isAlnum(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || isAlpha(code);
}

export function isAlpha(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

export function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

export function isHexDigit(code: number): boolean {
  return isDigit(code) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/** SP or HTAB: the only whitespace SIP knows once lines are unfolded. */
export function isWsp(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Removes SP and HTAB at both ends. Unlike String#trim this keeps every other character
 * (a value may legitimately start with U+FEFF or end with U+00A0).
 */
export function trimLws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isWsp(s.charCodeAt(start))) start++;
  while (end > start && isWsp(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Index of the first character at or after `at` that is not SP or HTAB. */
export function skipLws(s: string, at: number): number {
  while (at < s.length && isWsp(s.charCodeAt(at))) at++;
  return at;
}

/** True when every character is a digit (and there is at least one). */
export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/**
 * Splits `text` on `sep` where it is not inside a quoted string or `<…>`. Pieces are
 * LWS-trimmed; empty pieces are kept so callers can reject `a,,b`.
 */
export function splitOutside(text: string, sep: string): string[] {
  const sepCode = sep.charCodeAt(0);
  const out: string[] = [];
  let start = 0;
  let inQuotes = false;
  let angle = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inQuotes) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inQuotes = false;
    } else if (c === 0x22) inQuotes = true;
    else if (c === 0x3c) angle = true;
    else if (c === 0x3e) angle = false;
    else if (c === sepCode && !angle) {
      out.push(trimLws(text.slice(start, i)));
      start = i + 1;
    }
  }
  if (inQuotes) throw new SipParseError('unterminated quoted string');
  out.push(trimLws(text.slice(start)));
  return out;
}

/**
 * Reads a quoted string starting at `text[at] === '"'` (RFC 3261 quoted-string, with
 * quoted-pair escapes). Returns the unescaped content and the index just past the
 * closing quote.
 */
export function readQuoted(text: string, at: number): { value: string; end: number } {
  let value = '';
  let chunk = at + 1;
  for (let i = at + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) {
      if (i + 1 >= text.length) break;
      value += text.slice(chunk, i);
      chunk = i + 1;
      i++;
    } else if (c === 0x22) {
      return { value: value + text.slice(chunk, i), end: i + 1 };
    }
  }
  throw new SipParseError('unterminated quoted string');
}

/**
 * Quotes `s` as an RFC 3261 quoted-string. `"`, `\` and control characters are written
 * as quoted-pairs (qdtext admits none of them raw); CR and LF cannot be represented in a
 * quoted-string at all and become spaces.
 */
export function quote(s: string): string {
  let out = '"';
  let chunk = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) {
      out += s.slice(chunk, i) + ' ';
      chunk = i + 1;
    } else if (c === 0x22 || c === 0x5c || (c < 0x20 && c !== 0x09) || c === 0x7f) {
      out += s.slice(chunk, i) + '\\' + s[i];
      chunk = i + 1;
    }
  }
  return out + s.slice(chunk) + '"';
}

/** Removes surrounding quotes and escapes if `s` is a (complete) quoted string. */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 0x22) return s;
  const q = readQuoted(s, 0);
  return q.end === s.length ? q.value : s;
}

/**
 * Runs `parse` and maps a SipParseError to `undefined`. Any other exception is a bug
 * and propagates.
 */
export function attempt<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (err) {
    if (err instanceof SipParseError) return undefined;
    throw err;
  }
}
