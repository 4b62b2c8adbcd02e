/**
 * The ACK an INVITE client transaction sends for a non-2xx final response
 * (RFC 3261 §17.1.1.3). It belongs to the INVITE transaction: same branch, so the
 * server transaction matches it (§17.2.3).
 */
import {
  SipHeaders,
  createRequest,
  cseqOf,
  type SipRequest,
  type SipResponse,
} from '../message/index.js';

export function buildAckForFailure(invite: SipRequest, response: SipResponse): SipRequest {
  const headers = new SipHeaders();
  // "The ACK MUST contain a single Via header field, equal to the top Via of the original request."
  const via = invite.headers.get('Via');
  if (via !== undefined) headers.append('Via', via);
  // Route headers of the original request (§17.1.1.3), in order.
  for (const route of invite.headers.getAll('Route')) headers.append('Route', route);
  headers.append('Max-Forwards', invite.headers.get('Max-Forwards') ?? '70');
  for (const name of ['From', 'Call-ID']) {
    const value = invite.headers.get(name);
    if (value !== undefined) headers.append(name, value);
  }
  // "The To header field in the ACK MUST equal the To header field in the response."
  const to = response.headers.get('To') ?? invite.headers.get('To');
  if (to !== undefined) headers.append('To', to);
  // Same CSeq number, method ACK.
  headers.append('CSeq', `${cseqOf(invite).seq} ACK`);
  return createRequest('ACK', invite.uri, headers);
}
