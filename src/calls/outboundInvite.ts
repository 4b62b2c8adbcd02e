/**
 * The INVITE the B2BUA sends to a callee (RFC 3261 §8.1.1): a new dialog of our own,
 * so a new Call-ID and From tag, the caller's identity in From, the callee's address of
 * record in To, our Contact, Max-Forwards one less than the caller's (§16.6 step 3 —
 * the B2BUA relays the call, so a loop still runs out), and our SDP offer.
 *
 * Pure: the Via (and so the branch) is added by the caller with addVia().
 */
import { SipHeaders, createRequest, type SipRequest } from '../../sip/message/index.js';

export interface OutboundInviteInput {
  /** Request-URI: a registered contact URI, or the trunk's number URI. */
  requestUri: string;
  /** From: the caller's display name and URI, with our tag. */
  from: { uri: string; displayName?: string; tag: string };
  /** To: the callee's address of record (no tag). */
  to: { uri: string; displayName?: string };
  callId: string;
  cseq: number;
  /** Our Contact URI (`sip:callwatch@host:port`). */
  contact: string;
  maxForwards: number;
  /** The SDP offer. */
  sdp: string;
  userAgent?: string;
  /** Methods we accept in the dialog (RFC 3261 §20.5). */
  allow?: readonly string[];
}

function nameAddr(uri: string, displayName: string | undefined): string {
  const name = displayName === undefined ? '' : `"${displayName.replace(/(["\\])/g, '\\$1')}" `;
  return `${name}<${uri}>`;
}

export function buildOutboundInvite(input: OutboundInviteInput): SipRequest {
  const headers = new SipHeaders();
  headers.append('Max-Forwards', String(input.maxForwards));
  headers.append(
    'From',
    `${nameAddr(input.from.uri, input.from.displayName)};tag=${input.from.tag}`,
  );
  headers.append('To', nameAddr(input.to.uri, input.to.displayName));
  headers.append('Call-ID', input.callId);
  headers.append('CSeq', `${input.cseq} INVITE`);
  headers.append('Contact', `<${input.contact}>`);
  if (input.allow !== undefined) headers.append('Allow', input.allow.join(', '));
  if (input.userAgent !== undefined) headers.append('User-Agent', input.userAgent);
  headers.append('Content-Type', 'application/sdp');
  return createRequest('INVITE', input.requestUri, headers, Buffer.from(input.sdp, 'utf8'));
}
