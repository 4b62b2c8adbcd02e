/**
 * One supervisor monitoring one call: the supervisor's own SIP dialog, which ends at the
 * server (we are its UAS: the INVITE that dialled the feature code), and the supervisor's
 * media leg in the monitored call's room. The monitoring service (monitoringService.ts)
 * decides modes; this file does the SIP and keeps the session's history.
 *
 * In the dialog: BYE ends the session; a re-INVITE is answered with our current SDP (its
 * new address, codec and direction applied); INFO with DTMF (application/dtmf-relay)
 * steers like RFC 4733 digits; UPDATE, OPTIONS → 200. Our 2xx to the INVITE is
 * retransmitted until the ACK (RFC 3261 §13.3.1.4); without one after 64·T1 the session
 * ends with a BYE.
 */
import {
  buildDialogResponse,
  checkRemoteCSeq,
  createInDialogRequest,
  refreshRemoteTarget,
  terminateDialog,
  type Dialog,
} from '../../sip/dialog/index.js';
import type { SipRequest } from '../../sip/message/index.js';
import { parseSdp, renderLocalSdp, sdpWarning, type LocalSdp } from '../../sip/sdp/index.js';
import { answerOffer } from '../../sip/sdp/localAnswer.js';
import type { IncomingRequest } from '../../sip/stack.js';
import type { Endpoint } from '../../sip/transport/types.js';
import type { Leg } from '../../media/engine/index.js';
import type { MonitorMode } from './modes.js';
import { applyLegMedia, webRtcIdentityOf } from '../calls/callMedia.js';
import type { CallContext } from '../calls/call.js';
import type { Reliable2xx } from '../calls/reliable2xx.js';
import { digitOfInfo } from './featureCodes.js';

export type MonitorEndReason =
  | 'supervisor-hangup'
  | 'call-ended'
  /** The agent transferred the call away (REFER): the call goes on without them. */
  | 'agent-transferred'
  | 'no-ack'
  | 'media-timeout'
  | 'server-shutdown'
  /** Stopped through the API. */
  | 'stopped'
  /** The API rang the supervisor's phone: nobody answered (or it declined). */
  | 'no-answer'
  | 'media-failed'
  /** The supervisor's connection closed (a browser's WebSocket, RFC 7118). */
  | 'connection-lost'
  /** The supervisor answered another call on their phone (call waiting). */
  | 'supervisor-answered-call';

/** What started or steered a session. */
export type MonitorTrigger = 'feature-code' | 'dtmf' | 'api' | 'yeastar' | 'cti';

export interface MonitorSessionRecord {
  id: string;
  callId: string;
  supervisor: string;
  agent: string;
  /** Every mode the session was in, with when it started (clock ms). */
  modes: Array<{ mode: MonitorMode; at: number }>;
  startedAt: number;
  /** calling: the API is ringing the supervisor's phone; active: in the call's room. */
  state: 'calling' | 'active' | 'ended';
  trigger: MonitorTrigger;
  /** Who started it: an extension, or an API token's name. */
  actor: string | null;
  /** An agent invited into the call as a third party (not a supervisor). */
  invited?: boolean;
  endedAt?: number;
  endReason?: MonitorEndReason;
}

export interface MonitorSessionHooks {
  /** A steering digit from the supervisor (RFC 4733 via the leg, or SIP INFO). */
  digit(session: MonitorSession, digit: string): void;
  /** The supervisor hung up, or the session failed: the service cleans up. */
  ended(session: MonitorSession, reason: MonitorEndReason): void;
}

export class MonitorSession {
  readonly destination: Endpoint;
  reliable: Reliable2xx | undefined;
  private ending = false;

  constructor(
    readonly record: MonitorSessionRecord,
    readonly dialog: Dialog,
    readonly leg: Leg,
    public local: LocalSdp,
    source: Endpoint,
    private readonly ctx: CallContext,
    private readonly hooks: MonitorSessionHooks,
  ) {
    this.destination = { protocol: source.protocol, address: source.address, port: source.port };
    leg.on('dtmf', (e) => hooks.digit(this, e.digit));
    leg.on('rtpTimeout', () => hooks.ended(this, 'media-timeout'));
    // A browser supervisor's DTLS failed: its media is over.
    leg.on('secure', (e) => {
      if (e.state === 'failed') hooks.ended(this, 'media-failed');
    });
  }

  get mode(): MonitorMode {
    return this.record.modes[this.record.modes.length - 1]!.mode;
  }

  /** Records a mode change (the service has applied it to the room). */
  enter(mode: MonitorMode): void {
    this.record.modes.push({ mode, at: this.ctx.clock.now() });
  }

  onAck(): void {
    this.reliable?.stop();
    this.reliable = undefined;
  }

  /** A request inside the supervisor's dialog. */
  onRequest(incoming: IncomingRequest): void {
    const { request } = incoming;
    const reply = (status: number, body?: string, warning?: string): void =>
      incoming.respond(
        buildDialogResponse(request, status, this.dialog, {
          headers: [
            ['Server', this.ctx.userAgent],
            ...(warning !== undefined ? [['Warning', warning] as [string, string]] : []),
          ],
          ...(body !== undefined ? { body, contentType: 'application/sdp' } : {}),
        }),
      );
    if (this.dialog.state === 'terminated') {
      reply(481);
      return;
    }
    const seq = checkRemoteCSeq(this.dialog, request);
    if (!seq.ok) {
      reply(seq.status ?? 500);
      return;
    }
    switch (request.method) {
      case 'BYE':
        reply(200);
        terminateDialog(this.dialog);
        this.hooks.ended(this, 'supervisor-hangup');
        return;
      case 'INVITE':
        this.reInvite(request, reply);
        return;
      case 'INFO': {
        reply(200);
        const digit = digitOfInfo(
          request.headers.get('Content-Type'),
          request.body.toString('utf8'),
        );
        if (digit !== undefined) this.hooks.digit(this, digit);
        return;
      }
      default:
        refreshRemoteTarget(this.dialog, request);
        reply(
          200,
          request.method === 'UPDATE' && request.body.length > 0 ? this.local.body : undefined,
        );
    }
  }

  /** Ends the supervisor's dialog with a BYE (unless they hung up) and closes the leg. */
  async end(): Promise<void> {
    if (this.ending) return;
    this.ending = true;
    this.reliable?.stop();
    await Promise.all([sendBye(this.ctx, this.dialog, this.destination), this.leg.close()]);
  }

  private reInvite(
    request: SipRequest,
    reply: (status: number, body?: string, warning?: string) => void,
  ): void {
    const refreshed = refreshRemoteTarget(this.dialog, request);
    if (!refreshed.ok) return reply(refreshed.status ?? 400);
    if (request.body.length === 0) return reply(200, this.local.body);
    const parsed = parseSdp(request.body);
    // RFC 3261 §21.4.26 / §20.43: say why (the session goes on unchanged, §14.2).
    if (!parsed.ok) return reply(488, undefined, sdpWarning(parsed, this.ctx.userAgent));
    const answer = answerOffer(
      parsed.session,
      {
        address: this.ctx.mediaAddress,
        port: this.leg.localPort,
        webrtc: webRtcIdentityOf(this.leg, this.ctx.mediaAddress),
      },
      this.ctx.policy,
    );
    if (!answer.ok) return reply(488, undefined, sdpWarning(answer, this.ctx.userAgent));
    this.local = renderLocalSdp(this.local, answer.description);
    applyLegMedia(this.leg, answer.leg).catch((err: unknown) =>
      this.ctx.logger.warn({ err }, 'monitor re-INVITE media update failed'),
    );
    reply(200, this.local.body);
  }
}

/**
 * Ends a supervisor's dialog with a BYE unless it is already over; settles on the BYE's
 * final answer or its failure (Timer F), never rejects.
 */
export function sendBye(ctx: CallContext, dialog: Dialog, destination: Endpoint): Promise<void> {
  if (dialog.state === 'terminated') return Promise.resolve();
  return new Promise<void>((resolve) => {
    const request = createInDialogRequest(dialog, 'BYE', {
      headers: [['User-Agent', ctx.userAgent]],
    });
    terminateDialog(dialog);
    ctx.out.send(request, destination, {
      onResponse: (r) => {
        if (r.status >= 200) resolve();
      },
      onFailure: () => resolve(),
    });
  });
}
