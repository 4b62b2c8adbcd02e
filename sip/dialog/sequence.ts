/**
 * CSeq within a dialog. Ours goes up by one for each new request (§12.2.1.1); the
 * peer's must go up too: a request at or below the last one seen is out of order and
 * answered 500 (§12.2.2). Retransmissions never get here (the transaction layer absorbs
 * them); ACK carries its INVITE's number and CANCEL is hop-by-hop, so neither counts.
 */
import { MAX_CSEQ, cseqOf, attempt, type SipRequest } from '../message/index.js';
import type { Dialog } from './dialog.js';
import { DialogError, dialogFailure, type DialogFailure } from './errors.js';

/**
 * The CSeq for our next request, and records it. An empty local sequence (the UAS side
 * before its first request) starts at 1, which §8.1.1.5 allows (any value below 2^31).
 */
export function nextLocalSeq(dialog: Dialog): number {
  const next = dialog.localSeq === undefined ? 1 : dialog.localSeq + 1;
  if (next > MAX_CSEQ) throw new DialogError('ERR_CSEQ_EXHAUSTED', 'the local CSeq is exhausted');
  dialog.localSeq = next;
  return next;
}

/** §12.2.2: checks a request from the peer and records its CSeq when it is in order. */
export function checkRemoteCSeq(dialog: Dialog, request: SipRequest): { ok: true } | DialogFailure {
  if (request.method === 'ACK' || request.method === 'CANCEL') return { ok: true };
  const seq = attempt(() => cseqOf(request).seq);
  if (seq === undefined) return dialogFailure('unreadable CSeq', 400);
  if (dialog.remoteSeq !== undefined && seq <= dialog.remoteSeq) {
    return dialogFailure(`CSeq ${seq} is not above ${dialog.remoteSeq}`, 500);
  }
  dialog.remoteSeq = seq;
  return { ok: true };
}
