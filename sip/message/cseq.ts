/**
 * CSeq (RFC 3261 §20.16): `1*DIGIT LWS Method`. The sequence number must be expressible
 * as a 32-bit unsigned integer (RFC 4475 §3.1.2.4 sends 2^65 and expects a 400).
 */
import { SipParseError } from './errors.js';
import { isDigit, isTokenChar, isWsp, skipLws, trimLws } from './lexer.js';

export interface CSeq {
  seq: number;
  method: string;
}

export const MAX_CSEQ = 2 ** 32 - 1;

export function parseCSeq(text: string): CSeq {
  const s = trimLws(text);
  let i = 0;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  if (i === 0) throw new SipParseError('CSeq without a number');
  // Leading zeros are legal ("0009"); more than 10 significant digits cannot fit.
  let first = 0;
  while (first < i - 1 && s.charCodeAt(first) === 0x30) first++;
  if (i - first > 10) throw new SipParseError('CSeq number out of range');
  const seq = Number(s.slice(first, i));
  if (seq > MAX_CSEQ) throw new SipParseError('CSeq number out of range');
  if (i >= s.length || !isWsp(s.charCodeAt(i))) throw new SipParseError('bad CSeq');
  const m = skipLws(s, i);
  let end = m;
  while (end < s.length && isTokenChar(s.charCodeAt(end))) end++;
  if (end === m || end !== s.length) throw new SipParseError('bad CSeq method');
  return { seq, method: s.slice(m) };
}

export function formatCSeq(cseq: CSeq): string {
  return `${cseq.seq} ${cseq.method}`;
}
