/**
 * Media types (RFC 3261 §20.15 Content-Type, §20.1 Accept):
 *
 *   media-type  = m-type SLASH m-subtype *( SEMI m-parameter )
 *   media-range = ( "*\/*" / ( m-type SLASH "*" ) / ( m-type SLASH m-subtype ) )
 *                 *( SEMI generic-param )
 *
 * Type and subtype are case-insensitive and stored lower-case.
 */
import { SipParseError } from './errors.js';
import { isTokenChar, skipLws, trimLws } from './lexer.js';
import { parseParams, paramValue, type Params } from './params.js';

export interface MediaType {
  type: string;
  subtype: string;
  params: Params;
}

function parse(text: string, what: string, allowWildcard: boolean): MediaType {
  const s = trimLws(text);
  let i = 0;
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  const type = s.slice(0, i).toLowerCase();
  i = skipLws(s, i);
  if (type === '' || s.charCodeAt(i) !== 0x2f) throw new SipParseError(`bad ${what}`);
  i = skipLws(s, i + 1);
  const subStart = i;
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  const subtype = s.slice(subStart, i).toLowerCase();
  if (subtype === '') throw new SipParseError(`bad ${what}`);
  if (!allowWildcard && (type === '*' || subtype === '*')) throw new SipParseError(`bad ${what}`);
  if (type === '*' && subtype !== '*') throw new SipParseError(`bad ${what}`);
  i = skipLws(s, i);
  let params: Params = new Map();
  if (i < s.length) {
    if (s.charCodeAt(i) !== 0x3b) throw new SipParseError(`bad ${what}`);
    params = parseParams(s.slice(i + 1), `${what} parameter`);
  }
  return { type, subtype, params };
}

/** Parses a Content-Type value. */
export function parseMediaType(text: string): MediaType {
  return parse(text, 'media type', false);
}

/** Parses one Accept element (a media range, wildcards allowed). */
export function parseMediaRange(text: string): MediaType {
  return parse(text, 'media range', true);
}

/** `type/subtype` without parameters. */
export function mediaTypeName(media: Pick<MediaType, 'type' | 'subtype'>): string {
  return `${media.type}/${media.subtype}`;
}

/**
 * True when one of `ranges` accepts `type/subtype` with a q-value above 0 (RFC 3261
 * §20.1; an explicit `q=0` refuses the type even if a wildcard would allow it).
 */
export function rangesAccept(ranges: readonly MediaType[], type: string, subtype: string): boolean {
  let best = -1;
  let bestSpecificity = -1;
  for (const r of ranges) {
    const specificity =
      r.type === type && r.subtype === subtype
        ? 2
        : r.type === type && r.subtype === '*'
          ? 1
          : r.type === '*'
            ? 0
            : -1;
    if (specificity < bestSpecificity || specificity < 0) continue;
    const qText = paramValue(r.params, 'q');
    const q = qText === undefined ? 1 : Number(qText);
    bestSpecificity = specificity;
    best = Number.isFinite(q) ? q : 0;
  }
  return best > 0;
}
