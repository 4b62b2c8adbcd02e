/**
 * Where requests inside a dialog go when the dialog is not one of a call's two sides: a
 * monitoring session's dialog, or the old dialog of a party that transferred the call away
 * (until its BYE is done). CallService routes such dialogs by key (docs/architecture.md
 * §9.2.1); transfer.ts and monitoring reach that routing through this interface only.
 */
import type { SipRequest } from '../../sip/message/index.js';
import type { IncomingRequest } from '../../sip/stack.js';

/** Requests and ACKs of a dialog another service owns (a monitoring session). */
export interface DialogHandler {
  onRequest(incoming: IncomingRequest): void;
  onAck(request: SipRequest): void;
}

export interface DialogRoutes {
  /** Routes a dialog's requests to `handler` instead of answering them 481. */
  registerDialog(key: string, handler: DialogHandler): void;
  unregisterDialog(key: string): void;
}
