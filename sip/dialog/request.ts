/**
 * Requests within a dialog (RFC 3261 §12.2.1.1) and the ACK for a 2xx (§13.2.2.4).
 *
 * The Via is not part of the dialog: pass `via` to get one on top (a new branch each
 * time, through the transaction layer's addVia), or add it afterwards with addVia().
 * Send requests with TransactionLayer.sendRequest(); send the ACK straight to the
 * transport (it is not a transaction, §17.1.1.3), to nextHopUri() resolved per RFC 3263.
 */
import { SipHeaders, createRequest, formatNameAddr, type SipRequest } from '../message/index.js';
import { addVia, type SentBy } from '../transaction/via.js';
import type { Dialog, DialogParty } from './dialog.js';
import { DialogError } from './errors.js';
import { targetRequest } from './routeSet.js';
import { nextLocalSeq } from './sequence.js';
import { isTargetRefresh } from './targetRefresh.js';

export interface InDialogRequestOptions {
  /** Puts our Via (new branch) on top. */
  via?: SentBy;
  body?: Buffer | string;
  /** Content-Type of the body (`application/sdp`). */
  contentType?: string;
  /** More headers, in order: Authorization, Reason, Session-Expires, … */
  headers?: ReadonlyArray<readonly [string, string]>;
  /** Default 70 (§8.1.1.6). */
  maxForwards?: number;
}

/**
 * A new request in the dialog: Request-URI and Route from the route set (§12.2.1.1),
 * From/To with tags, the Call-ID, the next local CSeq, Max-Forwards, and our Contact for
 * target-refresh methods. Throws DialogError for ACK and CANCEL (see createAck() and
 * buildCancel()) and on a terminated dialog.
 */
export function createInDialogRequest(
  dialog: Dialog,
  method: string,
  options: InDialogRequestOptions = {},
): SipRequest {
  if (method === 'ACK' || method === 'CANCEL') {
    throw new DialogError('ERR_METHOD_NOT_IN_DIALOG', `build ${method} with its own builder`);
  }
  if (dialog.state === 'terminated') {
    throw new DialogError('ERR_DIALOG_TERMINATED', `no ${method} on a terminated dialog`);
  }
  const seq = nextLocalSeq(dialog);
  return build(dialog, method, seq, isTargetRefresh(method), options);
}

/**
 * The ACK for a 2xx to an INVITE (§13.2.2.4): built like any in-dialog request, with
 * the INVITE's CSeq number and method ACK, the same route set, a new branch; it does
 * not use up a CSeq. Pass the INVITE's credentials in `headers`, and the answer in
 * `body` when the 2xx carried the offer. Works in any state: a 2xx is ACKed even when
 * the dialog is about to be ended with a BYE (§13.2.2.4). Keep it: a retransmitted 2xx
 * gets the same ACK again.
 */
export function createAck(
  dialog: Dialog,
  inviteCSeq: number,
  options: InDialogRequestOptions = {},
): SipRequest {
  return build(dialog, 'ACK', inviteCSeq, false, options);
}

/**
 * Where a request of the dialog goes first (§8.1.2): the first route, else the
 * Request-URI. Resolve it to an address with RFC 3263.
 */
export function nextHopUri(dialog: Dialog): string {
  const first = dialog.routeSet[0];
  return first === undefined ? targetRequest([], dialog.remoteTarget).requestUri : first.uriText;
}

function build(
  dialog: Dialog,
  method: string,
  seq: number,
  withContact: boolean,
  options: InDialogRequestOptions,
): SipRequest {
  const { requestUri, routes } = targetRequest(dialog.routeSet, dialog.remoteTarget);
  const request = createRequest(method, requestUri, new SipHeaders());
  // The Via goes first (RFC 3261 §7.3.1 recommends it above the other headers).
  if (options.via !== undefined) addVia(request, options.via);
  const headers = request.headers;
  for (const route of routes) headers.append('Route', route);
  headers.append('Max-Forwards', String(options.maxForwards ?? 70));
  headers.append('From', partyHeader(dialog.local, dialog.id.localTag));
  headers.append('To', partyHeader(dialog.remote, dialog.id.remoteTag));
  headers.append('Call-ID', dialog.id.callId);
  headers.append('CSeq', `${seq} ${method}`);
  if (withContact) headers.append('Contact', dialog.localContact);
  for (const [name, value] of options.headers ?? []) headers.append(name, value);
  if (options.body !== undefined) {
    const body = options.body;
    request.body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (options.contentType !== undefined) headers.append('Content-Type', options.contentType);
  }
  return request;
}

/** `"Name" <uri>;tag=x`; no tag when the peer gave none (RFC 2543, §12.2.1.1). */
function partyHeader(party: DialogParty, tag: string): string {
  const params = new Map<string, string | null>();
  if (tag !== '') params.set('tag', tag);
  const addr = { uriText: party.uri, params };
  return formatNameAddr(
    party.displayName === undefined ? addr : { ...addr, displayName: party.displayName },
  );
}
