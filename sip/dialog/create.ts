/**
 * Creating dialogs (RFC 3261 §12.1) and confirming early ones (§13.2.2.4).
 *
 * A UAS creates its dialog from the INVITE it answers with a 101–299 carrying a To tag;
 * a UAC creates one from each such response, so the forks of one INVITE (responses with
 * different To tags) make different dialogs (§12.1.2, §13.2.2.4).
 */
import {
  attempt,
  callIdOf,
  contactsOf,
  cseqOf,
  fromOf,
  parseUri,
  toOf,
  type NameAddr,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../message/index.js';
import type { Dialog, DialogParty } from './dialog.js';
import { dialogFailure, type DialogFailure } from './errors.js';
import { parseRouteSet } from './routeSet.js';

export type DialogResult = { ok: true; dialog: Dialog } | DialogFailure;

export interface UasDialogOptions {
  /** The To tag we put in our responses. */
  localTag: string;
  /** Our Contact header value (`<sip:callwatch@203.0.113.5:5060>`). */
  localContact: string;
  /** The INVITE arrived over TLS (with a SIPS Request-URI this makes the dialog secure). */
  overTls?: boolean;
  /** 'early' when answering with a 1xx (default), 'confirmed' with a 2xx. */
  state?: 'early' | 'confirmed';
}

/** §12.1.1: the UAS side of the dialog an INVITE creates. */
export function dialogFromUasRequest(invite: SipRequest, options: UasDialogOptions): DialogResult {
  const heads = readHeads(invite);
  if (heads === undefined) return dialogFailure('unreadable dialog headers', 400);
  if (heads.to.params.get('tag') != null) {
    return dialogFailure('the request is already inside a dialog', 481);
  }
  const target = remoteTargetOf(invite);
  if (target === undefined) return dialogFailure('the INVITE needs one Contact URI', 400);
  // §12.1.1: the route set is the Record-Route list in order.
  const routeSet = parseRouteSet(invite.headers.getAll('Record-Route'));
  if (routeSet === undefined) return dialogFailure('malformed Record-Route', 400);
  return {
    ok: true,
    dialog: {
      id: {
        callId: heads.callId,
        localTag: options.localTag,
        remoteTag: heads.from.params.get('tag') ?? '',
      },
      role: 'uas',
      state: options.state ?? 'early',
      local: party(heads.to),
      remote: party(heads.from),
      localSeq: undefined,
      remoteSeq: heads.seq,
      routeSet,
      remoteTarget: target,
      localContact: options.localContact,
      secure: options.overTls === true && isSips(invite.uri),
      ownsCallId: false,
    },
  };
}

export interface UacDialogOptions {
  /** The INVITE went over TLS. */
  overTls?: boolean;
}

/**
 * §12.1.2: the UAC side, from a 101–299 response to our INVITE. A 1xx needs a To tag
 * (else there is no early dialog); a 2xx without one comes from an RFC 2543 peer and
 * gets an empty remote tag. Without a Contact, the INVITE's Request-URI stays the target.
 */
export function dialogFromUacResponse(
  invite: SipRequest,
  response: SipResponse,
  options: UacDialogOptions = {},
): DialogResult {
  if (response.status <= 100 || response.status >= 300) {
    return dialogFailure(`a ${response.status} creates no dialog`);
  }
  const request = readHeads(invite);
  const heads = readHeads(response);
  if (request === undefined || heads === undefined) {
    return dialogFailure('unreadable dialog headers');
  }
  const localTag = request.from.params.get('tag');
  if (localTag == null) return dialogFailure('our INVITE has no From tag');
  if (heads.callId !== request.callId || heads.from.params.get('tag') !== localTag) {
    return dialogFailure('the response is not for this INVITE');
  }
  const remoteTag = heads.to.params.get('tag');
  if (remoteTag == null && response.status < 200) {
    return dialogFailure('a provisional response without To tag creates no dialog');
  }
  const localContact = invite.headers.get('Contact');
  if (localContact === undefined) return dialogFailure('our INVITE has no Contact');
  const routeSet = parseRouteSet(response.headers.getAll('Record-Route'));
  if (routeSet === undefined) return dialogFailure('malformed Record-Route');
  const dialog: Dialog = {
    id: { callId: request.callId, localTag, remoteTag: remoteTag ?? '' },
    role: 'uac',
    state: response.status < 200 ? 'early' : 'confirmed',
    local: party(request.from),
    remote: party(heads.to),
    localSeq: request.seq,
    remoteSeq: undefined,
    // §12.1.2: the Record-Route list in reverse order.
    routeSet: routeSet.reverse(),
    remoteTarget: remoteTargetOf(response) ?? invite.uri,
    localContact,
    secure: options.overTls === true && isSips(invite.uri),
    ownsCallId: true,
  };
  return { ok: true, dialog };
}

/**
 * An early dialog becomes confirmed (§13.2.2.4, §12.1). On the UAC side pass the 2xx:
 * the route set is recomputed from its Record-Route and the remote target from its
 * Contact. The UAS side confirms when it sends its 2xx; nothing else changes.
 */
export function confirmDialog(
  dialog: Dialog,
  response?: SipResponse,
): { ok: true } | DialogFailure {
  if (dialog.state === 'terminated') return dialogFailure('the dialog has terminated');
  if (dialog.role === 'uac' && response !== undefined) {
    if (response.status < 200 || response.status >= 300) {
      return dialogFailure(`a ${response.status} does not confirm a dialog`);
    }
    const routeSet = parseRouteSet(response.headers.getAll('Record-Route'));
    if (routeSet === undefined) return dialogFailure('malformed Record-Route');
    dialog.routeSet = routeSet.reverse();
    dialog.remoteTarget = remoteTargetOf(response) ?? dialog.remoteTarget;
  }
  dialog.state = 'confirmed';
  return { ok: true };
}

/** Marks a dialog ended (BYE, final non-2xx on an early dialog, timeout). */
export function terminateDialog(dialog: Dialog): void {
  dialog.state = 'terminated';
}

interface Heads {
  callId: string;
  from: NameAddr;
  to: NameAddr;
  seq: number;
}

/** The dialog headers; parseMessage validated them, so undefined means they were edited. */
function readHeads(message: SipMessage): Heads | undefined {
  return attempt(() => ({
    callId: callIdOf(message),
    from: fromOf(message),
    to: toOf(message),
    seq: cseqOf(message).seq,
  }));
}

/** The single Contact URI of a dialog-creating or target-refresh message. */
export function remoteTargetOf(message: SipMessage): string | undefined {
  const contacts = attempt(() => contactsOf(message));
  if (contacts === undefined || contacts.length !== 1) return undefined;
  const [contact] = contacts;
  return contact === undefined || contact === '*' ? undefined : contact.uriText;
}

function party(addr: NameAddr): DialogParty {
  return addr.displayName === undefined
    ? { uri: addr.uriText }
    : { uri: addr.uriText, displayName: addr.displayName };
}

function isSips(uriText: string): boolean {
  return attempt(() => parseUri(uriText))?.scheme === 'sips';
}
