/**
 * A call's decisions as a pure machine (docs/architecture.md §9.2.1), like the transaction
 * machines of sip/transaction: `step(core, event) → { core, actions }`, no I/O, no clock.
 * `Call` (call.ts) feeds it the events, performs the actions in order and arms the timers
 * (no answer, 64·T1 for an ACK) on its clock; SDP, forks and dialogs stay in the adapter.
 *
 *   proceeding ──provisional──▶ early ──answer──▶ answered ──bye / end──▶ ended
 *        └─────── cancel / rejected / no answer / end ─────────────────────▶ ended
 *
 * The rules it holds:
 * - the caller gets exactly one final response; an end before it answers with the
 *   reason's status (487 for a CANCEL, 480 for no answer, …);
 * - every 2xx we send to an INVITE is retransmitted until its ACK, matched by CSeq
 *   (RFC 3261 §13.3.1.4); none within 64·T1 ends the call ('no-ack');
 * - a BYE to the caller whose 2xx is not ACKed yet waits for that ACK or 64·T1 (§15: a
 *   UAS must not send BYE before the ACK of its 2xx); its dialog keeps routing meanwhile.
 *   At shutdown nothing waits;
 * - BYE from a side ends the call (the other side gets a BYE), but for the side whose
 *   blind transfer runs: then the call waits for the transfer's outcome;
 * - one offer/answer at a time (§14.1, RFC 3311 §5.2): an offer from a side while the
 *   other side's is relayed, or while a transfer reoffers a leg, is glare (491); a second
 *   one from the same side is premature (500 with Retry-After, §14.2);
 * - REFER only in an answered call no takeover released (else 403), one at a time and not
 *   during an offer (491);
 * - a takeover releases one side once; nothing more is relayed to it;
 * - a queue call (docs/architecture.md §9.5) answers the caller at once ('queueAnswered':
 *   its 200 is retransmitted until the ACK, the call stays early while the caller
 *   waits) and is answered when a member's leg is connected ('agentConnected'); a waiting
 *   caller who ends the call is BYEd like an answered one, since its dialog is confirmed.
 */
import type { InviteActivity } from '../../sip/dialog/index.js';
import type { Side } from './callMedia.js';
import { nextCallState, type CallState, type EndReason } from './callRecord.js';

export interface CallCore {
  readonly state: CallState;
  /** A final response went to the caller's INVITE. */
  readonly finalSent: boolean;
  /** A fork's 2xx won (the callee side has a dialog). */
  readonly answeredBy: boolean;
  /** The CSeq of our 2xx awaiting its ACK, per side. */
  readonly pending2xx: Readonly<Partial<Record<Side, number>>>;
  /** A BYE to this side waits for the ACK of our 2xx to it (RFC 3261 §15). */
  readonly byeHeld: Side | undefined;
  readonly released: Side | undefined;
  /** The side whose offer is being relayed to the other. */
  readonly offerFrom: Side | undefined;
  /** The side whose blind transfer runs. */
  readonly transferFrom: Side | undefined;
  /** A queue answered the caller before any agent did (its dialog is confirmed). */
  readonly callerConfirmed: boolean;
}

export const initialCore: CallCore = {
  state: 'proceeding',
  finalSent: false,
  answeredBy: false,
  pending2xx: {},
  byeHeld: undefined,
  released: undefined,
  offerFrom: undefined,
  transferFrom: undefined,
  callerConfirmed: false,
};

export type CoreEvent =
  /** A fork's provisional response, to be relayed to the caller. */
  | { readonly type: 'provisional' }
  /** A fork's 2xx: the first one wins. */
  | { readonly type: 'forkAnswered' }
  /** Our 200 with the answer (or our offer) went to the caller. */
  | { readonly type: 'answered'; readonly cseq: number }
  /** A queue's 200 went to the caller: it waits, answered, for an agent. */
  | { readonly type: 'queueAnswered'; readonly cseq: number }
  /** A queue member's leg is connected to the waiting caller's: the call is answered. */
  | { readonly type: 'agentConnected' }
  /** A fork failed; `allDone`: every fork has, `global`: a 6xx (§16.7 step 5). */
  | { readonly type: 'forkFailed'; readonly allDone: boolean; readonly global: boolean }
  /** A 2xx to an INVITE from `side` (a re-INVITE) was sent. */
  | { readonly type: 'sent2xx'; readonly side: Side; readonly cseq: number }
  | { readonly type: 'ack'; readonly side: Side; readonly cseq: number }
  /** 64·T1 passed without the ACK of our 2xx to `side`. */
  | { readonly type: 'ackTimeout'; readonly side: Side }
  | { readonly type: 'noAnswerTimeout' }
  /** The caller's CANCEL. */
  | { readonly type: 'cancel' }
  /** A BYE from `side`, answered 200 already. */
  | { readonly type: 'bye'; readonly side: Side }
  /** Any other end (media timeout, takeover's supervisor, shutdown, a lost connection). */
  | { readonly type: 'end'; readonly reason: EndReason; readonly hungUp?: Side }
  /** A takeover releases `side` (docs/architecture.md §4.5). */
  | { readonly type: 'release'; readonly side: Side }
  | { readonly type: 'relayStarted'; readonly side: Side }
  | { readonly type: 'relayDone' }
  | { readonly type: 'transferStarted'; readonly side: Side }
  | { readonly type: 'transferSettled' }
  /** A transfer's target took `side`'s place: a 2xx to the old party no longer matters. */
  | { readonly type: 'sideReplaced'; readonly side: Side };

export type CoreAction =
  /** Relay the provisional response to the caller; `first`: the call starts to ring. */
  | { readonly type: 'relayProvisional'; readonly first: boolean }
  /** The winning fork: cancel the no-answer timer and the other forks, route its dialog. */
  | { readonly type: 'takeWinner' }
  /** Ignore (a late 2xx: the adapter BYEs that fork). */
  | { readonly type: 'refuseWinner' }
  /** The call is answered: tell listeners. */
  | { readonly type: 'emitAnswered' }
  /** Answer the caller with the best of the forks' failures. */
  | { readonly type: 'respondBest' }
  /** Answer the caller with this final status (the call ends before an answer). */
  | { readonly type: 'respondCaller'; readonly status: number }
  | { readonly type: 'retransmit2xx'; readonly side: Side; readonly cseq: number }
  | { readonly type: 'stop2xx'; readonly side: Side }
  /** Pass the ACK on (it may carry an answer). */
  | { readonly type: 'deliverAck'; readonly side: Side }
  | { readonly type: 'cancelNoAnswer' }
  /** CANCEL every fork but the winner; BYE the winner unless it hung up (then end its dialog). */
  | { readonly type: 'endForks'; readonly byeWinner: boolean }
  /** BYE the caller: now, or once its ACK comes or 64·T1 passes (`afterAck`). */
  | { readonly type: 'byeCaller'; readonly afterAck: boolean }
  /** The held BYE may go now; the side's dialog stops routing here. */
  | { readonly type: 'sendHeldBye'; readonly side: Side }
  /** End the caller's dialog; stop routing every dialog but a held one. */
  | { readonly type: 'closeDialogs'; readonly keep: Side | undefined }
  /** Close media, record the end, tell listeners. */
  | { readonly type: 'ended'; readonly reason: EndReason; readonly answered: boolean }
  /** The transferring side hung up: the transfer goes on. */
  | { readonly type: 'transferPartyLeft' }
  /** BYE the released side (a takeover). */
  | { readonly type: 'byeReleased'; readonly side: Side };

export interface CoreStep {
  readonly core: CallCore;
  readonly actions: readonly CoreAction[];
}

/** Final status the caller gets when the call ends before any final response. */
export const UNANSWERED_STATUS: Record<EndReason, number> = {
  'caller-hangup': 487,
  'callee-hangup': 480,
  cancelled: 487,
  rejected: 480,
  'no-answer': 480,
  'media-timeout': 500,
  'media-error': 500,
  'no-ack': 500,
  'supervisor-hangup': 480, // never before an answer: takeovers need an answered call
  'server-shutdown': 503,
  'connection-lost': 480,
  'queue-timeout': 480, // never before an answer: a queue answers its callers at once
};

const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');
const none = (core: CallCore): CoreStep => ({ core, actions: [] });

export function step(core: CallCore, event: CoreEvent): CoreStep {
  const ended = core.state === 'ended';
  switch (event.type) {
    case 'provisional': {
      if (core.finalSent || ended) return none(core);
      const state = nextCallState(core.state, 'provisional') ?? core.state;
      return {
        core: { ...core, state },
        actions: [{ type: 'relayProvisional', first: core.state === 'proceeding' }],
      };
    }
    case 'forkAnswered':
      if (core.answeredBy || ended) return { core, actions: [{ type: 'refuseWinner' }] };
      return { core: { ...core, answeredBy: true }, actions: [{ type: 'takeWinner' }] };
    case 'answered': {
      if (ended) return none(core);
      const state = nextCallState(core.state, 'answer') ?? core.state;
      const answered = { ...core, state, finalSent: true };
      const sent = step(answered, { type: 'sent2xx', side: 'a', cseq: event.cseq });
      return { core: sent.core, actions: [...sent.actions, { type: 'emitAnswered' }] };
    }
    case 'queueAnswered': {
      if (ended || core.finalSent) return none(core);
      const state = nextCallState(core.state, 'provisional') ?? core.state;
      const queued = { ...core, state, finalSent: true, callerConfirmed: true };
      return step(queued, { type: 'sent2xx', side: 'a', cseq: event.cseq });
    }
    case 'agentConnected': {
      if (ended || !core.callerConfirmed || core.state === 'answered') return none(core);
      const state = nextCallState(core.state, 'answer') ?? core.state;
      return { core: { ...core, state }, actions: [{ type: 'emitAnswered' }] };
    }
    case 'forkFailed': {
      if (core.answeredBy || core.finalSent || ended) return none(core);
      if (!event.global && !event.allDone) return none(core);
      const rejected = step({ ...core, finalSent: true }, { type: 'end', reason: 'rejected' });
      return { core: rejected.core, actions: [{ type: 'respondBest' }, ...rejected.actions] };
    }
    case 'sent2xx': {
      const stop: CoreAction[] =
        core.pending2xx[event.side] === undefined ? [] : [{ type: 'stop2xx', side: event.side }];
      const pending2xx = { ...core.pending2xx };
      delete pending2xx[event.side];
      if (ended) return { core: { ...core, pending2xx }, actions: stop };
      pending2xx[event.side] = event.cseq;
      return {
        core: { ...core, pending2xx },
        actions: [...stop, { type: 'retransmit2xx', side: event.side, cseq: event.cseq }],
      };
    }
    case 'ack': {
      // A retransmitted ACK, one for an older 2xx, or one we never asked for: nothing.
      if (core.pending2xx[event.side] !== event.cseq) return none(core);
      return settle2xx(core, event.side, [
        { type: 'stop2xx', side: event.side },
        ...(ended ? [] : [{ type: 'deliverAck', side: event.side } as const]),
      ]);
    }
    case 'ackTimeout': {
      if (core.pending2xx[event.side] === undefined) return none(core);
      if (ended) return settle2xx(core, event.side, []);
      const pending2xx = { ...core.pending2xx };
      delete pending2xx[event.side];
      return step({ ...core, pending2xx }, { type: 'end', reason: 'no-ack' });
    }
    case 'noAnswerTimeout':
      return step(core, { type: 'end', reason: 'no-answer' });
    case 'cancel':
      if (core.finalSent) return none(core);
      return step(core, { type: 'end', reason: 'cancelled' });
    case 'bye':
      if (core.transferFrom === event.side && !ended) {
        return { core, actions: [{ type: 'transferPartyLeft' }] };
      }
      return step(core, {
        type: 'end',
        reason: event.side === 'a' ? 'caller-hangup' : 'callee-hangup',
        hungUp: event.side,
      });
    case 'end':
      return end(core, event.reason, event.hungUp);
    case 'release':
      if (ended || core.released !== undefined) return none(core);
      return {
        core: { ...core, released: event.side },
        actions: [{ type: 'byeReleased', side: event.side }],
      };
    case 'relayStarted':
      return none({ ...core, offerFrom: event.side });
    case 'relayDone':
      return none({ ...core, offerFrom: undefined });
    case 'transferStarted':
      return none({ ...core, transferFrom: event.side });
    case 'transferSettled':
      return none({ ...core, transferFrom: undefined });
    case 'sideReplaced': {
      if (core.pending2xx[event.side] === undefined) return none(core);
      const pending2xx = { ...core.pending2xx };
      delete pending2xx[event.side];
      return { core: { ...core, pending2xx }, actions: [{ type: 'stop2xx', side: event.side }] };
    }
  }
}

/** The ACK came (or 64·T1 passed after the end): a BYE held for it may go. */
function settle2xx(core: CallCore, side: Side, actions: CoreAction[]): CoreStep {
  const pending2xx = { ...core.pending2xx };
  delete pending2xx[side];
  const held = core.byeHeld === side;
  return {
    core: { ...core, pending2xx, byeHeld: held ? undefined : core.byeHeld },
    actions: held ? [...actions, { type: 'sendHeldBye', side }] : actions,
  };
}

/**
 * The end (idempotent). `hungUp` is the side that sent a BYE (answered 200 already): the
 * other side gets one. The caller's BYE waits for the ACK of our 2xx when one is pending.
 */
function end(core: CallCore, reason: EndReason, hungUp: Side | undefined): CoreStep {
  if (core.state === 'ended') return none(core);
  const answered = core.state === 'answered';
  const byeToA = (answered || core.callerConfirmed) && hungUp !== 'a';
  const holdByeA = byeToA && reason !== 'server-shutdown' && core.pending2xx.a !== undefined;
  const actions: CoreAction[] = [{ type: 'cancelNoAnswer' }];
  const pending2xx: Partial<Record<Side, number>> = {};
  for (const side of ['a', 'b'] as const) {
    if (core.pending2xx[side] === undefined) continue;
    if (side === 'a' && holdByeA) pending2xx.a = core.pending2xx.a;
    else actions.push({ type: 'stop2xx', side });
  }
  if (!core.finalSent) actions.push({ type: 'respondCaller', status: UNANSWERED_STATUS[reason] });
  actions.push({ type: 'endForks', byeWinner: hungUp !== 'b' });
  if (byeToA) actions.push({ type: 'byeCaller', afterAck: holdByeA });
  actions.push({ type: 'closeDialogs', keep: holdByeA ? 'a' : undefined });
  actions.push({ type: 'ended', reason, answered });
  return {
    core: {
      ...core,
      state: 'ended',
      finalSent: true,
      pending2xx,
      byeHeld: holdByeA ? 'a' : undefined,
    },
    actions,
  };
}

/** The INVITE activity an offer from `side` meets (RFC 3261 §14.2 glare check). */
export function offerActivity(core: CallCore, side: Side): InviteActivity {
  // A transfer in progress counts as our own offer pending (it reoffers one leg).
  return {
    sending: core.offerFrom === other(side) || core.transferFrom !== undefined,
    receiving: core.offerFrom === side,
  };
}

/** Whether a REFER from a side may start a transfer now (else the status to refuse it). */
export function referVerdict(core: CallCore): { ok: true } | { ok: false; status: 403 | 491 } {
  if (core.state !== 'answered' || core.released !== undefined) return { ok: false, status: 403 };
  if (core.transferFrom !== undefined || core.offerFrom !== undefined) {
    return { ok: false, status: 491 };
  }
  return { ok: true };
}
