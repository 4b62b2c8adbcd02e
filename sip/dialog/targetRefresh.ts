/**
 * Target refresh (RFC 3261 §12.2): a re-INVITE or UPDATE (RFC 3311 §5.1), and the
 * SUBSCRIBE/NOTIFY/REFER of RFC 6665 §4.3 and RFC 3515, may change the peer's Contact.
 * The UAS takes the new remote target from the request (§12.2.2); the UAC from the 2xx
 * to its own target-refresh request (§12.2.1.2).
 */
import { cseqOf, attempt, type SipMessage } from '../message/index.js';
import { remoteTargetOf } from './create.js';
import type { Dialog } from './dialog.js';
import { dialogFailure, type DialogFailure } from './errors.js';

const TARGET_REFRESH = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

export function isTargetRefresh(method: string): boolean {
  return TARGET_REFRESH.has(method);
}

/**
 * Applies a target refresh: a request the peer sent in the dialog (call it once the
 * request is accepted), or a 2xx to ours. Messages that refresh nothing leave the
 * dialog alone. A target-refresh request needs exactly one Contact URI (400 otherwise);
 * a 2xx without Contact keeps the old target.
 */
export function refreshRemoteTarget(
  dialog: Dialog,
  message: SipMessage,
): { ok: true; changed: boolean } | DialogFailure {
  if (message.kind === 'request') {
    if (!isTargetRefresh(message.method)) return { ok: true, changed: false };
    const target = remoteTargetOf(message);
    if (target === undefined) return dialogFailure(`${message.method} needs one Contact URI`, 400);
    return update(dialog, target);
  }
  const method = attempt(() => cseqOf(message).method);
  if (message.status < 200 || message.status >= 300 || method === undefined) {
    return { ok: true, changed: false };
  }
  if (!isTargetRefresh(method)) return { ok: true, changed: false };
  const target = remoteTargetOf(message);
  return target === undefined ? { ok: true, changed: false } : update(dialog, target);
}

function update(dialog: Dialog, target: string): { ok: true; changed: boolean } {
  const changed = dialog.remoteTarget !== target;
  dialog.remoteTarget = target;
  return { ok: true, changed };
}
