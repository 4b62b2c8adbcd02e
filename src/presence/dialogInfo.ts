/**
 * The `application/dialog-info+xml` document of the dialog event package (RFC 4235 §4),
 * built as text. Pure.
 *
 *   <dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="3" state="full"
 *                entity="sip:1002@example.com">
 *     <dialog id="…" call-id="…" local-tag="…" remote-tag="…" direction="recipient">
 *       <state>early</state>
 *       <local><identity display="Ext 1002">sip:1002@…</identity><target uri="…"/></local>
 *       <remote><identity display="Ext 1001">sip:1001@…</identity><target uri="…"/></remote>
 *     </dialog>
 *   </dialog-info>
 *
 * The order of a dialog's children is the schema's sequence (RFC 4235 §4.1.6: state,
 * then local, then remote; the optional duration, replaces, referred-by and route-set,
 * which we never send, sit between). Values are escaped for XML text and attributes.
 * The document is small and fixed in shape, so a string builder with escaping is all it
 * takes; fast-xml-parser checks the result in the tests.
 */

/** RFC 4235 §3.7.1 states, as the dialog's state element says them. */
export type DialogInfoState = 'trying' | 'proceeding' | 'early' | 'confirmed' | 'terminated';

/** RFC 4235 §4.1.6.1 `event` of a terminated state. */
export type TerminationEvent =
  'cancelled' | 'rejected' | 'replaced' | 'local-bye' | 'remote-bye' | 'error' | 'timeout';

export interface Participant {
  /** A SIP URI (identity, and the target's uri). */
  readonly uri: string;
  readonly display?: string;
}

export interface DialogView {
  /** Unique among the entity's dialogs (RFC 4235 §4.1.1). */
  readonly id: string;
  readonly callId?: string;
  /** The watched party's tag, and the other party's (RFC 4235 §4.1.1). */
  readonly localTag?: string;
  readonly remoteTag?: string;
  /** initiator: the watched extension placed the call; recipient: it was called. */
  readonly direction: 'initiator' | 'recipient';
  readonly state: DialogInfoState;
  readonly event?: TerminationEvent;
  /** The watched extension (local) and the other party (remote). */
  readonly local: Participant;
  readonly remote: Participant;
}

export interface DialogInfoDocument {
  /** Per subscription, from 0, one more for each document sent (RFC 4235 §4.1.2). */
  readonly version: number;
  /** We always send full state (RFC 4235 §4.1: `full` or `partial`). */
  readonly state: 'full';
  /** The watched resource's URI. */
  readonly entity: string;
  readonly dialogs: readonly DialogView[];
}

export const DIALOG_INFO_CONTENT_TYPE = 'application/dialog-info+xml';
export const DIALOG_INFO_NAMESPACE = 'urn:ietf:params:xml:ns:dialog-info';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Escapes text and attribute values; drops characters XML 1.0 forbids (§2.2 Char). */
export function escapeXml(text: string): string {
  // Control characters are exactly what the first replace removes.
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
  return clean.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

function attrs(pairs: ReadonlyArray<readonly [string, string | undefined]>): string {
  return pairs
    .filter((p): p is readonly [string, string] => p[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
}

function participant(tag: 'local' | 'remote', p: Participant): string {
  return (
    `<${tag}><identity${attrs([['display', p.display]])}>${escapeXml(p.uri)}</identity>` +
    `<target${attrs([['uri', p.uri]])}/></${tag}>`
  );
}

function dialog(d: DialogView): string {
  const open = attrs([
    ['id', d.id],
    ['call-id', d.callId],
    ['local-tag', d.localTag],
    ['remote-tag', d.remoteTag],
    ['direction', d.direction],
  ]);
  const state = `<state${attrs([['event', d.state === 'terminated' ? d.event : undefined]])}>${d.state}</state>`;
  return `<dialog${open}>${state}${participant('local', d.local)}${participant('remote', d.remote)}</dialog>`;
}

export function buildDialogInfo(doc: DialogInfoDocument): string {
  const head = `<dialog-info${attrs([
    ['xmlns', DIALOG_INFO_NAMESPACE],
    ['version', String(doc.version)],
    ['state', doc.state],
    ['entity', doc.entity],
  ])}>`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    head,
    ...doc.dialogs.map(dialog),
    '</dialog-info>',
  ];
  return `${lines.join('\n')}\n`;
}
