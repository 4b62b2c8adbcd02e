/**
 * Generic `;name[=value]` header parameters (RFC 3261 §25.1):
 *
 *   generic-param = token [ EQUAL gen-value ]
 *   gen-value     = token / host / quoted-string
 *
 * with LWS allowed around `;` and `=`. Names are matched case-insensitively and stored
 * lower-case; values are kept as written (a quoted value keeps its quotes, so serializing
 * gives back the same bytes). `null` marks a flag parameter without a value (`;lr`).
 * URI parameters have a different character set and live in uri.ts.
 */
import { SipParseError } from './errors.js';
import { isTokenChar, readQuoted, skipLws, unquote } from './lexer.js';

export type Params = Map<string, string | null>;

export interface ParamOptions {
  /** Skip empty parameters (`;;`, a trailing `;`) instead of rejecting them. */
  allowEmpty?: boolean;
}

/** gen-value characters besides token ones: `host` adds `:` `[` `]` (IPv6). */
function isGenValueChar(code: number): boolean {
  return isTokenChar(code) || code === 0x3a || code === 0x5b || code === 0x5d;
}

/**
 * Parses the text after the first `;` of a header's parameter list. Being called means a
 * `;` was seen, so empty text is an empty parameter (unless `allowEmpty`).
 */
export function parseParams(text: string, what = 'parameter', options: ParamOptions = {}): Params {
  const params: Params = new Map();
  let i = 0;
  for (;;) {
    i = skipLws(text, i);
    const nameStart = i;
    while (i < text.length && isTokenChar(text.charCodeAt(i))) i++;
    if (i === nameStart) {
      // An empty parameter: `;;` or a trailing `;`.
      if (!options.allowEmpty || (i < text.length && text.charCodeAt(i) !== 0x3b)) {
        throw new SipParseError(`empty or malformed ${what}`);
      }
    } else {
      const name = text.slice(nameStart, i).toLowerCase();
      i = skipLws(text, i);
      let value: string | null = null;
      if (text.charCodeAt(i) === 0x3d) {
        i = skipLws(text, i + 1);
        const valueStart = i;
        if (text.charCodeAt(i) === 0x22) {
          i = readQuoted(text, i).end;
        } else {
          while (i < text.length && isGenValueChar(text.charCodeAt(i))) i++;
        }
        if (i === valueStart) throw new SipParseError(`empty value for ${what} "${name}"`);
        value = text.slice(valueStart, i);
        i = skipLws(text, i);
      }
      params.set(name, value);
    }
    if (i >= text.length) return params;
    if (text.charCodeAt(i) !== 0x3b) {
      throw new SipParseError(`unexpected character in ${what} list`);
    }
    i++;
  }
}

/** Serializes parameters as `;a=b;c`. */
export function formatParams(params: Params): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${value}`;
  return out;
}

/** A parameter's value with any quoting removed; `undefined` when absent or a flag. */
export function paramValue(params: Params, name: string): string | undefined {
  const v = params.get(name);
  return v === null || v === undefined ? undefined : unquote(v);
}
