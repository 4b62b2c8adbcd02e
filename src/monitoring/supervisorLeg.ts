/**
 * The two ways a supervisor's phone gets its media leg into a monitored call:
 *
 * - answerMonitorInvite: the supervisor dialled a feature code. We are the UAS: their
 *   offer is answered by us (sip/sdp/localAnswer.ts), our 200 retransmitted until the ACK.
 * - callSupervisor: the REST API asked. We are the UAC: we INVITE every registered
 *   contact of the supervisor with our own offer and the auto-answer headers phones know
 *   (`Call-Info: <…>;answer-after=0`, `Alert-Info: <…>;info=alert-autoanswer`); the first
 *   2xx wins, the other branches are cancelled. A phone that does not auto-answer rings,
 *   and the session attaches when it is answered. Browser contacts are offered WebRTC,
 *   the others plain RTP, each kind on a leg of its own; the answer keeps its kind's leg
 *   and the other closes (docs/architecture.md §3.2.2).
 *
 * Either way the result is a confirmed dialog with the supervisor, where to send its
 * in-dialog requests, the leg (created in the call's room's worker), and our SDP.
 */
import {
  buildDialogResponse,
  confirmDialog,
  dialogFromUasRequest,
  type Dialog,
} from '../../sip/dialog/index.js';
import type { SipResponse } from '../../sip/message/index.js';
import { newCallId, newTag } from '../../sip/ids.js';
import {
  answeredLeg,
  buildSdp,
  createLocalSdp,
  ownOffer,
  parseSdp,
  renderLocalSdp,
  type LocalSdp,
  type SdpDescription,
} from '../../sip/sdp/index.js';
import { answerOffer } from '../../sip/sdp/localAnswer.js';
import type { IncomingRequest } from '../../sip/stack.js';
import type { Endpoint } from '../../sip/transport/types.js';
import type { Leg } from '../../media/engine/index.js';
import type { CallContext } from '../calls/call.js';
import {
  applyLegMedia,
  legWebRtcIdentity,
  type CallMedia,
  type LegSecurity,
} from '../calls/callMedia.js';
import { anchorOf, contactKind, legPlan, type AnchorKind } from '../calls/contactKind.js';
import { Fork } from '../calls/fork.js';
import { buildOutboundInvite } from '../calls/outboundInvite.js';
import { Reliable2xx } from '../calls/reliable2xx.js';
import { inBackground } from '../util/background.js';
import { sendBye } from './monitorSession.js';
import { MonitorRefusal } from './refusals.js';

export interface SupervisorLeg {
  dialog: Dialog;
  destination: Endpoint;
  leg: Leg;
  local: LocalSdp;
  /** Retransmits our 2xx until the ACK (UAS side only). */
  reliable?: Reliable2xx;
}

/** Our offer to the supervisor's contacts of one kind, on its own leg. */
interface MonitorOffer {
  leg: Leg;
  security: LegSecurity | undefined;
  description: SdpDescription;
  local: LocalSdp;
  sdp: string;
}

/** A registered contact of the supervisor. */
export interface Binding {
  uri: string;
  source: Endpoint;
}

function newLocalSdp(): LocalSdp {
  return createLocalSdp({
    username: 'callwatch',
    sessionId: Math.floor(Math.random() * 1e12),
    sessionVersion: 1,
  });
}

/**
 * Answers the supervisor's feature-code INVITE (before `respond` is called, the caller
 * has accepted the request). Throws MonitorRefusal('media-failed') for an unusable offer;
 * the leg is closed on any failure.
 */
export async function answerMonitorInvite(
  incoming: IncomingRequest,
  media: CallMedia,
  ctx: CallContext,
  contact: string,
): Promise<SupervisorLeg & { respond(onNoAck: () => void): Reliable2xx }> {
  const { request, source } = incoming;
  const parsed = request.body.length === 0 ? undefined : parseSdp(request.body);
  if (parsed === undefined || !parsed.ok) {
    throw new MonitorRefusal('media-failed', 'the INVITE carries no usable SDP offer');
  }
  const leg = await media.createMonitorLeg();
  try {
    // A browser supervisor offers WebRTC (docs/architecture.md §3.2.2).
    const security =
      parsed.session.audio.webrtc === undefined ? undefined : await media.webRtcMonitorLeg(leg);
    const answer = answerOffer(
      parsed.session,
      {
        address: ctx.mediaAddress,
        port: leg.localPort,
        ...(security !== undefined
          ? { webrtc: legWebRtcIdentity(leg, security, ctx.mediaAddress) }
          : {}),
      },
      ctx.policy,
    );
    if (!answer.ok) throw new MonitorRefusal('media-failed', answer.reason);
    const made = dialogFromUasRequest(request, {
      localTag: newTag(),
      localContact: `<${contact}>`,
    });
    if (!made.ok) throw new MonitorRefusal('media-failed', made.reason);
    await applyLegMedia(leg, answer.leg, security);
    const local = renderLocalSdp(newLocalSdp(), answer.description);
    const dialog = made.dialog;
    const destination = { protocol: source.protocol, address: source.address, port: source.port };
    return {
      dialog,
      destination,
      leg,
      local,
      respond: (onNoAck) => {
        confirmDialog(dialog); // the UAS side confirms when it sends its 2xx (§12.1.1)
        const ok = buildDialogResponse(request, 200, dialog, {
          headers: [['Server', ctx.userAgent]],
          body: local.body as string,
          contentType: 'application/sdp',
        });
        incoming.respond(ok);
        return new Reliable2xx(incoming.transaction, ok, ctx.clock, ctx.timers, onNoAck);
      },
    };
  } catch (err) {
    await leg.close();
    throw err;
  }
}

export interface CallSupervisorOptions {
  supervisor: string;
  displayName: string;
  bindings: readonly Binding[];
  media: CallMedia;
  ctx: CallContext;
  contact(endpoint: Endpoint): string;
  /** Our sent-by host, for the From URI. */
  host: string;
  /** Ring this long before giving up (ms). */
  ringMs: number;
}

/**
 * Calls the supervisor's phone(s). Resolves with the leg once a phone answers; rejects
 * with MonitorRefusal('media-failed') when none does (busy, declined, no answer within
 * ringMs, unusable answer). `cancel()` gives up early (the session was stopped).
 */
export function callSupervisor(o: CallSupervisorOptions): {
  answered: Promise<SupervisorLeg>;
  cancel(): void;
} {
  let forks: Fork[] = [];
  let settled = false;
  let cancelled = false;
  let timer: { cancel(): void } | undefined;
  let abort: ((reason: string) => void) | undefined;
  const answered = (async () => {
    // Each contact is offered by its kind (docs/architecture.md §3.2.2): browsers WebRTC,
    // phones plain RTP; with both, one leg of each waits and the answer keeps its own.
    const plan = legPlan(o.bindings.map((b) => b.uri));
    const anchors: AnchorKind[] = plan.webRtcCandidate ? ['plain', 'webrtc'] : [plan.leg];
    const offers = new Map<AnchorKind, MonitorOffer>();
    const legs: Leg[] = [];
    const closeLegs = (keep?: Leg) =>
      Promise.all(legs.filter((l) => l !== keep).map((l) => l.close()));
    try {
      for (const anchor of anchors) {
        const leg = await o.media.createMonitorLeg();
        legs.push(leg);
        if (cancelled) throw new MonitorRefusal('media-failed', 'the monitor session was stopped');
        const security = anchor === 'webrtc' ? await o.media.webRtcMonitorLeg(leg) : undefined;
        const description = ownOffer(
          {
            address: o.ctx.mediaAddress,
            port: leg.localPort,
            ...(security !== undefined
              ? { webrtc: legWebRtcIdentity(leg, security, o.ctx.mediaAddress) }
              : {}),
          },
          o.ctx.policy,
        );
        const local = renderLocalSdp(newLocalSdp(), description);
        const sdp = buildSdp({ ...description, origin: local.origin });
        offers.set(anchor, { leg, security, description, local, sdp });
      }
    } catch (err) {
      await closeLegs();
      throw err;
    }
    const offerOf = new Map<Fork, MonitorOffer>();
    try {
      return await new Promise<SupervisorLeg>((resolve, reject) => {
        let failures = 0;
        const fail = (reason: string) => {
          if (settled) return;
          settled = true;
          timer?.cancel();
          for (const f of forks) f.cancel();
          reject(new MonitorRefusal('media-failed', reason));
        };
        abort = fail;
        const onAnswer = (fork: Fork, response: SipResponse): boolean => {
          if (settled) return false;
          const offer = offerOf.get(fork) as MonitorOffer;
          const parsed = parseSdp(response.body);
          const media = parsed.ok ? answeredLeg(offer.description, parsed.session) : parsed;
          if (!media.ok || fork.dialog === undefined) {
            fail(`the monitor's phone answered without usable SDP`);
            return false;
          }
          settled = true;
          timer?.cancel();
          for (const f of forks) if (f !== fork) f.cancel();
          const dialog = fork.dialog;
          // The answering contact's leg stays; the other kind's closes.
          Promise.all([applyLegMedia(offer.leg, media.leg, offer.security), closeLegs(offer.leg)])
            .then(() =>
              resolve({
                dialog,
                destination: fork.destination,
                leg: offer.leg,
                local: offer.local,
              }),
            )
            .catch((err: unknown) => {
              // The phone is in a dialog with us: end it, not only the media.
              inBackground(
                sendBye(o.ctx, dialog, fork.destination),
                o.ctx.logger,
                'ending the monitor dialog failed',
              );
              reject(err instanceof Error ? err : new Error(String(err)));
            });
          return true;
        };
        const callId = newCallId();
        const fromTag = newTag();
        forks = o.bindings.map((b) => {
          const offer = (offers.get(anchorOf(contactKind(b.uri))) ??
            offers.get(plan.leg)) as MonitorOffer;
          const invite = buildOutboundInvite({
            requestUri: b.uri,
            from: { uri: `sip:monitor@${o.host}`, displayName: 'Monitoring', tag: fromTag },
            to: { uri: `sip:${o.supervisor}@${o.host}`, displayName: o.displayName },
            callId,
            cseq: 1,
            contact: o.contact(b.source),
            maxForwards: 70,
            sdp: offer.sdp,
            userAgent: o.ctx.userAgent,
          });
          // Auto-answer: RFC 5373-era Call-Info (Polycom, Yealink, Snom, baresip) and the
          // Alert-Info convention (Cisco, Grandstream).
          invite.headers.append('Call-Info', `<sip:${o.host}>;answer-after=0`);
          invite.headers.append('Alert-Info', `<http://${o.host}/>;info=alert-autoanswer`);
          const fork = new Fork(
            invite,
            b.source,
            o.ctx.out,
            {
              onProvisional: () => {},
              onAnswer,
              onFailure: (_f, status, reason) => {
                if (++failures === forks.length) fail(`${status} ${reason}`);
              },
            },
            o.ctx.logger,
          );
          offerOf.set(fork, offer);
          return fork;
        });
        if (forks.length === 0) {
          fail('no registered phone');
          return;
        }
        timer = o.ctx.clock.setTimer(o.ringMs, () => fail('no answer'));
        if (cancelled) fail('the monitor session was stopped');
        for (const f of forks) f.start();
      });
    } catch (err) {
      await closeLegs();
      throw err;
    }
  })();
  return {
    answered,
    cancel() {
      cancelled = true;
      abort?.('the monitor session was stopped');
    },
  };
}
