/**
 * The dialogs of a user agent, found in O(1) by id (RFC 3261 §12.2.2: a request with a
 * To tag matching no dialog gets 481). Early dialogs are in it as soon as they exist, so
 * PRACK/UPDATE within an early dialog match too. A second index groups the dialogs of
 * one INVITE (same Call-ID and local tag): the forks of §13.2.2.4, to find a fork's
 * siblings and to end the early ones when the INVITE completes.
 */
import type { SipRequest, SipResponse } from '../message/index.js';
import { dialogKey, type Dialog, type DialogId } from './dialog.js';
import { dialogIdOfIncoming, dialogIdOfResponse } from './matching.js';

function inviteKey(callId: string, localTag: string): string {
  return `${callId}\n${localTag}`;
}

export class DialogRegistry {
  private readonly byId = new Map<string, Dialog>();
  private readonly byInvite = new Map<string, Set<Dialog>>();

  get size(): number {
    return this.byId.size;
  }

  /** Adds a dialog; false (and nothing changes) when one with that id exists. */
  add(dialog: Dialog): boolean {
    const key = dialogKey(dialog.id);
    if (this.byId.has(key)) return false;
    this.byId.set(key, dialog);
    const group = inviteKey(dialog.id.callId, dialog.id.localTag);
    let set = this.byInvite.get(group);
    if (set === undefined) {
      set = new Set();
      this.byInvite.set(group, set);
    }
    set.add(dialog);
    return true;
  }

  get(id: DialogId): Dialog | undefined {
    return this.byId.get(dialogKey(id));
  }

  /** The dialog a request we received is in (undefined: not in a dialog, or unknown → 481). */
  findForRequest(request: SipRequest): Dialog | undefined {
    const id = dialogIdOfIncoming(request);
    return id === undefined ? undefined : this.get(id);
  }

  /** The dialog a response to our request belongs to (undefined: none yet, maybe a new fork). */
  findForResponse(response: SipResponse): Dialog | undefined {
    const id = dialogIdOfResponse(response);
    return id === undefined ? undefined : this.get(id);
  }

  /** Every dialog created by the INVITE with this Call-ID and our tag (the forks). */
  forksOf(callId: string, localTag: string): Dialog[] {
    return [...(this.byInvite.get(inviteKey(callId, localTag)) ?? [])];
  }

  /** Removes a dialog; false when it was not there. */
  remove(dialog: Dialog): boolean {
    const key = dialogKey(dialog.id);
    if (this.byId.get(key) !== dialog) return false;
    this.byId.delete(key);
    const group = inviteKey(dialog.id.callId, dialog.id.localTag);
    const set = this.byInvite.get(group);
    set?.delete(dialog);
    if (set?.size === 0) this.byInvite.delete(group);
    return true;
  }

  values(): IterableIterator<Dialog> {
    return this.byId.values();
  }
}
