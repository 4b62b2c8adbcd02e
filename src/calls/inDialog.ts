/**
 * Requests inside a call's dialogs (RFC 3261 §12.2.2), from either side:
 * - BYE → 200, and the call ends (the other side gets a BYE, §15.1.2);
 * - re-INVITE with an offer → relayed to the other side as our own re-INVITE (hold/resume,
 *   RFC 3264 §8.4), its answer relayed back; 491 when another offer is in progress in the
 *   call (§14.2 glare); with the same SDP version (a session refresh, RFC 4028) it is
 *   answered at once with our current SDP, nothing relayed;
 * - re-INVITE without SDP → 200 with our current SDP as the offer; the answer comes in the
 *   ACK and is applied to that side's leg (RFC 3264 §8, RFC 3261 §14.1);
 * - every 2xx to a re-INVITE is retransmitted until its ACK (Call.track2xx, §13.3.1.4);
 * - UPDATE (RFC 3311) with a new offer → relayed as our own UPDATE like a re-INVITE (491 /
 *   500 when an offer is in progress, §5.2), the answer relayed back in the 200; with the
 *   same SDP version (session refresh) or outside an answered call → 200 with our current
 *   SDP; without SDP → 200;
 * - REFER (RFC 3515) → a blind transfer (transfer.ts), when the service passes a handler;
 *   while one runs, offers from either side are answered 491 (like an offer in progress)
 *   and a BYE from the transferring side is answered 200 without ending the call;
 * - INFO, OPTIONS → 200 (DTMF travels as RFC 4733 in the media).
 */
import {
  buildDialogResponse,
  checkIncomingReInvite,
  checkRemoteCSeq,
  createAck,
  createInDialogRequest,
  refreshRemoteTarget,
  type Dialog,
} from '../../sip/dialog/index.js';
import {
  buildResponse,
  cseqOf,
  type SipRequest,
  type SipResponse,
} from '../../sip/message/index.js';
import {
  answeredLeg,
  isSameSdpVersion,
  parseSdp,
  relayAnswer,
  relayOffer,
  sdpWarning,
  type RelayedOffer,
  type SdpSession,
} from '../../sip/sdp/index.js';
import type { IncomingRequest } from '../../sip/stack.js';
import type { Endpoint } from '../../sip/transport/types.js';
import { inBackground } from '../util/background.js';
import type { Call, CallContext } from './call.js';
import type { Side } from './callMedia.js';

const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

export type Reply = (status: number, body?: string, extra?: Array<[string, string]>) => SipResponse;

/** Takes a REFER from `side` (its CSeq already checked); answers it through `reply`. */
export type ReferHandler = (
  call: Call,
  side: Side,
  incoming: IncomingRequest,
  ctx: CallContext,
  reply: Reply,
) => void;

export function handleInDialog(
  call: Call,
  side: Side,
  incoming: IncomingRequest,
  ctx: CallContext,
  refer?: ReferHandler,
): void {
  const { request } = incoming;
  const here = call.sideOf(side);
  const respond = (
    status: number,
    dialog: Dialog | undefined,
    body?: string,
    extra: Array<[string, string]> = [],
  ): SipResponse => {
    const headers: Array<[string, string]> = [['Server', ctx.userAgent], ...extra];
    const response =
      dialog === undefined
        ? buildResponse(request, status, { headers })
        : buildDialogResponse(request, status, dialog, {
            headers,
            ...(body !== undefined ? { body, contentType: 'application/sdp' } : {}),
          });
    incoming.respond(response);
    return response;
  };
  if (here === undefined || here.dialog.state === 'terminated') {
    respond(481, undefined);
    return;
  }
  const { dialog } = here;
  const seq = checkRemoteCSeq(dialog, request);
  if (!seq.ok) {
    respond(seq.status ?? 500, dialog);
    return;
  }
  const reply: Reply = (status, body, extra) => respond(status, dialog, body, extra);
  switch (request.method) {
    case 'BYE':
      reply(200);
      call.byeFrom(side);
      return;
    case 'REFER':
      if (refer === undefined) reply(501);
      else refer(call, side, incoming, ctx, reply);
      return;
    case 'INVITE':
      reInvite(call, side, incoming, ctx, reply);
      return;
    case 'UPDATE':
      update(call, side, request, ctx, reply);
      return;
    default:
      reply(200);
  }
}

/** Whether an offer may be taken now (§14.2, RFC 3311 §5.2); answers it when not. */
function offerAllowed(call: Call, side: Side, reply: Reply): boolean {
  // A transfer in progress counts as our own offer pending (it reoffers one leg).
  const verdict = checkIncomingReInvite(call.offerActivity(side), Math.random);
  if (verdict.accept) return true;
  const retry: Array<[string, string]> =
    verdict.status === 500 ? [['Retry-After', String(verdict.retryAfter)]] : [];
  reply(verdict.status, undefined, retry);
  return false;
}

function reInvite(
  call: Call,
  side: Side,
  incoming: IncomingRequest,
  ctx: CallContext,
  reply: Reply,
): void {
  const { request } = incoming;
  const here = call.sideOf(side);
  const there = call.sideOf(other(side));
  const inviteSeq = cseqOf(request).seq;
  if (here !== undefined && call.released === other(side)) {
    // After a takeover the other seat is a monitoring dialog, not relayed to: a session
    // refresh answered with our current SDP (a hold is not passed on to the supervisor).
    const response = reply(200, call.local[side].body);
    call.track2xx(side, inviteSeq, incoming.transaction, response);
    return;
  }
  // A caller waiting in its queue was answered by us: its offers are answered here.
  const queued = side === 'a' && call.queueWaiting && here !== undefined;
  if (!queued && (call.state !== 'answered' || here === undefined || there === undefined)) {
    reply(491);
    return;
  }
  if (here === undefined || !offerAllowed(call, side, reply)) return;
  const refreshed = refreshRemoteTarget(here.dialog, request);
  if (!refreshed.ok) {
    reply(refreshed.status ?? 400);
    return;
  }
  /** A 2xx, retransmitted until the ACK (§13.3.1.4), which may carry the answer. */
  const accept = (body: string | undefined, onAck?: (ack: SipRequest) => void) => {
    const response = reply(200, body);
    call.track2xx(side, inviteSeq, incoming.transaction, response, onAck);
  };
  if (request.body.length === 0) {
    // An offerless re-INVITE: our current SDP is the offer, the ACK carries the answer
    // (RFC 3264 §8, RFC 3261 §14.1).
    accept(call.local[side].body, (ack) => applyAckAnswer(call, side, ack, ctx));
    return;
  }
  const offer = readOffer(call, side, request, reply);
  if (offer === undefined) return;
  if (offer.refresh) {
    accept(call.local[side].body);
    return;
  }
  if (queued) {
    answerQueuedOffer(call, here.destination, offer.session, ctx, reply, (body) => accept(body));
    return;
  }
  relayOfferTo(call, side, 'INVITE', offer.session, ctx, reply, (body) => accept(body));
}

/**
 * An offer from a caller waiting in its queue: no one to relay it to, so it is answered
 * here (docs/architecture.md §9.5); the answer leaves once leg A has the new media.
 */
function answerQueuedOffer(
  call: Call,
  caller: Endpoint,
  offer: SdpSession,
  ctx: CallContext,
  reply: Reply,
  accept: (body: string) => void,
): void {
  const answered = call.answerWhileQueued(offer);
  if (!answered.ok) {
    const agent = ctx.out.sentBy(caller).host;
    reply(488, undefined, [['Warning', sdpWarning(answered, agent)]]);
    return;
  }
  inBackground(
    answered.applied.then(
      () => accept(answered.body),
      (err: unknown) => {
        ctx.logger.warn({ err }, 'queued caller media update failed');
        accept(answered.body);
      },
    ),
    ctx.logger,
    'answering a queued caller failed',
  );
}

/**
 * The SDP offer of an in-dialog request, or undefined after answering 488 to a bad one.
 * `refresh`: the same `o=` version as the side's last SDP (RFC 4028 session refresh,
 * RFC 3264 §8: nothing changes, nothing is relayed).
 */
function readOffer(
  call: Call,
  side: Side,
  request: SipRequest,
  reply: Reply,
): { session: SdpSession; refresh: boolean } | undefined {
  const parsed = parseSdp(request.body);
  if (!parsed.ok) {
    reply(488, undefined, [['Warning', `399 callwatch "${parsed.reason}"`]]);
    return undefined;
  }
  const previous = call.remote[side];
  return {
    session: parsed.session,
    refresh: previous !== undefined && isSameSdpVersion(previous.origin, parsed.session.origin),
  };
}

/** RFC 3311: an UPDATE in the dialog; a new offer is relayed like a re-INVITE's. */
function update(call: Call, side: Side, request: SipRequest, ctx: CallContext, reply: Reply): void {
  const here = call.sideOf(side);
  if (here === undefined) {
    reply(481);
    return;
  }
  if (request.body.length === 0) {
    const refreshed = refreshRemoteTarget(here.dialog, request);
    reply(refreshed.ok ? 200 : (refreshed.status ?? 400));
    return;
  }
  const offer = readOffer(call, side, request, reply);
  if (offer === undefined) return;
  if (side === 'a' && call.queueWaiting && !offer.refresh) {
    const refreshed = refreshRemoteTarget(here.dialog, request);
    if (!refreshed.ok) {
      reply(refreshed.status ?? 400);
      return;
    }
    answerQueuedOffer(call, here.destination, offer.session, ctx, reply, (body) =>
      reply(200, body),
    );
    return;
  }
  const refresh =
    call.state !== 'answered' || call.sideOf(other(side)) === undefined || offer.refresh;
  if (!refresh && !offerAllowed(call, side, reply)) return;
  const refreshed = refreshRemoteTarget(here.dialog, request);
  if (!refreshed.ok) {
    reply(refreshed.status ?? 400);
    return;
  }
  if (refresh) {
    // A session refresh (or an offer before the call is answered, not relayed): our
    // current SDP, unchanged.
    reply(200, call.local[side].body);
    return;
  }
  relayOfferTo(call, side, 'UPDATE', offer.session, ctx, reply, (body) => reply(200, body));
}

/**
 * Relays `offer` from `side` to the other side as our own re-INVITE or UPDATE; on its 2xx
 * the answer is relayed back through `accept` and both legs' media are updated.
 */
function relayOfferTo(
  call: Call,
  side: Side,
  method: 'INVITE' | 'UPDATE',
  offer: SdpSession,
  ctx: CallContext,
  reply: Reply,
  accept: (body: string) => void,
): void {
  const there = call.sideOf(other(side));
  if (there === undefined) {
    reply(491);
    return;
  }
  const relayed = relayOffer(
    offer,
    {
      address: ctx.mediaAddress,
      port: call.media.localPort(other(side)),
      webrtc: call.media.webRtcIdentity(other(side), ctx.mediaAddress),
    },
    ctx.policy,
  );
  if (!relayed.ok) {
    // RFC 3261 §14.2: the session goes on unchanged after a refused re-offer.
    const agent = ctx.out.sentBy(call.sideOf(side)?.destination ?? there.destination).host;
    reply(488, undefined, [['Warning', sdpWarning(relayed, agent)]]);
    return;
  }
  const body = call.relayStarted(side, relayed.description);
  const request = createInDialogRequest(there.dialog, method, {
    body,
    contentType: 'application/sdp',
    headers: [['User-Agent', ctx.userAgent]],
  });
  const requestSeq = cseqOf(request).seq;
  let done = false;
  ctx.out.send(request, there.destination, {
    onResponse: (response) => {
      if (response.status < 200) return;
      if (method === 'INVITE' && response.status < 300) {
        // Every 2xx is ACKed, a retransmitted one too (§13.2.2.4).
        ctx.out.sendDirect(createAck(there.dialog, requestSeq), there.destination);
      }
      if (done) return;
      done = true;
      call.relayDone();
      if (response.status >= 300) {
        reply(response.status);
        return;
      }
      refreshRemoteTarget(there.dialog, response);
      const answered = applyRelayedAnswer(call, side, offer, relayed, response, ctx);
      if (answered === undefined) {
        reply(488);
        return;
      }
      // RFC 3264 §8: the offerer may send in the new format as soon as it has our answer, so
      // the legs take the new codecs before the answer leaves, not after.
      inBackground(
        answered.applied.then(() => accept(answered.body)),
        ctx.logger,
        'answering a relayed offer failed',
      );
    },
    onFailure: (status) => {
      if (done) return;
      done = true;
      call.relayDone();
      reply(status === 408 ? 408 : 500);
    },
  });
}

/**
 * The other side's answer to our relayed offer: our answer to `side`, and the media update
 * of both legs (`applied` settles when the engine has it; a failure is logged, the
 * negotiated session stands).
 */
function applyRelayedAnswer(
  call: Call,
  side: Side,
  offer: SdpSession,
  relayed: RelayedOffer,
  response: SipResponse,
  ctx: CallContext,
): { body: string; applied: Promise<void> } | undefined {
  const answer = parseSdp(response.body);
  const result = answer.ok
    ? relayAnswer(relayed, answer.session, {
        address: ctx.mediaAddress,
        port: call.media.localPort(side),
        webrtc: call.media.webRtcIdentity(side, ctx.mediaAddress),
      })
    : answer;
  if (!result.ok || !answer.ok) {
    ctx.logger.info({ reason: result.ok ? '' : result.reason }, 'relayed answer unusable');
    return undefined;
  }
  const body = call.answerRelayed(side, offer, answer.session, result.description);
  const applied = Promise.all([
    call.media.apply(side, result.offerer),
    call.media.apply(other(side), result.answerer),
  ]).then(
    () => undefined,
    (err: unknown) => ctx.logger.warn({ err }, 'offer/answer media update failed'),
  );
  return { body, applied };
}

/**
 * The ACK to our 2xx that carried an offer (offerless re-INVITE): its answer sets that
 * side's leg. Without a usable answer the session stays as it was (logged).
 */
function applyAckAnswer(call: Call, side: Side, ack: SipRequest, ctx: CallContext): void {
  const sent = call.local[side].description;
  const parsed = ack.body.length === 0 ? undefined : parseSdp(ack.body);
  if (parsed === undefined || !parsed.ok || sent === undefined) {
    ctx.logger.warn(
      { side, reason: parsed === undefined || parsed.ok ? 'no SDP' : parsed.reason },
      'no usable answer in the ACK of an offerless re-INVITE',
    );
    return;
  }
  const leg = answeredLeg(sent, parsed.session);
  if (!leg.ok) {
    ctx.logger.warn({ side, reason: leg.reason }, 'answer in the ACK unusable');
    return;
  }
  call.ackAnswered(side, parsed.session);
  call.media
    .apply(side, leg.leg)
    .catch((err: unknown) => ctx.logger.warn({ err }, 'ACK answer media update failed'));
}
