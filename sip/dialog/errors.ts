/**
 * Dialog-layer failures. A peer's message that cannot be used is a returned
 * `DialogFailure` (with the status the RFC asks for, when it was a request); misuse by
 * our own code is a thrown `DialogError` with a stable code.
 */

export interface DialogFailure {
  ok: false;
  reason: string;
  /** The response to send when the message was a request: 400, 481 or 500. */
  status?: 400 | 481 | 500;
}

export function dialogFailure(reason: string, status?: 400 | 481 | 500): DialogFailure {
  return status === undefined ? { ok: false, reason } : { ok: false, reason, status };
}

export type DialogErrorCode =
  /** A request was built on a terminated dialog. */
  | 'ERR_DIALOG_TERMINATED'
  /** ACK and CANCEL have their own builders (createAck, buildCancel). */
  | 'ERR_METHOD_NOT_IN_DIALOG'
  /** The local CSeq would pass 2^32 - 1 (RFC 3261 §8.1.1.5). */
  | 'ERR_CSEQ_EXHAUSTED';

export class DialogError extends Error {
  constructor(
    readonly code: DialogErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DialogError';
  }
}
