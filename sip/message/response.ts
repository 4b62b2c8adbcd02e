/**
 * Builds a response to a request (RFC 3261 §8.2.6.2): every Via and the From, To,
 * Call-ID and CSeq are copied as received; the To tag is added when given and the
 * request's To has none.
 *
 * Works on requests parseMessage refused but attached for answering: headers that are
 * missing are left out, a repeated single-value header is copied once (RFC 4475 §3.3.8),
 * and a To that cannot be parsed is copied untouched, without a tag.
 */
import { SipHeaders } from './headers.js';
import { attempt } from './lexer.js';
import { parseNameAddr } from './nameAddr.js';
import { createResponse, reasonPhrase, type SipRequest, type SipResponse } from './message.js';

export interface ResponseOptions {
  reason?: string;
  /** Tag for the To header when the request's To carries none. */
  toTag?: string;
  headers?: Array<[string, string]>;
  body?: Buffer;
}

const SINGLE = ['From', 'To', 'Call-ID', 'CSeq'];

export function buildResponse(
  request: SipRequest,
  status: number,
  options: ResponseOptions = {},
): SipResponse {
  const headers = new SipHeaders();
  for (const via of request.headers.getAll('Via')) headers.append('Via', via);
  for (const name of SINGLE) {
    const value = request.headers.get(name);
    if (value !== undefined) headers.append(name, value);
  }
  if (options.toTag !== undefined && status !== 100) {
    const to = headers.get('To');
    // The request's own parse of its To, shared through its memo (every layer reads it).
    const parsed =
      to === undefined ? undefined : attempt(() => request.headers.parseCached(to, parseNameAddr));
    if (to !== undefined && parsed !== undefined && !parsed.params.has('tag')) {
      headers.replaceFirst('To', `${to};tag=${options.toTag}`);
    }
  }
  // RFC 3261 §8.2.6.1: a 100 Trying copies the Timestamp header.
  const timestamp = request.headers.get('Timestamp');
  if (status === 100 && timestamp !== undefined) headers.append('Timestamp', timestamp);
  for (const [name, value] of options.headers ?? []) headers.append(name, value);
  return createResponse(status, options.reason ?? reasonPhrase(status), headers, options.body);
}
