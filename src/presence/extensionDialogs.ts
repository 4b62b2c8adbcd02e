/**
 * Each extension's dialogs as the dialog event package shows them (RFC 4235 §3.7.1),
 * kept from the call layer's lifecycle: a call's caller side is an `initiator` dialog
 * from the moment the call starts (`trying`), its callee side a `recipient` one from the
 * first ringing (`early`); both go `confirmed` on the answer and `terminated` at the
 * end, which is reported once (the `changed` event) and then forgotten. A blind transfer
 * ends the transferring extension's dialog and confirms the target's.
 *
 * Pure state and typed events: no timers, no SIP. `src/presence/wire.ts` feeds it the
 * call service's events.
 */
import { TypedEmitter } from '../../sip/util/typedEmitter.js';
import type { CallRecord, EndReason } from '../calls/callRecord.js';
import type { DialogInfoState, DialogView, Participant, TerminationEvent } from './dialogInfo.js';

export type Side = 'a' | 'b';

/** The phone's own dialog with us, when known: its ids as the phone sees them. */
export interface PhoneDialogIds {
  readonly callId: string;
  /** The phone's tag. */
  readonly localTag: string;
  /** Ours, toward the phone. */
  readonly remoteTag: string;
}

export interface ExtensionDialogsOptions {
  /** `sip:<number>@<domain>` for extensions and for numbers of the other party. */
  uriOf(number: string): string;
  /** An extension's display name, when configured. */
  displayNameOf(number: string): string | undefined;
  /** The phone-side dialog ids of a call's side, when the call layer knows them. */
  phoneDialog?(callId: string, side: Side): PhoneDialogIds | undefined;
}

export type ExtensionDialogsEvents = {
  /** `extension`'s dialog changed; a terminated view is the last one of that dialog. */
  changed: [extension: string, view: DialogView];
};

interface CallEntry {
  record: CallRecord;
  parties: Partial<Record<Side, string>>;
  /** The current view per side (absent: not shown yet, e.g. a callee not ringing). */
  views: Partial<Record<Side, DialogView>>;
}

const OTHER: Record<Side, Side> = { a: 'b', b: 'a' };

export class ExtensionDialogs extends TypedEmitter<ExtensionDialogsEvents> {
  private readonly calls = new Map<string, CallEntry>();

  constructor(
    private readonly opts: ExtensionDialogsOptions,
    onListenerError?: (err: unknown, event: string) => void,
  ) {
    super(onListenerError);
  }

  /** The live dialogs of `extension` (not terminated), oldest call first. */
  dialogsOf(extension: string): DialogView[] {
    const out: DialogView[] = [];
    for (const entry of this.calls.values()) {
      for (const side of ['a', 'b'] as const) {
        const view = entry.views[side];
        if (view !== undefined && entry.parties[side] === extension) out.push(view);
      }
    }
    return out;
  }

  /** A call started; `parties`: the extension on each side, when that side is one. */
  started(record: CallRecord, parties: Partial<Record<Side, string>>): void {
    const entry: CallEntry = { record, parties: { ...parties }, views: {} };
    this.calls.set(record.id, entry);
    this.show(entry, 'a', 'trying');
  }

  /** The callee's phone rings (a 1xx with a To tag, or early media). */
  early(record: CallRecord): void {
    const entry = this.calls.get(record.id);
    if (entry === undefined) return;
    this.show(entry, 'a', 'early');
    this.show(entry, 'b', 'early');
  }

  answered(record: CallRecord): void {
    const entry = this.calls.get(record.id);
    if (entry === undefined) return;
    this.show(entry, 'a', 'confirmed');
    this.show(entry, 'b', 'confirmed');
  }

  ended(record: CallRecord): void {
    const entry = this.calls.get(record.id);
    if (entry === undefined) return;
    this.calls.delete(record.id);
    for (const side of ['a', 'b'] as const) {
      const view = entry.views[side];
      const ext = entry.parties[side];
      if (view === undefined || ext === undefined) continue;
      const event = terminationEvent(record.endReason, side, record.answeredAt !== undefined);
      this.emit('changed', ext, {
        ...view,
        state: 'terminated',
        ...(event !== undefined ? { event } : {}),
      });
    }
  }

  /** `side` transferred the call away: its extension went from `from` to `to`. */
  transferred(callId: string, side: Side, from: string | undefined, to: string | undefined): void {
    const entry = this.calls.get(callId);
    if (entry === undefined) return;
    const old = entry.views[side];
    if (old !== undefined && from !== undefined) {
      this.emit('changed', from, { ...old, state: 'terminated', event: 'replaced' });
    }
    delete entry.views[side];
    if (to === undefined) delete entry.parties[side];
    else entry.parties[side] = to;
    this.show(entry, side, 'confirmed', `-${to ?? 'x'}`);
    // The other party now talks to someone else.
    const otherView = entry.views[OTHER[side]];
    if (otherView !== undefined) this.show(entry, OTHER[side], otherView.state);
  }

  /** Drops every call (the presence service closes). */
  clear(): void {
    this.calls.clear();
  }

  private show(entry: CallEntry, side: Side, state: DialogInfoState, idSuffix = ''): void {
    const ext = entry.parties[side];
    if (ext === undefined) return;
    const previous = entry.views[side];
    const view = this.view(
      entry,
      side,
      ext,
      state,
      previous?.id ?? `${entry.record.id}-${side}${idSuffix}`,
    );
    if (previous !== undefined && sameView(previous, view)) return;
    entry.views[side] = view;
    this.emit('changed', ext, view);
  }

  private view(
    entry: CallEntry,
    side: Side,
    ext: string,
    state: DialogInfoState,
    id: string,
  ): DialogView {
    const { record } = entry;
    const otherExt = entry.parties[OTHER[side]];
    const otherNumber = otherExt ?? (side === 'a' ? record.callee : record.caller);
    const otherName =
      otherExt !== undefined
        ? this.opts.displayNameOf(otherExt)
        : side === 'b'
          ? record.callerName
          : undefined;
    const ids = this.opts.phoneDialog?.(record.id, side);
    return {
      id,
      ...(ids !== undefined
        ? { callId: ids.callId, localTag: ids.localTag, remoteTag: ids.remoteTag }
        : side === 'a'
          ? { callId: record.id }
          : {}),
      direction: side === 'a' ? 'initiator' : 'recipient',
      state,
      local: participant(this.opts.uriOf(ext), this.opts.displayNameOf(ext)),
      remote: participant(this.opts.uriOf(otherNumber), otherName),
    };
  }
}

function participant(uri: string, display: string | undefined): Participant {
  return display === undefined ? { uri } : { uri, display };
}

function sameView(a: DialogView, b: DialogView): boolean {
  return (
    a.state === b.state &&
    a.callId === b.callId &&
    a.localTag === b.localTag &&
    a.remoteTag === b.remoteTag &&
    a.remote.uri === b.remote.uri &&
    a.remote.display === b.remote.display
  );
}

/** RFC 4235 §4.1.6.1: why the dialog ended, from the call's end reason and the side. */
function terminationEvent(
  reason: EndReason | undefined,
  side: Side,
  wasAnswered: boolean,
): TerminationEvent | undefined {
  switch (reason) {
    case 'caller-hangup':
      return wasAnswered || side === 'a' ? byeFrom('a', side) : 'cancelled';
    case 'callee-hangup':
    case 'supervisor-hangup':
      return byeFrom('b', side);
    case 'cancelled':
      return 'cancelled';
    case 'rejected':
      return 'rejected';
    case 'no-answer':
      return 'timeout';
    // connection-lost: a browser's WebSocket closed (RFC 7118), no BYE was exchanged.
    case 'media-timeout':
    case 'media-error':
    case 'no-ack':
    case 'connection-lost':
      return 'error';
    case 'server-shutdown':
    case 'queue-timeout':
      return 'remote-bye';
    case undefined:
      return undefined;
  }
  // Every end reason has its event above: a new reason fails to compile here.
  const unmapped: never = reason;
  return unmapped;
}

function byeFrom(by: Side, side: Side): TerminationEvent {
  return by === side ? 'local-bye' : 'remote-bye';
}
