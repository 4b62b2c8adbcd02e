/**
 * One call through the B2BUA (RFC 3261 §6 "back-to-back user agent", RFC 7092): the
 * caller's dialog (we are its UAS, side 'a'), one Fork per callee contact (we are their
 * UAC, side 'b'; the first 2xx wins, §13.2.2.4 / §16.7), and the anchored media.
 *
 *   proceeding ──1xx──▶ early ──2xx──▶ answered ──BYE──▶ ended
 *        └──────────── failure / CANCEL / no answer ───────▶ ended
 *
 * Offer/answer (RFC 3264) goes through relayOffer/relayAnswer: each side only ever sees
 * our address and the port of its own media leg. Each fork is offered by its contact's
 * kind (offerToBFor: WebRTC to a browser, plain RTP to a phone); the fork that answers
 * decides what leg B is (settleAnchor, docs/architecture.md §3.2.2). In-dialog requests reach the call via
 * CallService (by dialog id) and are handled in InDialog (inDialog.ts).
 *
 * Late offer (an INVITE without SDP, RFC 3261 §13.2.1): we offer to the callee
 * ourselves (ownOffer), its answer sets leg B; our 200 to the caller carries our offer
 * (the callee's codec first) and the caller's ACK the answer, which sets leg A. An ACK
 * without a usable answer ends the call (BYE both sides).
 *
 * Every 2xx we send to an INVITE (the initial one, re-INVITEs from either side) is
 * retransmitted until its ACK (Reliable2xx, §13.3.1.4); none after 64·T1 ends the call.
 *
 * end() is idempotent: it answers the caller if nothing final went yet, CANCELs or BYEs
 * the callee side, BYEs the caller when answered, cancels every timer and closes both
 * media legs.
 *
 * Blind transfer (REFER, transfer.ts): while one runs `transfer` is set; when the target
 * answers, transferCompleted() makes the target's dialog that side's (the old one is
 * dropped from the routing and returned, for the transfer to BYE) — the media leg stays.
 *
 * The call owns its state (docs/architecture.md §9.2.1): other modules read it through
 * getters and change it only through its methods (relayStarted/relayDone and
 * answerRelayed for in-dialog offers, beginTransfer/transferSettled/transferCompleted for
 * a transfer, release for a takeover). It also drops its own dialogs from the service's
 * routing when it ends ('dialogDropped').
 */
import type { Clock, TimerHandle } from '../../sip/clock.js';
import {
  type InviteActivity,
  buildDialogResponse,
  confirmDialog,
  createInDialogRequest,
  dialogKey,
  terminateDialog,
  type Dialog,
} from '../../sip/dialog/index.js';
import { attempt, cseqOf, type SipRequest, type SipResponse } from '../../sip/message/index.js';
import {
  answeredLeg,
  createLocalSdp,
  ownOffer,
  parseSdp,
  relayAnswer,
  relayOffer,
  renderLocalSdp,
  type AnchorPolicy,
  type LegMedia,
  type LocalSdp,
  type RelayedOffer,
  type SdpDescription,
  type SdpFailure,
  type SdpSession,
} from '../../sip/sdp/index.js';
import type { IncomingRequest } from '../../sip/stack.js';
import type { Endpoint } from '../../sip/transport/types.js';
import { TypedEmitter } from '../../sip/util/typedEmitter.js';
import type { Logger } from '../logging.js';
import { bestFinalResponse, type ForkFailure } from './bestResponse.js';
import type { CallMedia, Side } from './callMedia.js';
import type { AnchorKind, ContactKind } from './contactKind.js';
import {
  initialCore,
  offerActivity,
  referVerdict,
  step,
  type CallCore,
  type CoreAction,
  type CoreEvent,
} from './callCore.js';
import type { CallRecord, EndReason } from './callRecord.js';
import { callerOf, extensionOf, type Caller, type Destination } from './dialPlan.js';
import { Fork } from './fork.js';
import { Reliable2xx } from './reliable2xx.js';
import { answerOffer } from '../../sip/sdp/localAnswer.js';
import type { HoldAudio } from '../queues/holdAudio.js';
import type { SipOut } from './sipOut.js';
import { inBackground } from '../util/background.js';

export interface CallTimers {
  t1: number;
  t2: number;
  noAnswerMs: number;
}

export interface CallContext {
  out: SipOut;
  clock: Clock;
  timers: CallTimers;
  policy: AnchorPolicy;
  /** The media address written in our SDP. */
  mediaAddress: string;
  userAgent: string;
  logger: Logger;
}

/** Where one fork's INVITE goes, and what its contact is (the offer it got: offerToBFor). */
export interface ForkTarget {
  invite: SipRequest;
  destination: Endpoint;
  kind: ContactKind;
}

export type CallEvents = {
  /** A dialog of the call now exists (route its requests here). */
  dialog: [key: string, side: Side];
  /** A dialog no longer belongs to the call (transferred away): stop routing it here. */
  dialogDropped: [key: string];
  /** The first ringing (a 1xx with a To tag, or early media): proceeding → early. */
  early: [CallRecord];
  answered: [CallRecord];
  ended: [CallRecord];
  /** Who the call's parties are changed (`parties`): a transfer, a queue member's answer, a
   * takeover's release. */
  parties: [];
};

const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

/** What an event brings that the machine does not hold (messages, forks, callbacks). */
interface Io {
  provisional?: { fork: Fork; response: SipResponse };
  fork?: Fork;
  twoxx?: {
    transaction: IncomingRequest['transaction'];
    response: SipResponse;
    onAck?: ((ack: SipRequest) => void) | undefined;
  };
  ack?: SipRequest;
  onAck?: ((ack: SipRequest) => void) | undefined;
}

/** A blind transfer in progress (transfer.ts), started by `side`'s REFER. */
export interface TransferInProgress {
  readonly side: Side;
  /** `side` sent BYE meanwhile (answered 200): the call waits for the transfer's outcome. */
  partyLeft(): void;
}

/**
 * A queue call's link to its queue (docs/architecture.md §9.5): the call answers the
 * caller itself, rings members when the queue says, and asks the queue about answers.
 */
export interface QueueLink {
  /** A member's fork answered: true when the queue gives it the caller (else BYEd). */
  memberAnswered(member: string): boolean;
  /** Every fork of a member failed before an answer. */
  memberFailed(member: string): void;
}

/** Who the parties of a call are: extensions (when a side is one) and dial-plan callers. */
export interface CallParties {
  /** The extension on each side, when that side is one. */
  extensions: Partial<Record<Side, string>>;
  /** Who each side is, as the dial plan sees a caller (a transfer dials as that side). */
  callers: Record<Side, Caller>;
}

export class Call extends TypedEmitter<CallEvents> {
  /** Caller's dialog (we are UAS; after a transfer of side 'a', the target's, as UAC). */
  private _dialogA: Dialog;
  /** The winning fork, once a 2xx came. */
  private _winner: Fork | undefined;
  /** The side a takeover released (its dialog ended by our BYE). */
  /** Our SDP toward each side (RFC 3264 §8: versions go up only when it changes). */
  private readonly _local: Record<Side, LocalSdp>;
  /** The last SDP each side sent (a refresh repeats its version). */
  private readonly _remote: Partial<Record<Side, SdpSession>> = {};
  /** Where requests to the caller go (the INVITE's source: NAT, RFC 3581). */
  private _destinationA: Endpoint;
  /** Via branches of our INVITEs (loop detection; the service indexes them). */
  private readonly _branches: string[] = [];
  /** The blind transfer in progress (one at a time; transfer.ts). */
  private _transfer: TransferInProgress | undefined;
  /** Extensions (replaced as a whole when a transfer changes one) and callers per side. */
  private _extensions: Partial<Record<Side, string>>;
  private readonly callers: Record<Side, Caller>;
  /** The dialog key each side's requests are routed here by (the service's index). */
  private readonly routed = new Map<Side, string>();

  private forks: Fork[] = [];
  /** What each fork to the callee was offered: WebRTC or plain RTP (docs/architecture.md §3.2.2). */
  private readonly anchorOfFork = new Map<Fork, AnchorKind>();
  /**
   * Our offer to the callee per anchor, made once each (a callee with browser and phone
   * contacts gets both); the winning fork's becomes `relayed` and `_local.b`.
   */
  private readonly offersB = new Map<
    AnchorKind,
    { relayed: RelayedOffer | undefined; local: LocalSdp }
  >();
  private failures: ForkFailure[] = [];
  /** The caller's offer relayed to the callee; undefined for a late offer. */
  private relayed: RelayedOffer | undefined;
  /** The decisions (callCore.ts); this class performs its actions. */
  private core: CallCore = initialCore;
  /** Our 2xx responses being retransmitted until their ACK, per side (callCore's pending2xx). */
  private readonly reliable: Partial<
    Record<Side, { reliable: Reliable2xx; onAck?: (ack: SipRequest) => void }>
  > = {};
  /** Leg B's media being applied (late offer: connect once leg A has its answer). */
  private mediaB: Promise<void> | undefined;
  /** Lets the BYE held for the caller's ACK go (RFC 3261 §15). */
  private releaseHeldBye: (() => void) | undefined;
  private earlyFork: Fork | undefined;
  private noAnswerTimer: TimerHandle | undefined;
  /** A queue call: its queue, the member each fork rings, the caller's hold audio. */
  private queue: { link: QueueLink; hold: HoldAudio } | undefined;
  private readonly memberOf = new Map<Fork, string>();
  /** Queue members whose ring waits for the WebRTC candidate (ringMemberWhen). */
  private readonly pendingRings = new Map<string, object>();
  /** The Reason header (RFC 3326) of the BYE the caller gets when the call ends. */
  private byeReason: string | undefined;
  /** What the end waits for (BYEs' answers, media closed). */
  private readonly endWork: Array<Promise<void>> = [];
  private ending: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    readonly record: CallRecord,
    private readonly invite: IncomingRequest,
    dialogA: Dialog,
    relayed: RelayedOffer | undefined,
    readonly media: CallMedia,
    private readonly ctx: CallContext,
    parties: CallParties,
  ) {
    super((err, event) => ctx.logger.error({ err, event }, 'call listener failed'));
    this.log = ctx.logger;
    this._dialogA = dialogA;
    this.relayed = relayed;
    this._extensions = { ...parties.extensions };
    this.callers = { ...parties.callers };
    if (relayed !== undefined) this._remote.a = relayed.offer;
    this._destinationA = {
      protocol: invite.source.protocol,
      address: invite.source.address,
      port: invite.source.port,
    };
    const origin = () => ({
      username: 'callwatch',
      sessionId: Math.floor(Math.random() * 1e12),
      sessionVersion: 1,
    });
    this._local = {
      a: createLocalSdp(origin()),
      b: renderLocalSdp(
        createLocalSdp(origin()),
        relayed?.description ??
          ownOffer(
            {
              address: ctx.mediaAddress,
              port: media.localPort('b'),
              webrtc: media.webRtcIdentity('b', ctx.mediaAddress),
            },
            ctx.policy,
          ),
      ),
    };
    this.offersB.set(media.anchorOfB, { relayed, local: this._local.b });
    media.on('dtmf', (side, digit) => this.log.debug({ side, digit }, 'DTMF relayed'));
    media.on('timeout', (side, silentMs) => {
      this.log.info({ side, silentMs }, 'no RTP: ending the call');
      this.endLater('media-timeout');
    });
    media.on('failed', (side, reason) => {
      this.log.info({ side, reason }, 'WebRTC media failed: ending the call');
      this.endLater('media-error');
    });
  }

  /** The caller's INVITE transaction (a CANCEL matches it, §9.2). */
  /** The SIP context this call's dialogs use (its logger carries the call id). */
  get context(): CallContext {
    return this.ctx;
  }

  get inviteTransaction(): IncomingRequest['transaction'] {
    return this.invite.transaction;
  }

  get state(): CallRecord['state'] {
    return this.record.state;
  }

  get dialogA(): Dialog {
    return this._dialogA;
  }

  get destinationA(): Endpoint {
    return this._destinationA;
  }

  get winner(): Fork | undefined {
    return this._winner;
  }

  get released(): Side | undefined {
    return this.core.released;
  }

  /** Our current SDP toward each side. */
  get local(): Readonly<Record<Side, LocalSdp>> {
    return this._local;
  }

  /** The last SDP each side sent. */
  get remote(): Readonly<Partial<Record<Side, SdpSession>>> {
    return this._remote;
  }

  get offerFrom(): Side | undefined {
    return this.core.offerFrom;
  }

  get transfer(): TransferInProgress | undefined {
    return this._transfer;
  }

  get branches(): readonly string[] {
    return this._branches;
  }

  /** The extension on each side, when that side is one (a new object after a transfer). */
  get extensions(): Partial<Record<Side, string>> {
    return this._extensions;
  }

  /** The extensions that are parties of the call: each side's, unless a takeover released it. */
  get parties(): string[] {
    const parties: string[] = [];
    for (const side of ['a', 'b'] as const) {
      const extension = this._extensions[side];
      if (extension !== undefined && this.core.released !== side) parties.push(extension);
    }
    return parties;
  }

  /** Who `side` is as a caller (the dial plan resolves a transfer from it as this). */
  callerOf(side: Side): Caller {
    return this.callers[side];
  }

  /** Our INVITE with this Via branch belongs to the call (loop detection). */
  sentBranch(branch: string): void {
    this._branches.push(branch);
  }

  /** An offer from `side` is relayed to the other side: our new SDP toward it, rendered. */
  relayStarted(side: Side, description: SdpDescription): string {
    const there = other(side);
    this.feed({ type: 'relayStarted', side });
    this._local[there] = renderLocalSdp(this._local[there], description);
    return this._local[there].body as string;
  }

  /** The relayed offer got its final response (or none): offers may come again. */
  relayDone(): void {
    this.feed({ type: 'relayDone' });
  }

  /** The INVITE activity an offer from `side` meets now (RFC 3261 §14.2). */
  offerActivity(side: Side): InviteActivity {
    return offerActivity(this.core, side);
  }

  /** Whether a REFER may start a transfer now (else 403 or 491). */
  referVerdict(): { ok: true } | { ok: false; status: 403 | 491 } {
    return referVerdict(this.core);
  }

  /**
   * The other side answered `side`'s relayed offer: both sides' SDP recorded, our answer
   * to `side` rendered (its body returned).
   */
  answerRelayed(
    side: Side,
    offer: SdpSession,
    answer: SdpSession,
    description: SdpDescription,
  ): string {
    this._remote[side] = offer;
    this._remote[other(side)] = answer;
    this._local[side] = renderLocalSdp(this._local[side], description);
    return this._local[side].body as string;
  }

  /** `side` answered our offer in an ACK (an offerless re-INVITE). */
  ackAnswered(side: Side, answer: SdpSession): void {
    this._remote[side] = answer;
  }

  /** A blind transfer starts (one at a time: the REFER was refused 491 otherwise). */
  beginTransfer(transfer: TransferInProgress): void {
    if (this._transfer !== undefined) throw new Error('a transfer is already running');
    this._transfer = transfer;
    this.feed({ type: 'transferStarted', side: transfer.side });
  }

  /** The transfer is over (failed, abandoned or completed): offers and REFERs may come. */
  transferSettled(transfer: TransferInProgress): void {
    if (this._transfer !== transfer) return;
    this._transfer = undefined;
    this.feed({ type: 'transferSettled' });
  }

  /**
   * A transfer's target answered: its fork's dialog becomes `side`'s (the old one, no
   * longer routed here, is returned for the transfer to BYE), the SDP toward that side is
   * the transfer's offer and its answer, and the side's party is the target. Media: the
   * caller of this method applies the answer to the same leg.
   */
  transferCompleted(
    side: Side,
    fork: Fork,
    offer: LocalSdp,
    answer: SdpSession,
    destination: Destination,
  ): { old: { dialog: Dialog; destination: Endpoint }; from?: string; to?: string } {
    const old = this.replaceSide(side, fork);
    this._remote[side] = answer;
    this._local[side] = offer;
    const from = this._extensions[side];
    const to = extensionOf(destination);
    const extensions = { ...this._extensions };
    if (to === undefined) delete extensions[side];
    else extensions[side] = to;
    this._extensions = extensions;
    this.callers[side] = callerOf(destination);
    this.emit('parties');
    return { old, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
  }

  /**
   * The SDP body of our offer to a callee contact of `kind` (for its fork's INVITE): on
   * leg b, or on the WebRTC candidate for a browser ringing beside phones
   * (docs/architecture.md §3.2.2).
   */
  offerToBFor(kind: ContactKind): string {
    return this.offerB(this.media.anchorFor(kind)).local.body as string;
  }

  private offerB(anchor: AnchorKind): { relayed: RelayedOffer | undefined; local: LocalSdp } {
    const made = this.offersB.get(anchor);
    if (made !== undefined) return made;
    const first = this.offersB.get(this.media.anchorOfB) as {
      relayed: RelayedOffer | undefined;
      local: LocalSdp;
    };
    const side = {
      address: this.ctx.mediaAddress,
      ...this.media.offerSide(anchor, this.ctx.mediaAddress),
    };
    let relayed: RelayedOffer | undefined;
    let description: SdpDescription;
    if (first.relayed === undefined) {
      description = ownOffer(side, this.ctx.policy);
    } else {
      // The caller's offer was relayed once already: only our side of it differs.
      const again = relayOffer(first.relayed.offer, side, this.ctx.policy);
      if (!again.ok) return first;
      relayed = again;
      description = again.description;
    }
    // One session (same o= line) seen by each contact in its own dialog.
    const local = renderLocalSdp(createLocalSdp(first.local.origin), description);
    const offer = { relayed, local };
    this.offersB.set(anchor, offer);
    return offer;
  }

  /** A fork was sent to a contact of `kind`: remember what it was offered. */
  private offered(fork: Fork, kind: ContactKind): void {
    this.anchorOfFork.set(fork, this.media.anchorFor(kind));
  }

  /** Sends every fork's INVITE and arms the no-answer timer. */
  start(targets: readonly ForkTarget[]): void {
    this.route('a', this._dialogA);
    this.noAnswerTimer = this.ctx.clock.setTimer(this.ctx.timers.noAnswerMs, () => {
      this.log.info({}, 'no answer');
      this.feed({ type: 'noAnswerTimeout' });
    });
    for (const target of targets) {
      const fork = new Fork(
        target.invite,
        target.destination,
        this.ctx.out,
        {
          onProvisional: (f, r) => this.onProvisional(f, r),
          onAnswer: (f, r) => this.onAnswer(f, r),
          onFailure: (f, status, reason) => this.onForkFailure(f, status, reason),
        },
        this.log,
      );
      this.forks.push(fork);
      this.offered(fork, target.kind);
      fork.start();
    }
  }

  /**
   * A queue call (docs/architecture.md §9.5): answers the caller's offer ourselves at
   * once (200, leg A only in the room) and starts its hold audio; members are rung later
   * (ringMember). False, with nothing sent, when there is no offer to answer (a late
   * offer) or it cannot be answered: the caller of this method refuses the INVITE.
   */
  answerQueued(link: QueueLink, hold: HoldAudio): boolean {
    if (this.relayed === undefined || this.queue !== undefined) return false;
    const answer = answerOffer(
      this.relayed.offer,
      {
        address: this.ctx.mediaAddress,
        port: this.media.localPort('a'),
        webrtc: this.media.webRtcIdentity('a', this.ctx.mediaAddress),
      },
      this.ctx.policy,
    );
    if (!answer.ok) return false;
    this.queue = { link, hold };
    this.route('a', this._dialogA);
    this._local.a = renderLocalSdp(this._local.a, answer.description);
    confirmDialog(this._dialogA);
    const ok = this.respondA(200, { body: this._local.a.body as string });
    const cseq = cseqOf(this.invite.request).seq;
    this.feed(
      { type: 'queueAnswered', cseq },
      { twoxx: { transaction: this.invite.transaction, response: ok } },
    );
    void this.media
      .apply('a', answer.leg)
      .then(() => this.media.holdSide('a'))
      .then(() => {
        if (this.core.state === 'early' && !this.core.answeredBy) hold.start('a');
      })
      .catch((err: unknown) => {
        if (this.ending !== undefined) return;
        this.log.error({ err }, 'queue media setup failed');
        this.endLater('media-error');
      });
    return true;
  }

  /** Rings a queue member (one fork per registered contact); none: it failed at once. */
  ringMember(member: string, targets: readonly ForkTarget[]): void {
    if (this.queue === undefined || this.core.state === 'ended') return;
    if (targets.length === 0) {
      this.queue.link.memberFailed(member);
      return;
    }
    for (const target of targets) {
      const fork = new Fork(
        target.invite,
        target.destination,
        this.ctx.out,
        {
          onProvisional: (f, r) => this.onProvisional(f, r),
          onAnswer: (f, r) => this.onAnswer(f, r),
          onFailure: (f, status, reason) => this.onForkFailure(f, status, reason),
        },
        this.log,
      );
      this.forks.push(fork);
      this.offered(fork, target.kind);
      this.memberOf.set(fork, member);
      fork.start();
    }
    this.log.info({ member, forks: targets.length }, 'queue member rung');
  }

  /**
   * Rings a queue member once `ready` settles (its browser contacts' WebRTC candidate being
   * made): the forks are built then, unless the ring was cancelled, replaced or the call
   * ended meanwhile. A failed `ready` is logged and the member is rung all the same.
   */
  ringMemberWhen(member: string, ready: Promise<void>, targets: () => readonly ForkTarget[]): void {
    const ring = {};
    this.pendingRings.set(member, ring);
    const rung = ready
      .catch((err: unknown) => this.log.warn({ err, member }, 'WebRTC candidate failed'))
      .then(() => {
        if (this.pendingRings.get(member) !== ring) return;
        this.pendingRings.delete(member);
        if (this.queue === undefined || this.core.state === 'ended') return;
        this.ringMember(member, targets());
      });
    inBackground(rung, this.log, 'ringing a queue member failed', { member });
  }

  /** Stops ringing a queue member (CANCEL its forks). */
  cancelMember(member: string): void {
    this.pendingRings.delete(member);
    for (const [fork, m] of this.memberOf) if (m === member && fork !== this._winner) fork.cancel();
  }

  /**
   * Ends the call with a BYE to the caller that carries `Reason: SIP;cause=…` (RFC 3326):
   * a queue's overflow that hangs up.
   */
  hangUpQueued(status: number, text: string): Promise<void> {
    this.byeReason = `SIP;cause=${status};text="${text.replace(/["\\]/g, '')}"`;
    return this.end('queue-timeout');
  }

  /**
   * The waiting caller moved to another queue (an overflow): from now on it hears that
   * queue's hold audio. Nothing once a member answered or the call ended.
   */
  switchHoldAudio(hold: HoldAudio): void {
    if (this.queue === undefined || this.core.state !== 'early' || this.core.answeredBy) return;
    this.queue.hold.stop();
    this.queue = { ...this.queue, hold };
    hold.start('a');
  }

  /** Whether the call waits in its queue (answered by us, no member connected yet). */
  get queueWaiting(): boolean {
    return this.queue !== undefined && this.core.state === 'early';
  }

  /**
   * A new offer from the caller while it waits in its queue (a re-INVITE or UPDATE: hold,
   * a new address or codec), answered by us as the queue's first answer was, and leg A
   * updated (`applied` settles when the engine has it). A failure is the SDP's: the caller
   * of this method answers 488 and the session goes on unchanged (RFC 3261 §14.2).
   */
  answerWhileQueued(
    offer: SdpSession,
  ): { ok: true; body: string; applied: Promise<void> } | SdpFailure {
    const answer = answerOffer(
      offer,
      {
        address: this.ctx.mediaAddress,
        port: this.media.localPort('a'),
        webrtc: this.media.webRtcIdentity('a', this.ctx.mediaAddress),
      },
      this.ctx.policy,
    );
    if (!answer.ok) return answer;
    this._remote.a = offer;
    this._local.a = renderLocalSdp(this._local.a, answer.description);
    return {
      ok: true,
      body: this._local.a.body as string,
      applied: this.media.apply('a', answer.leg),
    };
  }

  /** The dialog and destination of a side (after the answer for 'b'; not once released). */
  sideOf(side: Side): { dialog: Dialog; destination: Endpoint } | undefined {
    if (side === this.core.released) return undefined;
    if (side === 'a') return { dialog: this._dialogA, destination: this._destinationA };
    const w = this._winner;
    return w?.dialog === undefined ? undefined : { dialog: w.dialog, destination: w.destination };
  }

  /** CANCEL from the caller (§9.2): 487 to the INVITE, CANCEL to every fork. */
  cancelledByCaller(): void {
    this.feed({ type: 'cancel' });
  }

  /** The INVITE came without SDP: the offer goes in our 200, the answer in the ACK. */
  get lateOffer(): boolean {
    return this.relayed === undefined;
  }

  /**
   * A 2xx just sent to an INVITE of `side` (CSeq `cseq`): retransmitted until its ACK
   * (§13.3.1.4), which goes to `onAck` (it carries the answer when the 2xx had an offer).
   */
  track2xx(
    side: Side,
    cseq: number,
    transaction: IncomingRequest['transaction'],
    response: SipResponse,
    onAck?: (ack: SipRequest) => void,
  ): void {
    this.feed({ type: 'sent2xx', side, cseq }, { twoxx: { transaction, response, onAck } });
  }

  /** An ACK for a 2xx from `side` (§13.3.1.4): stops the retransmissions of that 2xx. */
  onAck(side: Side, ack: SipRequest): void {
    const cseq = attempt(() => cseqOf(ack).seq);
    if (cseq === undefined) return;
    this.feed({ type: 'ack', side, cseq }, { ack, onAck: this.reliable[side]?.onAck });
  }

  /** Runs an event through the machine and performs its actions in order. */
  private feed(event: CoreEvent, io: Io = {}): readonly CoreAction[] {
    const { core, actions } = step(this.core, event);
    this.core = core;
    this.record.state = core.state;
    for (const action of actions) this.perform(action, io);
    return actions;
  }

  private perform(action: CoreAction, io: Io): void {
    switch (action.type) {
      case 'relayProvisional':
        if (action.first) this.emit('early', this.record);
        if (io.provisional !== undefined)
          this.relayProvisional(io.provisional.fork, io.provisional.response);
        return;
      case 'takeWinner': {
        const fork = io.fork as Fork;
        this._winner = fork;
        this.settleAnchor(fork);
        this.noAnswerTimer?.cancel();
        for (const f of this.forks) if (f !== fork) f.cancel();
        this.route('b', fork.dialog as Dialog);
        return;
      }
      case 'refuseWinner':
        return;
      case 'emitAnswered':
        this.log.info({ lateOffer: this.lateOffer }, 'call answered');
        this.emit('answered', this.record);
        return;
      case 'respondBest': {
        const best = bestFinalResponse(this.failures);
        this.respondA(best.status, { reason: best.reason });
        return;
      }
      case 'respondCaller':
        this.respondA(action.status);
        return;
      case 'retransmit2xx': {
        const twoxx = io.twoxx;
        if (twoxx === undefined) return;
        const { side, cseq } = action;
        const { t1, t2 } = this.ctx.timers;
        const reliable = new Reliable2xx(
          twoxx.transaction,
          twoxx.response,
          this.ctx.clock,
          { t1, t2 },
          () => {
            if (this.reliable[side]?.reliable === reliable) delete this.reliable[side];
            if (this.core.state !== 'ended') {
              this.log.info({ side, cseq }, 'no ACK for our 2xx within 64*T1: ending the call');
            }
            this.feed({ type: 'ackTimeout', side });
          },
        );
        this.reliable[side] = {
          reliable,
          ...(twoxx.onAck !== undefined ? { onAck: twoxx.onAck } : {}),
        };
        return;
      }
      case 'stop2xx':
        this.reliable[action.side]?.reliable.stop();
        delete this.reliable[action.side];
        return;
      case 'deliverAck':
        if (io.ack !== undefined) io.onAck?.(io.ack);
        return;
      case 'cancelNoAnswer':
        this.noAnswerTimer?.cancel();
        return;
      case 'endForks':
        for (const fork of this.forks) {
          if (fork !== this._winner) fork.cancel();
          else if (action.byeWinner) this.endWork.push(fork.bye());
        }
        if (!action.byeWinner && this._winner?.dialog !== undefined) {
          terminateDialog(this._winner.dialog);
        }
        return;
      case 'byeCaller': {
        const after = action.afterAck
          ? new Promise<void>((resolve) => {
              this.releaseHeldBye = resolve;
            }).then(() => this.unroute('a'))
          : undefined;
        this.endWork.push(this.byeA(after));
        return;
      }
      case 'sendHeldBye': {
        const release = this.releaseHeldBye;
        this.releaseHeldBye = undefined;
        release?.();
        return;
      }
      case 'closeDialogs':
        terminateDialog(this._dialogA);
        // Its dialogs no longer route here, but for one whose 2xx still awaits its ACK
        // (the held BYE waits for it; its release drops it).
        for (const side of ['a', 'b'] as const) if (side !== action.keep) this.unroute(side);
        return;
      case 'ended':
        this.queue?.hold.stop();
        this.record.endedAt = this.ctx.clock.now();
        this.record.endReason = action.reason;
        this.endWork.push(this.media.close());
        this.log.info({ reason: action.reason, answered: action.answered }, 'call ended');
        this.ending = Promise.all(this.endWork).then(() => undefined);
        this.emit('ended', this.record);
        return;
      case 'transferPartyLeft':
        this._transfer?.partyLeft();
        return;
      case 'byeReleased':
        this.log.info({ side: action.side }, 'side released by a takeover');
        this.emit('parties');
        if (action.side === 'a') {
          inBackground(this.byeA(), this.log, 'BYE to the released caller failed');
          terminateDialog(this._dialogA);
        } else if (this._winner) {
          inBackground(this._winner.bye(), this.log, 'BYE to the released callee failed');
        }
        return;
    }
  }

  private respondA(status: number, options: { reason?: string; body?: string } = {}): SipResponse {
    const response = buildDialogResponse(this.invite.request, status, this._dialogA, {
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      ...(options.body !== undefined ? { body: options.body, contentType: 'application/sdp' } : {}),
      headers: [['Server', this.ctx.userAgent]],
    });
    if (status >= 200) this.record.finalStatus = status;
    // The transaction may be gone (stack closing): nothing left to answer.
    if (this.invite.transaction.state !== 'terminated') this.invite.respond(response);
    return response;
  }

  /**
   * The fork that answered decides what leg b is (docs/architecture.md §3.2.2): the offer
   * it got becomes ours toward side b, and the media keeps the leg it was made on.
   */
  private settleAnchor(fork: Fork): void {
    const anchor = this.anchorOfFork.get(fork);
    if (anchor === undefined) return;
    const offer = this.offersB.get(anchor);
    if (offer !== undefined && anchor !== this.media.anchorOfB) {
      this.relayed = offer.relayed;
      this._local.b = offer.local;
    }
    this.media.settle(anchor);
  }

  private onProvisional(fork: Fork, response: SipResponse): void {
    if (this.queue !== undefined) return; // the caller was answered already: hold audio
    this.feed({ type: 'provisional' }, { provisional: { fork, response } });
  }

  /** A fork's 1xx to the caller: 180, or 183 with our answer (early media). */
  private relayProvisional(fork: Fork, response: SipResponse): void {
    // A late offer has no offer of the caller's to answer in a 183: ringing only.
    const sdp = response.body.length > 0 && !this.lateOffer ? parseSdp(response.body) : undefined;
    // Early media only from a fork offered leg b itself: a browser ringing beside phones
    // was offered the WebRTC candidate, which is not leg b before that fork answers.
    const onLegB = this.anchorOfFork.get(fork) === this.media.anchorOfB;
    if (sdp?.ok === true && this.earlyFork === undefined && onLegB) {
      // Early media (RFC 3960): answer the caller's offer now, in the 183.
      const answer = this.answer(sdp.session, 'early');
      if (answer === undefined) return;
      this.earlyFork = fork;
      this.respondA(response.status, { reason: response.reason, body: answer });
      return;
    }
    this.respondA(response.status === 183 ? 180 : response.status, {
      reason: response.status === 183 ? 'Ringing' : response.reason,
    });
  }

  /** relayAnswer + media; our answer to A's offer, or undefined (call ended). */
  private answer(session: SdpSession, phase: 'early' | 'final'): string | undefined {
    if (this.relayed === undefined) return undefined;
    const relayed = relayAnswer(this.relayed, session, {
      address: this.ctx.mediaAddress,
      port: this.media.localPort('a'),
      webrtc: this.media.webRtcIdentity('a', this.ctx.mediaAddress),
    });
    if (!relayed.ok) {
      this.log.info(
        { code: relayed.code, reason: relayed.reason, phase },
        'callee answer unusable',
      );
      if (phase === 'final') this.endLater('media-error');
      return undefined;
    }
    this._remote.b = session;
    this._local.a = renderLocalSdp(this._local.a, relayed.description);
    // The routes go right behind the answer's media, in the same message to the worker
    // (it runs commands in order): waiting for the answer's reply first cost the worker and
    // this thread one more wake-up each per call (docs/architecture.md §7.6).
    void Promise.all([
      this.media.apply('a', relayed.offerer),
      this.media.apply('b', relayed.answerer),
      this.media.connect(),
    ]).catch((err: unknown) => {
      if (this.ending !== undefined) return;
      this.log.error({ err }, 'media setup failed');
      this.endLater('media-error');
    });
    return this._local.a.body as string;
  }

  private onAnswer(fork: Fork, response: SipResponse): boolean {
    if (this.queue !== undefined) return this.onMemberAnswer(fork, response);
    const taken = this.feed({ type: 'forkAnswered' }, { fork });
    if (!taken.some((a) => a.type === 'takeWinner')) return false;
    const sdp = parseSdp(response.body);
    if (!sdp.ok) {
      this.log.info({ code: sdp.code, reason: sdp.reason }, 'callee 2xx SDP unusable');
      this.endLater('media-error');
      return true; // end() BYEs the winner
    }
    let body: string | undefined;
    let onAck: ((ack: SipRequest) => void) | undefined;
    if (this.lateOffer) {
      body = this.offerToA(sdp.session);
      onAck = (ack) => this.onLateAnswer(ack);
    } else {
      body = this.answer(sdp.session, 'final');
    }
    if (body === undefined) return true;
    confirmDialog(this._dialogA);
    this.record.answeredAt = this.ctx.clock.now();
    const ok = this.respondA(200, { body });
    const cseq = cseqOf(this.invite.request).seq;
    const twoxx = { transaction: this.invite.transaction, response: ok, onAck };
    this.feed({ type: 'answered', cseq }, { twoxx });
    return true;
  }

  /**
   * A queue member's fork answered: when the queue gives it the caller, its answer sets
   * leg B, the hold audio stops and both legs go in the room; the call is answered.
   */
  private onMemberAnswer(fork: Fork, response: SipResponse): boolean {
    const queue = this.queue as { link: QueueLink; hold: HoldAudio };
    const member = this.memberOf.get(fork);
    if (member === undefined || this.core.answeredBy || this.core.state === 'ended') return false;
    if (!queue.link.memberAnswered(member)) return false;
    const taken = this.feed({ type: 'forkAnswered' }, { fork });
    if (!taken.some((a) => a.type === 'takeWinner')) return false;
    const sdp = parseSdp(response.body);
    const sent = this._local.b.description;
    const b = sdp.ok && sent !== undefined ? answeredLeg(sent, sdp.session) : undefined;
    if (!sdp.ok || b === undefined || !b.ok) {
      this.log.info({ member }, 'queue member answer unusable');
      this.endLater('media-error');
      return true; // end() BYEs the winner
    }
    this._remote.b = sdp.session;
    this._extensions = { ...this._extensions, b: member };
    this.callers.b = { kind: 'extension', extension: member };
    this.emit('parties');
    queue.hold.stop();
    this.record.answeredAt = this.ctx.clock.now();
    // The routes right behind the answer's media, as in answer().
    void Promise.all([this.media.apply('b', b.leg), this.media.connect()]).catch((err: unknown) => {
      if (this.ending !== undefined) return;
      this.log.error({ err }, 'media setup failed');
      this.endLater('media-error');
    });
    this.feed({ type: 'agentConnected' });
    return true;
  }

  /**
   * Late offer, the callee answered our offer: leg B is set, and our offer to the caller
   * (for the 200) lists the callee's codec first. Undefined when the answer is unusable
   * (the call is ending).
   */
  private offerToA(session: SdpSession): string | undefined {
    const sent = this._local.b.description;
    const b = sent === undefined ? undefined : answeredLeg(sent, session);
    if (b === undefined || !b.ok) {
      if (b !== undefined)
        this.log.info({ code: b.code, reason: b.reason }, 'callee answer unusable');
      this.endLater('media-error');
      return undefined;
    }
    this._remote.b = session;
    this._local.a = renderLocalSdp(
      this._local.a,
      ownOffer(
        {
          address: this.ctx.mediaAddress,
          port: this.media.localPort('a'),
          webrtc: this.media.webRtcIdentity('a', this.ctx.mediaAddress),
        },
        this.ctx.policy,
        b.leg.codec.name,
      ),
    );
    this.mediaB = this.media.apply('b', b.leg);
    this.mediaB.catch(() => {}); // reported where it is awaited
    return this._local.a.body as string;
  }

  /** Late offer: the caller's ACK carries its answer to our 200's offer (leg A). */
  private onLateAnswer(ack: SipRequest): void {
    const parsed = ack.body.length === 0 ? undefined : parseSdp(ack.body);
    const sent = this._local.a.description;
    let why = 'no SDP in the ACK';
    let leg: LegMedia | undefined;
    if (parsed !== undefined && !parsed.ok) why = parsed.reason;
    if (parsed?.ok === true && sent !== undefined) {
      const a = answeredLeg(sent, parsed.session);
      if (a.ok) leg = a.leg;
      else why = a.reason;
    }
    if (parsed?.ok !== true || leg === undefined) {
      this.log.info({ reason: why }, 'caller answer in the ACK unusable: ending the call');
      this.endLater('media-error');
      return;
    }
    this._remote.a = parsed.session;
    void Promise.all([this.mediaB, this.media.apply('a', leg)])
      .then(() => this.media.connect())
      .catch((err: unknown) => {
        if (this.ending !== undefined) return;
        this.log.error({ err }, 'media setup failed');
        this.endLater('media-error');
      });
  }

  private onForkFailure(fork: Fork, status: number, reason: string): void {
    const member = this.memberOf.get(fork);
    if (this.queue !== undefined && member !== undefined) {
      const forks = [...this.memberOf].filter(([, m]) => m === member).map(([f]) => f);
      if (forks.every((f) => f.done) && this.core.state !== 'ended') {
        this.log.info({ member, status, reason }, 'queue member not reached');
        this.queue.link.memberFailed(member);
      }
      return;
    }
    this.failures.push({ status, reason });
    if (fork === this.earlyFork) this.earlyFork = undefined;
    // A 6xx ends the search at once (§16.7 step 5 / §21.6).
    const allDone = this.forks.every((f) => f.done);
    this.feed({ type: 'forkFailed', global: status >= 600, allDone });
  }

  /**
   * A supervisor took the call over (docs/architecture.md §4.5): `side` (the agent) is hung up with a BYE
   * and the call goes on without it — the supervisor's own dialog now carries that seat
   * (src/monitoring). In-dialog requests from the released side then get 481.
   */
  release(side: Side): void {
    this.feed({ type: 'release', side });
  }

  /**
   * A transfer's target answered (transfer.ts): its fork's dialog becomes `side`'s and
   * the old dialog, returned, no longer routes here (the transfer BYEs it). Media: the
   * caller of this method applies the target's answer to the same leg.
   */
  private replaceSide(side: Side, fork: Fork): { dialog: Dialog; destination: Endpoint } {
    const old = this.sideOf(side);
    const dialog = fork.dialog;
    if (old === undefined || dialog === undefined) {
      throw new Error(`side ${side} cannot be replaced (released, or no dialog)`);
    }
    this.feed({ type: 'sideReplaced', side });
    if (side === 'a') {
      this._dialogA = dialog;
      this._destinationA = fork.destination;
    } else {
      this.forks.push(fork);
      this._winner = fork;
    }
    this.unroute(side);
    this.route(side, dialog);
    return old;
  }

  /** `side`'s requests now come here through `dialog` (the service indexes the key). */
  private route(side: Side, dialog: Dialog): void {
    const key = dialogKey(dialog.id);
    this.routed.set(side, key);
    this.emit('dialog', key, side);
  }

  /** `side`'s dialog no longer routes here. */
  private unroute(side: Side): void {
    const key = this.routed.get(side);
    if (key === undefined) return;
    this.routed.delete(side);
    this.emit('dialogDropped', key);
  }

  /** A BYE from `side` (answered 200): the call ends, unless `side`'s transfer runs. */
  byeFrom(side: Side): void {
    this.feed({ type: 'bye', side });
  }

  /** `side` is gone (its transfer failed after it hung up): the call ends. */
  hangupBy(side: Side): void {
    this.endLater(side === 'a' ? 'caller-hangup' : 'callee-hangup', side);
  }

  /** Ends the call from a callback that cannot await it; a failure is logged. */
  private endLater(reason: EndReason, hungUp?: Side): void {
    inBackground(this.end(reason, hungUp), this.log, 'ending the call failed', { reason });
  }

  /**
   * Ends the call (idempotent). `hungUp` is the side that sent a BYE (already answered
   * 200 by the caller of this method): the other side gets a BYE.
   *
   * A caller whose 200 is not yet ACKed gets its BYE only once the ACK comes (or 64·T1
   * passes): a UAS must not send BYE before the ACK for its 2xx (RFC 3261 §15), and a
   * BYE that overtakes a lost 200 reaches a caller still in its INVITE transaction. The
   * 200 keeps being retransmitted meanwhile, and the dialog keeps routing the ACK here
   * (then 'dialogDropped'). At shutdown nothing is held back. The rules: callCore.ts.
   */
  end(reason: EndReason, hungUp?: Side): Promise<void> {
    if (this.ending !== undefined) return this.ending;
    this.feed({ type: 'end', reason, ...(hungUp !== undefined ? { hungUp } : {}) });
    return this.ending ?? Promise.resolve();
  }

  /** BYE to the caller, built now (while the dialog is confirmed), sent once `after` resolves. */
  private byeA(after?: Promise<void>): Promise<void> {
    if (this._dialogA.state !== 'confirmed') return Promise.resolve();
    const bye = createInDialogRequest(this._dialogA, 'BYE', {
      headers: [
        ['User-Agent', this.ctx.userAgent],
        ...(this.byeReason !== undefined ? [['Reason', this.byeReason] as [string, string]] : []),
      ],
    });
    const destination = this._destinationA;
    const send = () =>
      new Promise<void>((resolve) => {
        this.ctx.out.send(bye, destination, {
          onResponse: (r) => {
            if (r.status >= 200) resolve();
          },
          onFailure: () => resolve(),
        });
      });
    return after === undefined ? send() : after.then(send);
  }
}
