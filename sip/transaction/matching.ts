/**
 * Transaction keys (RFC 3261 §17.1.3, §17.2.3). Every lookup is one or two Map gets.
 *
 * Keys join their parts with spaces: branches, hosts, methods, tags, Call-IDs, CSeq
 * numbers and URIs cannot contain one, and the only free-form part (the RFC 2543 top
 * Via) comes last, so two different tuples never give the same key.
 */
import {
  BRANCH_MAGIC_COOKIE,
  callIdOf,
  cseqOf,
  formatVia,
  fromTag,
  toTag,
  topVia,
  viaBranch,
  type SipMessage,
  type SipRequest,
  type Via,
} from '../message/index.js';

/** §17.2.3: branches of RFC 3261 elements start with the magic cookie. */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.startsWith(BRANCH_MAGIC_COOKIE);
}

/** The top Via branch of a message, or undefined when there is no Via or no branch. */
export function topBranch(msg: SipMessage): string | undefined {
  return msg.headers.has('Via') ? viaBranch(topVia(msg)) : undefined;
}

/**
 * §17.1.3: a response matches the client transaction whose request had the same top
 * Via branch and the same CSeq method (a CANCEL and its INVITE share a branch).
 */
export function clientKey(branch: string, method: string): string {
  return `${branch} ${method}`;
}

/** The client key of a response, or undefined when its top Via has no branch. */
export function responseKey(msg: SipMessage): string | undefined {
  const branch = topBranch(msg);
  return branch === undefined ? undefined : clientKey(branch, cseqOf(msg).method);
}

function sentBy(via: Via): string {
  return via.port === undefined ? via.host.toLowerCase() : `${via.host.toLowerCase()}:${via.port}`;
}

/** §17.2.3: ACK belongs to the INVITE transaction; every other method to its own. */
export function serverMethod(req: SipRequest): string {
  return req.method === 'ACK' ? 'INVITE' : req.method;
}

export interface ServerKeyOptions {
  /** Method of the transaction looked for (default: serverMethod(req)). */
  method?: string;
  /** RFC 2543 only: To tag to use instead of the request's. */
  toTag?: string | undefined;
}

/**
 * §17.2.3: the server transaction key of a request.
 * - RFC 3261 (branch with the cookie): branch + sent-by of the top Via + method.
 * - RFC 2543 fallback: Request-URI, To tag, From tag, Call-ID, CSeq number, top Via,
 *   and the method. For an ACK the caller also passes the To tag of the response
 *   the transaction sent (§17.2.3; the layer looks up both candidates).
 */
export function serverKey(req: SipRequest, options: ServerKeyOptions = {}): string {
  const via = topVia(req);
  const branch = viaBranch(via);
  const method = options.method ?? serverMethod(req);
  if (isRfc3261Branch(branch)) return `${branch} ${sentBy(via)} ${method}`;
  const tag = 'toTag' in options ? options.toTag : toTag(req);
  return [
    '2543',
    method,
    req.uri,
    tag ?? '',
    fromTag(req) ?? '',
    callIdOf(req),
    cseqOf(req).seq,
    formatVia(via),
  ].join(' ');
}
