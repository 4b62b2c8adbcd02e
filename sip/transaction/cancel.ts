/**
 * Builds the CANCEL for a pending INVITE (RFC 3261 §9.1). The CANCEL is its own
 * non-INVITE client transaction; the TU sends it with `layer.sendRequest()` to the
 * INVITE's destination, after a provisional response has arrived.
 */
import { SipHeaders, createRequest, cseqOf, type SipRequest } from '../message/index.js';

/**
 * Request-URI, Call-ID, To, From and CSeq number as in the INVITE, CSeq method CANCEL,
 * a single Via equal to the INVITE's top Via (same branch), the INVITE's Route headers,
 * and no Require or Proxy-Require (§9.1).
 */
export function buildCancel(invite: SipRequest): SipRequest {
  const headers = new SipHeaders();
  const via = invite.headers.get('Via');
  if (via !== undefined) headers.append('Via', via);
  for (const route of invite.headers.getAll('Route')) headers.append('Route', route);
  headers.append('Max-Forwards', invite.headers.get('Max-Forwards') ?? '70');
  for (const name of ['From', 'To', 'Call-ID']) {
    const value = invite.headers.get(name);
    if (value !== undefined) headers.append(name, value);
  }
  headers.append('CSeq', `${cseqOf(invite).seq} CANCEL`);
  return createRequest('CANCEL', invite.uri, headers);
}
