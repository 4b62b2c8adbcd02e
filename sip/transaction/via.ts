/**
 * Adds the client's top Via (RFC 3261 §8.1.1.7, §18.1.1) with a fresh branch and the
 * `rport` flag (RFC 3581), so the request can start a client transaction.
 */
import type { SipRequest } from '../message/index.js';
import { newBranch } from '../ids.js';

/** Where responses should come back to: the local sent-by of the transport used. */
export interface SentBy {
  /** Transport token as in the Via: `UDP`, `TCP`, … (case-insensitive). */
  transport: string;
  host: string;
  port?: number;
}

/** Prepends the Via and returns the branch it carries. */
export function addVia(request: SipRequest, sentBy: SentBy, branch: string = newBranch()): string {
  const host =
    sentBy.host.includes(':') && !sentBy.host.startsWith('[') ? `[${sentBy.host}]` : sentBy.host;
  const port = sentBy.port !== undefined ? `:${sentBy.port}` : '';
  const value = `SIP/2.0/${sentBy.transport.toUpperCase()} ${host}${port};branch=${branch};rport`;
  request.headers.prepend('Via', value);
  return branch;
}
