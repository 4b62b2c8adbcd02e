/**
 * Monitoring (DESIGN §1, §4): a supervisor joins an agent's live call in one of four
 * modes and switches between them live. Every trigger reaches this service: a feature
 * code dialled from the supervisor's phone (`*90<ext>` …, featureCodes.ts), an in-call
 * digit from that phone (4/5/6 and the takeover digit; consumed by the media engine,
 * never forwarded into the call), and later the REST API.
 *
 * Start (the supervisor's INVITE to a feature code), each refusal final:
 *   monitoring disabled, or the caller is not a supervisor → 403;
 *   the target is not an extension → 404; it is the supervisor's own → 403;
 *   the target is monitoring a call itself → 403; the supervisor already is → 486;
 *   the target is in no answered call → 480; the call is full (maxParticipants) → 486;
 *   the call was taken over already → 403; no acceptable SDP offer → 488.
 * Then a monitor leg is created in the call's room (same worker), our answer goes in a
 * 200, and the room is told the mode (applied on the next frame).
 *
 * Modes: listen / whisper / barge change freely; takeover is one-way — the agent's leg
 * is released with a BYE, the supervisor becomes the call's agent (for routing and the
 * recording), and no other mode can be chosen afterwards. Tones (config, both optional):
 * a beep to the agent when a monitor joins or changes mode (never on takeover: the agent
 * is gone), an entry tone to everyone on barge; nothing is ever played to the customer
 * for listen or whisper.
 *
 * End: the supervisor hangs up (after a takeover that ends the call), or the call ends
 * (the supervisor gets a BYE). Each session's record (modes with times) stays with the
 * call for its recording's sidecar until the call is gone.
 */
import type { MonitorMode, ToneConfig } from '../../media/engine/index.js';
import {
  buildDialogResponse,
  confirmDialog,
  dialogFromUasRequest,
  dialogKey,
} from '../../sip/dialog/index.js';
import { buildResponse, type SipRequest } from '../../sip/message/index.js';
import { newTag } from '../../sip/ids.js';
import { createLocalSdp, parseSdp, renderLocalSdp } from '../../sip/sdp/index.js';
import { answerOffer } from '../../sip/sdp/localAnswer.js';
import type { IncomingRequest } from '../../sip/stack.js';
import { TypedEmitter } from '../../sip/util/typedEmitter.js';
import type { CallContext } from '../calls/call.js';
import { applyLegMedia, type CallMedia, type Side } from '../calls/callMedia.js';
import { Reliable2xx } from '../calls/reliable2xx.js';
import type { Config, ExtensionConfig } from '../config/schema.js';
import { modeOfDigit, parseFeatureCode } from './featureCodes.js';
import {
  MonitorSession,
  type MonitorEndReason,
  type MonitorSessionRecord,
} from './monitorSession.js';

/** What monitoring needs of a live call (CallService implements it). */
export interface MonitorableCall {
  readonly id: string;
  readonly media: CallMedia;
  /** Releases one side with a BYE; the call goes on without it (takeover). */
  release(side: Side): void;
  /** Ends the call: the supervisor who took it over hung up. */
  hangUpAfterTakeover(): void;
}

export interface CallDirectory {
  /** The answered call `extension` is in, and its side, if any. */
  answeredCallOf(extension: string): { call: MonitorableCall; side: Side } | undefined;
  /** Routes in-dialog requests and ACKs of `dialog` to `handler` until unregistered. */
  registerDialog(key: string, handler: DialogHandler): void;
  unregisterDialog(key: string): void;
}

export interface DialogHandler {
  onRequest(incoming: IncomingRequest): void;
  onAck(request: SipRequest): void;
}

export type MonitoringEvents = {
  started: [MonitorSessionRecord];
  modeChanged: [MonitorSessionRecord, from: MonitorMode];
  ended: [MonitorSessionRecord];
};

export interface MonitoringDeps {
  config: Config;
  calls: CallDirectory;
  /** The SIP context of the supervisor's dialog (timers, SipOut, SDP policy, logger). */
  context(id: string): CallContext;
  contact(source: IncomingRequest['source']): string;
}

interface CallMonitoring {
  call: MonitorableCall;
  agent: string;
  agentSide: Side;
  sessions: Set<MonitorSession>;
  takenOver: boolean;
  /** Every session of the call, ended ones included (the recording's sidecar). */
  history: MonitorSessionRecord[];
}

export class MonitoringService extends TypedEmitter<MonitoringEvents> {
  private readonly byCall = new Map<string, CallMonitoring>();
  private readonly extensions: Map<string, ExtensionConfig>;
  private nextId = 1;

  constructor(private readonly deps: MonitoringDeps) {
    super((err, event) =>
      deps.context('monitoring').logger.error({ err, event }, 'listener failed'),
    );
    this.extensions = new Map(deps.config.extensions.map((e) => [e.number, e]));
  }

  /** Sessions running now. */
  get active(): MonitorSessionRecord[] {
    return [...this.byCall.values()].flatMap((m) => [...m.sessions].map((s) => s.record));
  }

  /** Every session a call had (for its recording sidecar). */
  historyOf(callId: string): MonitorSessionRecord[] {
    return this.byCall.get(callId)?.history ?? [];
  }

  /**
   * An INVITE from an authenticated extension to `dialled`: true when it is a feature
   * code (this service answers it), false when it is an ordinary call.
   */
  tryInvite(incoming: IncomingRequest, caller: string, dialled: string): boolean {
    const { monitoring } = this.deps.config;
    const request = parseFeatureCode(dialled, monitoring.featureCodes);
    if (request === undefined) return false;
    const reject = (status: number, reason: string): true => {
      incoming.respond(
        buildResponse(incoming.request, status, {
          toTag: newTag(),
          reason,
          headers: [['Server', this.deps.config.sip.userAgent]],
        }),
      );
      return true;
    };
    if (!monitoring.enabled) return reject(403, 'Monitoring Disabled');
    if (this.extensions.get(caller)?.role !== 'supervisor') return reject(403, 'Not A Supervisor');
    if (!this.extensions.has(request.target)) return reject(404, 'No Such Extension');
    if (request.target === caller) return reject(403, 'Cannot Monitor Yourself');
    // DESIGN §4: a monitor leg is never itself monitored, and a monitor must not be busy.
    const sessions = this.active;
    if (sessions.some((s) => s.supervisor === request.target)) {
      return reject(403, 'Extension Is Monitoring');
    }
    if (sessions.some((s) => s.supervisor === caller)) return reject(486, 'Already Monitoring');
    const found = this.deps.calls.answeredCallOf(request.target);
    if (found === undefined) return reject(480, 'Extension Not In A Call');
    const entry = this.entryFor(found.call, request.target, found.side);
    if (entry.takenOver) return reject(403, 'Call Taken Over');
    // Customer + agent + the monitors already there + this one.
    if (2 + entry.sessions.size + 1 > monitoring.maxParticipants) {
      return reject(486, 'Call Has Maximum Participants');
    }
    void this.start(incoming, caller, entry, request.mode).catch((err: unknown) => {
      this.deps.context(found.call.id).logger.error({ err }, 'monitoring start failed');
      if ((incoming.transaction.lastResponse?.status ?? 0) < 200) reject(500, 'Server Error');
    });
    return true;
  }

  /** Ends every session (server shutdown). */
  async close(): Promise<void> {
    const all = [...this.byCall.values()].flatMap((m) => [...m.sessions]);
    await Promise.all(all.map((s) => this.endSession(s, 'server-shutdown')));
  }

  /** The call ended: its supervisors get a BYE. Call after the call is gone. */
  async callEnded(callId: string): Promise<void> {
    const entry = this.byCall.get(callId);
    if (entry === undefined) return;
    await Promise.all([...entry.sessions].map((s) => this.endSession(s, 'call-ended')));
    this.byCall.delete(callId);
  }

  private entryFor(call: MonitorableCall, agent: string, agentSide: Side): CallMonitoring {
    let entry = this.byCall.get(call.id);
    if (entry === undefined) {
      entry = { call, agent, agentSide, sessions: new Set(), takenOver: false, history: [] };
      this.byCall.set(call.id, entry);
    }
    return entry;
  }

  private async start(
    incoming: IncomingRequest,
    supervisor: string,
    entry: CallMonitoring,
    mode: MonitorMode,
  ): Promise<void> {
    const { request, source } = incoming;
    const ctx = this.deps.context(entry.call.id);
    const reply = (status: number, reason?: string): void =>
      incoming.respond(
        buildResponse(request, status, {
          toTag: newTag(),
          ...(reason !== undefined ? { reason } : {}),
          headers: [['Server', ctx.userAgent]],
        }),
      );
    const parsed = request.body.length === 0 ? undefined : parseSdp(request.body);
    if (parsed === undefined || !parsed.ok) {
      return reply(488, parsed === undefined ? 'Offer Required' : 'Bad SDP');
    }
    const { media } = entry.call;
    // The monitored extension is the agent (in an internal call either side may be).
    if (media.roleOf(entry.agentSide) !== 'agent') {
      await media.setRoles(
        entry.agentSide === 'a' ? { a: 'agent', b: 'customer' } : { a: 'customer', b: 'agent' },
      );
    }
    const leg = await media.createMonitorLeg();
    const answer = answerOffer(
      parsed.session,
      { address: ctx.mediaAddress, port: leg.localPort },
      ctx.policy,
    );
    if (!answer.ok) {
      await leg.close();
      return reply(488, 'Not Acceptable Here');
    }
    const made = dialogFromUasRequest(request, {
      localTag: newTag(),
      localContact: `<${this.deps.contact(source)}>`,
    });
    // The call may have ended meanwhile (its media closing). Its media may also not be
    // connected yet, just after the answer: the monitor then joins when it connects.
    if (!made.ok || incoming.transaction.state === 'terminated' || media.ended !== undefined) {
      await leg.close();
      return reply(made.ok ? 480 : 400);
    }
    await applyLegMedia(leg, answer.leg);
    const local = renderLocalSdp(
      createLocalSdp({
        username: 'callwatch',
        sessionId: Math.floor(Math.random() * 1e12),
        sessionVersion: 1,
      }),
      answer.description,
    );
    const record: MonitorSessionRecord = {
      id: `m${this.nextId++}`,
      callId: entry.call.id,
      supervisor,
      agent: entry.agent,
      modes: [{ mode, at: ctx.clock.now() }],
      startedAt: ctx.clock.now(),
    };
    const session = new MonitorSession(record, made.dialog, leg, local, source, ctx, {
      digit: (s, digit) => this.onDigit(s, digit),
      ended: (s, reason) => void this.endSession(s, reason),
    });
    entry.sessions.add(session);
    entry.history.push(record);
    const key = dialogKey(made.dialog.id);
    this.deps.calls.registerDialog(key, {
      onRequest: (r) => session.onRequest(r),
      onAck: () => session.onAck(),
    });
    try {
      await this.applyMode(entry, session, mode, true);
    } catch (err) {
      entry.sessions.delete(session);
      this.deps.calls.unregisterDialog(key);
      await leg.close();
      throw err;
    }
    confirmDialog(made.dialog); // the UAS side confirms when it sends its 2xx (§12.1.1)
    const ok = buildDialogResponse(request, 200, made.dialog, {
      headers: [['Server', ctx.userAgent]],
      body: local.body as string,
      contentType: 'application/sdp',
    });
    incoming.respond(ok);
    session.reliable = new Reliable2xx(incoming.transaction, ok, ctx.clock, ctx.timers, () =>
      this.endSession(session, 'no-ack'),
    );
    ctx.logger.info({ supervisor, agent: entry.agent, mode }, 'monitoring started');
    this.emit('started', record);
  }

  private onDigit(session: MonitorSession, digit: string): void {
    const mode = modeOfDigit(digit, this.deps.config.monitoring.dtmf);
    const entry = this.byCall.get(session.record.callId);
    if (mode === undefined || entry === undefined || mode === session.mode) return;
    if (session.mode === 'takeover') return; // one-way
    const from = session.mode;
    this.applyMode(entry, session, mode, false).then(
      () => this.emit('modeChanged', session.record, from),
      (err: unknown) =>
        this.deps.context(entry.call.id).logger.warn({ err, mode }, 'mode change failed'),
    );
  }

  /** Puts `session` in `mode` in the room, with its tones and (takeover) the release. */
  private async applyMode(
    entry: CallMonitoring,
    session: MonitorSession,
    mode: MonitorMode,
    joining: boolean,
  ): Promise<void> {
    if (mode === 'takeover' && entry.takenOver) return;
    const { media } = entry.call;
    await media.setMonitor(session.leg, mode);
    if (!joining) session.enter(mode);
    const tones = this.deps.config.monitoring.tones;
    const play = (to: Parameters<CallMedia['playTone']>[0], tone: ToneConfig | null): void => {
      if (tone === null) return;
      media
        .playTone(to, tone)
        .catch((err: unknown) =>
          this.deps.context(entry.call.id).logger.warn({ err }, 'tone failed'),
        );
    };
    if (mode === 'takeover') {
      entry.takenOver = true;
      entry.call.release(entry.agentSide);
      return;
    }
    if (mode === 'barge') {
      const customer: Side = entry.agentSide === 'a' ? 'b' : 'a';
      play([customer, entry.agentSide, session.leg], tones.bargeEntry);
    } else {
      play([entry.agentSide], tones.monitorBeep);
    }
  }

  private async endSession(session: MonitorSession, reason: MonitorEndReason): Promise<void> {
    const entry = this.byCall.get(session.record.callId);
    if (entry === undefined || !entry.sessions.delete(session)) return;
    session.record.endedAt = this.deps.context(entry.call.id).clock.now();
    session.record.endReason = reason;
    this.deps.calls.unregisterDialog(dialogKey(session.dialog.id));
    if (reason === 'supervisor-hangup' && session.mode === 'takeover') {
      entry.call.hangUpAfterTakeover();
    } else if (reason !== 'call-ended' && reason !== 'server-shutdown') {
      await entry.call.media.removeMonitor(session.leg).catch(() => undefined);
    }
    await session.end();
    this.emit('ended', session.record);
  }
}
