/**
 * Requests inside a call's dialogs (RFC 3261 §12.2.2), from either side:
 * - BYE → 200, and the call ends (the other side gets a BYE, §15.1.2);
 * - re-INVITE → relayed to the other side as our own re-INVITE (hold/resume, RFC 3264
 *   §8.4), its answer relayed back; 491 when another INVITE is in progress in the call
 *   (§14.2 glare); without SDP or with the same SDP version (a session refresh, RFC
 *   4028) it is answered at once with our current SDP, nothing relayed;
 * - UPDATE (RFC 3311) → 200, with our current SDP when it carried one (session refresh;
 *   a real media change by UPDATE is not relayed yet);
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
import { buildResponse, cseqOf } from '../../sip/message/index.js';
import {
  isSameSdpVersion,
  parseSdp,
  relayAnswer,
  relayOffer,
  renderLocalSdp,
} from '../../sip/sdp/index.js';
import type { IncomingRequest } from '../../sip/stack.js';
import type { Call, CallContext } from './call.js';
import type { Side } from './callMedia.js';

const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

export function handleInDialog(
  call: Call,
  side: Side,
  incoming: IncomingRequest,
  ctx: CallContext,
): void {
  const { request } = incoming;
  const here = call.sideOf(side);
  const reply = (
    status: number,
    dialog: Dialog | undefined,
    body?: string,
    extra: Array<[string, string]> = [],
  ) => {
    const headers: Array<[string, string]> = [['Server', ctx.userAgent], ...extra];
    incoming.respond(
      dialog === undefined
        ? buildResponse(request, status, { headers })
        : buildDialogResponse(request, status, dialog, {
            headers,
            ...(body !== undefined ? { body, contentType: 'application/sdp' } : {}),
          }),
    );
  };
  if (here === undefined || here.dialog.state === 'terminated') {
    reply(481, undefined);
    return;
  }
  const { dialog } = here;
  const seq = checkRemoteCSeq(dialog, request);
  if (!seq.ok) {
    reply(seq.status ?? 500, dialog);
    return;
  }
  switch (request.method) {
    case 'BYE':
      reply(200, dialog);
      call.hangupBy(side);
      return;
    case 'INVITE':
      reInvite(call, side, incoming, ctx, (status, body, extra) =>
        reply(status, dialog, body, extra),
      );
      return;
    case 'UPDATE': {
      const refreshed = refreshRemoteTarget(dialog, request);
      if (!refreshed.ok) return reply(refreshed.status ?? 400, dialog);
      reply(200, dialog, request.body.length > 0 ? call.local[side].body : undefined);
      return;
    }
    default:
      reply(200, dialog);
  }
}

type Reply = (status: number, body?: string, extra?: Array<[string, string]>) => void;

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
  if (call.state !== 'answered' || here === undefined || there === undefined) {
    reply(491);
    return;
  }
  const verdict = checkIncomingReInvite(
    { sending: call.reInviteFrom === other(side), receiving: call.reInviteFrom === side },
    Math.random,
  );
  if (!verdict.accept) {
    const retry: Array<[string, string]> =
      verdict.status === 500 ? [['Retry-After', String(verdict.retryAfter)]] : [];
    reply(verdict.status, undefined, retry);
    return;
  }
  const refreshed = refreshRemoteTarget(here.dialog, request);
  if (!refreshed.ok) return reply(refreshed.status ?? 400);
  if (request.body.length === 0) {
    // An offerless re-INVITE: our current SDP is the offer, the ACK carries the answer
    // (RFC 3264 §8, session refresh). The answer in the ACK is not applied yet.
    reply(200, call.local[side].body);
    return;
  }
  const parsed = parseSdp(request.body);
  if (!parsed.ok) return reply(488, undefined, [['Warning', `399 callwatch "${parsed.reason}"`]]);
  const previous = call.remote[side];
  if (previous !== undefined && isSameSdpVersion(previous.origin, parsed.session.origin)) {
    reply(200, call.local[side].body);
    return;
  }
  const relayed = relayOffer(
    parsed.session,
    { address: ctx.mediaAddress, port: call.media.localPort(other(side)) },
    ctx.policy,
  );
  if (!relayed.ok) return reply(488, undefined, [['Warning', `399 callwatch "${relayed.reason}"`]]);
  call.reInviteFrom = side;
  call.local[other(side)] = renderLocalSdp(call.local[other(side)], relayed.description);
  const offer = createInDialogRequest(there.dialog, 'INVITE', {
    body: call.local[other(side)].body as string,
    contentType: 'application/sdp',
    headers: [['User-Agent', ctx.userAgent]],
  });
  const offerSeq = cseqOf(offer).seq;
  let done = false;
  ctx.out.send(offer, there.destination, {
    onResponse: (response) => {
      if (response.status < 200) return;
      if (response.status < 300) {
        const ack = createAck(there.dialog, offerSeq);
        ctx.out.sendDirect(ack, there.destination);
      }
      if (done) return;
      done = true;
      call.reInviteFrom = undefined;
      if (response.status >= 300) {
        reply(response.status);
        return;
      }
      refreshRemoteTarget(there.dialog, response);
      const answer = parseSdp(response.body);
      const result = answer.ok
        ? relayAnswer(relayed, answer.session, {
            address: ctx.mediaAddress,
            port: call.media.localPort(side),
          })
        : answer;
      if (!result.ok) {
        reply(488);
        return;
      }
      call.remote[side] = parsed.session;
      if (answer.ok) call.remote[other(side)] = answer.session;
      call.local[side] = renderLocalSdp(call.local[side], result.description);
      void Promise.all([
        call.media.apply(side, result.offerer),
        call.media.apply(other(side), result.answerer),
      ]).catch((err: unknown) => ctx.logger.warn({ err }, 're-INVITE media update failed'));
      reply(200, call.local[side].body);
    },
    onFailure: (status) => {
      if (done) return;
      done = true;
      call.reInviteFrom = undefined;
      reply(status === 408 ? 408 : 500);
    },
  });
}
