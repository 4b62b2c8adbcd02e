/**
 * Dialog state (RFC 3261 §12): identified by Call-ID, local tag and remote tag, always
 * from our point of view. A dialog is plain data owned by its call leg; the functions of
 * this folder read it and update the fields the RFC says change (state, sequence
 * numbers, remote target, and the route set once, when an early UAC dialog is
 * confirmed).
 */
import type { NameAddr } from '../message/index.js';

export interface DialogId {
  readonly callId: string;
  readonly localTag: string;
  /** Empty when the peer sent no tag (RFC 2543 peers, §12.1.1, §12.1.2). */
  readonly remoteTag: string;
}

export type DialogState = 'early' | 'confirmed' | 'terminated';

/** One end's address of record: the URI of From or To, with its display name. */
export interface DialogParty {
  uri: string;
  displayName?: string;
}

export interface Dialog {
  readonly id: DialogId;
  /** Whether we sent (uac) or received (uas) the request that created the dialog. */
  readonly role: 'uac' | 'uas';
  state: DialogState;
  readonly local: DialogParty;
  readonly remote: DialogParty;
  /** CSeq of our last request; undefined until the UAS side sends one (§12.1.1). */
  localSeq: number | undefined;
  /** CSeq of the peer's last request; undefined until the UAC side gets one (§12.1.2). */
  remoteSeq: number | undefined;
  /** Route headers for our requests, in the order they are sent (§12.1.1, §12.1.2). */
  routeSet: NameAddr[];
  /** The peer's Contact URI: the Request-URI of our requests (§12.2.1.1). */
  remoteTarget: string;
  /** Our Contact header value, sent with target-refresh requests and responses. */
  readonly localContact: string;
  /** Created over TLS for a SIPS Request-URI (§12.1.1). */
  readonly secure: boolean;
  /** We generated the Call-ID (§14.1: decides the glare retry interval). */
  readonly ownsCallId: boolean;
}

/** A Map key for a dialog id: tags are tokens and Call-IDs never hold a line feed. */
export function dialogKey(id: DialogId): string {
  return `${id.callId}\n${id.localTag}\n${id.remoteTag}`;
}

export function sameDialogId(a: DialogId, b: DialogId): boolean {
  return a.callId === b.callId && a.localTag === b.localTag && a.remoteTag === b.remoteTag;
}
