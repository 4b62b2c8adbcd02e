/**
 * Typed views of the headers every layer needs. Each parses on demand and throws
 * SipParseError on malformed input; parseMessage has already validated Via, CSeq,
 * Call-ID, From, To, Max-Forwards, Contact, Content-Type and the Request-URI of every
 * message it accepted, so for parsed messages these only throw if a header was edited.
 *
 * For a request parseMessage refused but attached (so it can be answered), only
 * `topVia` is guaranteed to work.
 */
import { parseCSeq, type CSeq } from './cseq.js';
import { SipParseError } from './errors.js';
import { isDigits, trimLws } from './lexer.js';
import { parseMediaType, type MediaType } from './mediaType.js';
import type { SipMessage, SipRequest } from './message.js';
import { parseNameAddr, type NameAddr } from './nameAddr.js';
import { parseUri, type Uri } from './uri.js';
import { parseVia, type Via } from './via.js';

function required(msg: SipMessage, name: string): string {
  const value = msg.headers.get(name);
  if (value === undefined) throw new SipParseError(`missing ${name}`);
  return value;
}

/** The lenient Via parser, the memo key every Via reader shares (see SipHeaders). */
export const parseViaLenient = (text: string): Via => parseVia(text);

export function topVia(msg: SipMessage): Via {
  return msg.headers.parseCached(required(msg, 'Via'), parseViaLenient);
}

export function allVias(msg: SipMessage): Via[] {
  return msg.headers.getAll('Via').map((v) => parseVia(v));
}

export function cseqOf(msg: SipMessage): CSeq {
  return msg.headers.parseCached(required(msg, 'CSeq'), parseCSeq);
}

export function callIdOf(msg: SipMessage): string {
  return required(msg, 'Call-ID');
}

export function fromOf(msg: SipMessage): NameAddr {
  return msg.headers.parseCached(required(msg, 'From'), parseNameAddr);
}

export function toOf(msg: SipMessage): NameAddr {
  return msg.headers.parseCached(required(msg, 'To'), parseNameAddr);
}

export function fromTag(msg: SipMessage): string | undefined {
  return fromOf(msg).params.get('tag') ?? undefined;
}

export function toTag(msg: SipMessage): string | undefined {
  return toOf(msg).params.get('tag') ?? undefined;
}

/** The parsed Request-URI. */
export function requestUriOf(req: SipRequest): Uri {
  return req.headers.parseCached(req.uri, parseUri);
}

/** A Contact value: a name-addr, or `*` (RFC 3261 §10.2.2, REGISTER only). */
export type ContactValue = NameAddr | '*';

/** Every Contact value in order (list elements already split by the parser). */
export function contactsOf(msg: SipMessage): ContactValue[] {
  return msg.headers
    .getAll('Contact')
    .map((c) => (trimLws(c) === '*' ? '*' : msg.headers.parseCached(c, parseNameAddr)));
}

/** The parsed Content-Type, or undefined when absent. */
export function contentTypeOf(msg: SipMessage): MediaType | undefined {
  const value = msg.headers.get('Content-Type');
  return value === undefined ? undefined : parseMediaType(value);
}

/** Max-Forwards as a number, or undefined when absent (RFC 3261 §20.22: 0–255). */
export function maxForwardsOf(msg: SipMessage): number | undefined {
  const value = msg.headers.get('Max-Forwards');
  return value === undefined ? undefined : parseMaxForwards(value);
}

/** Parses a Max-Forwards value; leading zeros are legal (RFC 4475 §3.1.1.1: "0068"). */
export function parseMaxForwards(text: string): number {
  const t = trimLws(text);
  if (!isDigits(t) || t.length > 10) throw new SipParseError('bad Max-Forwards');
  const n = Number(t);
  if (n > 255) throw new SipParseError('Max-Forwards above 255');
  return n;
}

/** The Expires header as delta-seconds, or undefined when absent. */
export function expiresOf(msg: SipMessage): number | undefined {
  const value = msg.headers.get('Expires');
  return value === undefined ? undefined : parseDeltaSeconds(value);
}

/** Parses a delta-seconds header value (Expires, Min-Expires). */
export function parseDeltaSeconds(text: string): number {
  const t = trimLws(text);
  if (!isDigits(t)) throw new SipParseError(`bad delta-seconds "${t.slice(0, 20)}"`);
  // RFC 3261 §25.1 / §20.19: values above 2^32-1 are taken as 2^32-1.
  let first = 0;
  while (first < t.length - 1 && t.charCodeAt(first) === 0x30) first++;
  if (t.length - first > 10) return 2 ** 32 - 1;
  return Math.min(Number(t.slice(first)), 2 ** 32 - 1);
}
