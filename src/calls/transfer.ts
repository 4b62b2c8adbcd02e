/**
 * Blind transfer (RFC 3515 REFER, its implicit subscription reported by RFC 3265 NOTIFYs
 * with message/sipfrag bodies; the flow of RFC 5589 §6) from either party X of an
 * answered call. We play the transferee for X: the other party (the one transferred)
 * never sees a request, only hears the new party once it answers.
 *
 *   X ──REFER Refer-To: <sip:T@…>──▶ us        202 Accepted
 *   us ──NOTIFY "SIP/2.0 100 Trying" (Subscription-State: active)──▶ X
 *   us ──INVITE (our own offer, on a leg of the contact's kind)──▶ T's contacts / the trunk
 *   T ──200──▶ us ──ACK──▶ T; T's answer applied to that leg, now X's; T's dialog becomes side X
 *   us ──NOTIFY "SIP/2.0 200 OK" (terminated;reason=noresource)──▶ X, then BYE ──▶ X
 *
 * The target is resolved by the dial plan as if X dialled the Refer-To user (an
 * extension, or a number a trunk prefix routes; from a trunk party, a DID). A failure
 * (a 4xx–6xx from every fork, no answer within the call's no-answer time: 408, a dial
 * plan refusal) is NOTIFYed with its status line (terminated) and the call goes on
 * unchanged. X may hang up (BYE, answered 200) once the REFER is accepted: the transfer
 * goes on, and when it fails the call ends.
 *
 * REFERs refused at once:
 * - outside an answered call, or after a takeover (the seat is a supervisor's) → 403;
 * - while a transfer or an offer/answer exchange runs in the call → 491 (RFC 3261 §14.2
 *   style: the REFER would reoffer a leg, so it is treated like a glaring offer);
 * - no single, parseable sip/sips Refer-To → 400 (RFC 3515 §2.4.1);
 * - a Refer-To with Replaces (attended transfer, RFC 3891) → 501: not implemented yet.
 *
 * Each of T's contacts is offered a leg of its kind (docs/architecture.md §3.2.2, §9.3): a
 * phone X's own leg when that is plain RTP (same port), else a new plain one; a browser
 * always a new WebRTC leg (one serves a single DTLS peer, and X's may be plain). The new
 * legs wait beside X's (CallMedia.addSpare); the answering fork's becomes X's leg, the
 * others close, and all close when the transfer fails.
 *
 * No NOTIFY for provisional responses (RFC 3515 §2.4.5 leaves them optional): X gets
 * 100 Trying, then the final status.
 */
import type { TimerHandle } from '../../sip/clock.js';
import {
  buildDialogResponse,
  createInDialogRequest,
  dialogKey,
  refreshRemoteTarget,
  terminateDialog,
  type Dialog,
  type DialogParty,
} from '../../sip/dialog/index.js';
import {
  buildResponse,
  isSipUri,
  tryParseNameAddr,
  unescapeUri,
  type SipRequest,
  type SipResponse,
} from '../../sip/message/index.js';
import {
  answeredLeg,
  createLocalSdp,
  ownOffer,
  parseSdp,
  renderLocalSdp,
  type LocalSdp,
} from '../../sip/sdp/index.js';
import type { IncomingRequest } from '../../sip/stack.js';
import type { Endpoint } from '../../sip/transport/types.js';
import { bestFinalResponse, type ForkFailure } from './bestResponse.js';
import type { Call, CallContext, ForkTarget, TransferInProgress } from './call.js';
import type { Side, SpareLeg } from './callMedia.js';
import type { ContactKind } from './contactKind.js';
import type { DialogRoutes } from './dialogRoutes.js';
import type { Destination } from './dialPlan.js';
import { inBackground } from '../util/background.js';
import { Fork } from './fork.js';
import type { ReferHandler } from './inDialog.js';

export interface TransferDeps extends DialogRoutes {
  /** Where `dialled` goes when the party on `side` dials it (the dial plan). */
  resolve(call: Call, side: Side, dialled: string): Destination;
  /** The kinds of `destination`'s contacts (a trunk is a phone), each once. */
  contactKinds(destination: Destination): ContactKind[];
  /** Our INVITEs to `destination` (one per registered contact, or the trunk), by kind. */
  invites(
    call: Call,
    destination: Destination,
    from: DialogParty,
    sdp: (kind: ContactKind) => string,
  ): ForkTarget[];
  /** The target answered: it is now the call's `side` (its extension went `from` → `to`). */
  completed(call: Call, side: Side, from: string | undefined, to: string | undefined): void;
}

type Leg = { dialog: Dialog; destination: Endpoint };

/** What contacts of one kind are offered: our SDP, on X's leg or on a spare one. */
interface KindOffer {
  local: LocalSdp;
  spare: SpareLeg | undefined;
}

const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

/** The REFER handler CallService passes to handleInDialog. */
export function referHandler(deps: TransferDeps): ReferHandler {
  return (call, side, incoming, ctx, reply) => {
    const here = call.sideOf(side);
    const verdict = call.referVerdict();
    if (!verdict.ok || here === undefined) {
      reply(verdict.ok ? 403 : verdict.status);
      return;
    }
    const target = referTarget(incoming.request);
    if (!target.ok) {
      reply(target.status, undefined, [['Warning', `399 callwatch "${target.reason}"`]]);
      return;
    }
    const refreshed = refreshRemoteTarget(here.dialog, incoming.request);
    if (!refreshed.ok) {
      reply(refreshed.status ?? 400);
      return;
    }
    reply(202);
    new Transfer(call, side, here, target.dialled, ctx, deps).start();
  };
}

/** The user part of the single Refer-To (RFC 3515 §2.1), or why it cannot be used. */
export function referTarget(
  request: SipRequest,
): { ok: true; dialled: string } | { ok: false; status: 400 | 501; reason: string } {
  const values = request.headers.getAll('Refer-To');
  if (values.length !== 1) return { ok: false, status: 400, reason: 'one Refer-To needed' };
  const addr = tryParseNameAddr(values[0] as string);
  if (addr === undefined || !isSipUri(addr.uri)) {
    return { ok: false, status: 400, reason: 'Refer-To is not a SIP URI' };
  }
  if (addr.uri.headers.some(([name]) => name.toLowerCase() === 'replaces')) {
    return { ok: false, status: 501, reason: 'attended transfer (Replaces) is not supported' };
  }
  return { ok: true, dialled: addr.uri.user === undefined ? '' : unescapeUri(addr.uri.user) };
}

/** One REFER's attempt, from its 202 to the final NOTIFY (and the BYE of X's dialog). */
class Transfer implements TransferInProgress {
  private readonly forks: Fork[] = [];
  private readonly failures: ForkFailure[] = [];
  private done = false;
  /** X sent BYE: its dialog is over, nothing more is sent in it. */
  private left = false;
  private timer: TimerHandle | undefined;
  /** The offer per contact kind, and the kind each fork was sent to. */
  private readonly offers = new Map<ContactKind, KindOffer>();
  private readonly kindOf = new Map<Fork, ContactKind>();
  /** NOTIFYs go one after the other (the final one after the 100's transaction). */
  private notifying: Promise<void> = Promise.resolve();
  private readonly onCallEnded = (): void => this.abandon();

  constructor(
    private readonly call: Call,
    readonly side: Side,
    private readonly old: Leg,
    private readonly dialled: string,
    private readonly ctx: CallContext,
    private readonly deps: TransferDeps,
  ) {}

  start(): void {
    const { call, ctx, side } = this;
    call.beginTransfer(this);
    call.on('ended', this.onCallEnded);
    ctx.logger.info({ side, target: this.dialled }, 'blind transfer requested');
    inBackground(this.notify(100, 'Trying', false), ctx.logger, 'transfer NOTIFY failed');
    const destination = this.deps.resolve(call, side, this.dialled);
    if (destination.kind === 'reject') {
      this.fail(destination.status, destination.reason);
      return;
    }
    const kinds = this.deps.contactKinds(destination);
    if (kinds.length === 0) {
      this.fail(480, 'Temporarily Unavailable');
      return;
    }
    inBackground(
      this.prepare(kinds).then(
        (ready) => {
          if (ready) this.ring(destination);
        },
        (err: unknown) => {
          ctx.logger.warn({ err }, 'transfer media legs failed');
          this.fail(500, 'Server Internal Error');
        },
      ),
      ctx.logger,
      'transfer failed',
    );
  }

  /**
   * One offer per contact kind, each on a leg of that kind: X's own for a phone when X's
   * is plain, else a spare one. False (the spares dropped) when the transfer ended meanwhile.
   */
  private async prepare(kinds: readonly ContactKind[]): Promise<boolean> {
    const { call, ctx, side } = this;
    const keepX = (kind: ContactKind): boolean => kind === 'phone' && !call.media.isWebRtc(side);
    const made = await Promise.allSettled(
      kinds.map((kind) =>
        keepX(kind)
          ? Promise.resolve(undefined)
          : call.media.addSpare(kind === 'browser' ? 'webrtc' : 'plain'),
      ),
    );
    const spares = made.flatMap((m) => (m.status === 'fulfilled' && m.value ? [m.value] : []));
    const failed = made.find((m): m is PromiseRejectedResult => m.status === 'rejected');
    if (this.done || failed !== undefined) {
      for (const spare of spares) call.media.dropSpare(spare);
      if (failed !== undefined && !this.done) throw failed.reason;
      return false;
    }
    // The codec the remaining party uses first: no transcoding when the target takes it.
    const current = call.local[other(side)].description?.codecs[0]?.name;
    const preferred = ctx.policy.supported.find((name) => name === current);
    // One session (same o= line) seen by each contact in its own dialog.
    const origin = createLocalSdp({
      username: 'callwatch',
      sessionId: Math.floor(Math.random() * 1e12),
      sessionVersion: 1,
    }).origin;
    kinds.forEach((kind, i) => {
      const spare = (made[i] as PromiseFulfilledResult<SpareLeg | undefined>).value;
      const webrtc = spare?.webRtcIdentity(ctx.mediaAddress);
      const description = ownOffer(
        {
          address: ctx.mediaAddress,
          port: spare?.port ?? call.media.localPort(side),
          ...(webrtc !== undefined ? { webrtc } : {}),
        },
        ctx.policy,
        preferred,
      );
      this.offers.set(kind, { local: renderLocalSdp(createLocalSdp(origin), description), spare });
    });
    return true;
  }

  /** Our INVITE to each of the target's contacts, with its kind's offer. */
  private ring(destination: Exclude<Destination, { kind: 'reject' }>): void {
    const { call, ctx } = this;
    const remaining = call.sideOf(other(this.side));
    const from = remaining?.dialog.remote ?? { uri: this.old.dialog.local.uri };
    const targets = this.deps
      .invites(call, destination, from, (kind) => this.offers.get(kind)?.local.body ?? '')
      // A contact registered while the legs were made, of a kind not prepared: not rung.
      .filter((t) => this.offers.has(t.kind));
    if (targets.length === 0) {
      this.fail(480, 'Temporarily Unavailable');
      return;
    }
    this.timer = ctx.clock.setTimer(ctx.timers.noAnswerMs, () => this.fail(408, 'Request Timeout'));
    for (const target of targets) {
      const fork = new Fork(
        target.invite,
        target.destination,
        ctx.out,
        {
          onProvisional: () => {},
          onAnswer: (f, r) => this.answered(f, r, destination),
          onFailure: (f, status, reason) => this.forkFailed(status, reason),
        },
        ctx.logger,
      );
      this.forks.push(fork);
      this.kindOf.set(fork, target.kind);
      fork.start();
    }
  }

  partyLeft(): void {
    this.left = true;
    terminateDialog(this.old.dialog);
    this.ctx.logger.info({ side: this.side }, 'transferring party hung up: transfer goes on');
  }

  /** The target's 2xx (already ACKed by its fork); false hangs it up. */
  private answered(fork: Fork, response: SipResponse, destination: Destination): boolean {
    if (this.done) return false;
    const kind = this.kindOf.get(fork);
    const offer = kind === undefined ? undefined : this.offers.get(kind);
    const sent = offer?.local.description;
    const sdp = parseSdp(response.body);
    const leg = sdp.ok && sent !== undefined ? answeredLeg(sent, sdp.session) : undefined;
    if (!sdp.ok || offer === undefined || leg === undefined || !leg.ok) {
      const reason = !sdp.ok ? sdp.reason : leg?.ok === false ? leg.reason : 'no offer';
      this.ctx.logger.info({ reason }, 'transfer target answer unusable');
      this.fail(488, 'Not Acceptable Here');
      return false;
    }
    const { call, side } = this;
    this.settle(fork);
    // The answering contact's leg is X's from now on (X's old one, if another, closes).
    if (offer.spare !== undefined) call.media.adoptSpare(side, offer.spare);
    const change = call.transferCompleted(side, fork, offer.local, sdp.session, destination);
    const { old } = change;
    call.media
      .apply(side, leg.leg)
      .catch((err: unknown) => this.ctx.logger.warn({ err }, 'transfer media update failed'));
    this.ctx.logger.info({ side, target: this.dialled }, 'blind transfer completed');
    this.deps.completed(call, side, change.from, change.to);
    if (this.left) return true;
    // X's old dialog still answers its BYE (it may hang up itself after the NOTIFY).
    const key = dialogKey(old.dialog.id);
    this.deps.registerDialog(key, {
      onRequest: (incoming) => this.oldDialogRequest(incoming, key),
      onAck: () => {},
    });
    inBackground(
      this.notify(200, 'OK', true).then(() => this.byeOld(key)),
      this.ctx.logger,
      'transfer NOTIFY failed',
    );
    return true;
  }

  private forkFailed(status: number, reason: string): void {
    this.failures.push({ status, reason });
    if (this.done) return;
    if (status < 600 && !this.forks.every((f) => f.done)) return;
    const best = bestFinalResponse(this.failures);
    this.fail(best.status, best.reason);
  }

  /** The transfer failed: X hears why and the call goes on (ends if X left). */
  private fail(status: number, reason: string): void {
    if (this.done) return;
    this.settle();
    this.ctx.logger.info({ side: this.side, status, reason }, 'blind transfer failed');
    if (this.left) {
      this.call.hangupBy(this.side);
      return;
    }
    inBackground(this.notify(status, reason, true), this.ctx.logger, 'transfer NOTIFY failed');
  }

  /** The call ended meanwhile (either party, or a failure): stop ringing the target. */
  private abandon(): void {
    if (this.done) return;
    this.settle();
  }

  /**
   * Done: no more timer, other forks cancelled, spare legs but the winner's closed, the
   * call free for offers again.
   */
  private settle(winner?: Fork): void {
    this.done = true;
    this.timer?.cancel();
    for (const fork of this.forks) if (fork !== winner) fork.cancel();
    const kept = winner === undefined ? undefined : this.kindOf.get(winner);
    for (const [kind, offer] of this.offers) {
      if (kind !== kept && offer.spare !== undefined) this.call.media.dropSpare(offer.spare);
    }
    this.call.transferSettled(this);
    this.call.off('ended', this.onCallEnded);
  }

  /** A NOTIFY of the refer subscription (RFC 3515 §2.4.4) with a sipfrag status line. */
  private notify(status: number, reason: string, final: boolean): Promise<void> {
    const send = (): Promise<void> =>
      new Promise((resolve) => {
        const { dialog, destination } = this.old;
        if (this.left || dialog.state === 'terminated') {
          resolve();
          return;
        }
        const request = createInDialogRequest(dialog, 'NOTIFY', {
          body: `SIP/2.0 ${status} ${reason}\r\n`,
          contentType: 'message/sipfrag;version=2.0',
          headers: [
            ['Event', 'refer'],
            ['Subscription-State', final ? 'terminated;reason=noresource' : 'active;expires=60'],
            ['User-Agent', this.ctx.userAgent],
          ],
        });
        this.ctx.out.send(request, destination, {
          onResponse: (r) => {
            if (r.status < 200) return;
            if (r.status >= 300) this.ctx.logger.info({ status: r.status }, 'NOTIFY refused');
            resolve();
          },
          onFailure: () => resolve(),
        });
      });
    this.notifying = this.notifying.then(send);
    return this.notifying;
  }

  /** After the final NOTIFY: BYE to X's old dialog, unless X hung up already. */
  private byeOld(key: string): void {
    const { dialog, destination } = this.old;
    if (this.left || dialog.state === 'terminated') {
      this.deps.unregisterDialog(key);
      return;
    }
    const bye = createInDialogRequest(dialog, 'BYE', {
      headers: [['User-Agent', this.ctx.userAgent]],
    });
    terminateDialog(dialog);
    const done = (): void => this.deps.unregisterDialog(key);
    this.ctx.out.send(bye, destination, {
      onResponse: (r) => {
        if (r.status >= 200) done();
      },
      onFailure: done,
    });
  }

  /**
   * A request in X's old dialog after the transfer: BYE → 200 (ours may cross it),
   * anything else → 481.
   */
  private oldDialogRequest(incoming: IncomingRequest, key: string): void {
    const { request } = incoming;
    const headers: Array<[string, string]> = [['Server', this.ctx.userAgent]];
    if (request.method !== 'BYE') {
      incoming.respond(buildResponse(request, 481, { headers }));
      return;
    }
    this.left = true;
    terminateDialog(this.old.dialog);
    incoming.respond(buildDialogResponse(request, 200, this.old.dialog, { headers }));
    this.deps.unregisterDialog(key);
  }
}
