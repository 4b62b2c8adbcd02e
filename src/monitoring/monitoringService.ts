/**
 * Monitoring (docs/architecture.md §1, §4): a supervisor joins an agent's live call in one of four
 * modes and switches between them live. Every trigger reaches this service and passes the
 * same checks: a feature code dialled from the supervisor's phone (`*90<ext>` …), an
 * in-call digit from that phone (consumed by the media engine, never heard in the call),
 * the REST API and its adapters (Yeastar, CTI).
 *
 * Checks, first failure first: joinChecks.ts, one pure function over the call's facts
 * (callFacts(): only the call's owner has them) and the supervisor's (supervisorFacts()),
 * with the codes of refusals.ts. The same function, without side effects, answers "may
 * this supervisor join this call, in which modes" for the live-call listing (join()), here
 * and on another instance from the shared listing, so they cannot drift.
 *
 * A session starts 'calling' (the API rings the supervisor's phone) or straight 'active'
 * (a feature code: the supervisor's own INVITE is answered), then 'ended'. Modes: listen /
 * whisper / barge change freely; takeover is one-way — the agent's leg is released with a
 * BYE, the supervisor becomes the call's agent, no other mode follows. Tones (config): a
 * beep to the agent on join and mode change, an entry tone to everyone on barge; nothing
 * is played to the customer for listen or whisper. Monitoring ends when the supervisor
 * hangs up, is stopped (Leave), loses its leg, or the call ends; after a takeover the
 * first three end the call too (endReason supervisor-hangup): nobody else is on it.
 *
 * Every action and refusal is appended to the audit log (awaited before an API call
 * returns) and emitted as an event. A hand an agent raised on a call is lowered when a
 * supervisor joins it.
 */
import type { Leg, ToneConfig } from '../../media/engine/index.js';
import type { MonitorMode } from './modes.js';
import { dialogKey } from '../../sip/dialog/index.js';
import { buildResponse, type SipRequest } from '../../sip/message/index.js';
import { newTag } from '../../sip/ids.js';
import type { IncomingRequest } from '../../sip/stack.js';
import { sameFlow, type Endpoint } from '../../sip/transport/types.js';
import { TypedEmitter } from '../../sip/util/typedEmitter.js';
import type { CallContext } from '../calls/call.js';
import { allBrowsers, type CallMedia, type Side } from '../calls/callMedia.js';
import type { Config } from '../config/schema.js';
import type { AuditAction, AuditRecord } from './auditLog.js';
import { modeOfDigit, parseFeatureCode } from './featureCodes.js';
import {
  MonitorSession,
  sendBye,
  type MonitorEndReason,
  type MonitorSessionRecord,
  type MonitorTrigger,
} from './monitorSession.js';
import {
  joinEligibility,
  evaluateJoin,
  type CallFacts,
  type JoinEligibility,
  type JoinRules,
  type Refusal,
  type SupervisorFacts,
} from './joinChecks.js';
import { Permissions } from './permissions.js';
import type { PresenceStatus } from './supervisorPresence.js';
import { MonitorRefusal, refusalMessage, sipStatusOf, type RefusalCode } from './refusals.js';
import {
  answerMonitorInvite,
  callSupervisor,
  type Binding,
  type SupervisorLeg,
} from './supervisorLeg.js';
import type { Logger } from '../logging.js';
import { inBackground } from '../util/background.js';
import { HolderIndex } from '../util/holderIndex.js';
import { waitAtMost } from '../util/waitAtMost.js';

/**
 * Whether the end of the leg of the supervisor who took a call over ends the call: the
 * agent was released, so the customer would be left alone on it. Only the call's own end
 * and a shutdown (which ends every call anyway) leave it to its own course.
 */
export function endsTakenOverCall(reason: MonitorEndReason): boolean {
  return reason !== 'call-ended' && reason !== 'server-shutdown';
}

/** What monitoring needs of a live call (CallService implements it). */
export interface MonitorableCall {
  readonly id: string;
  readonly media: CallMedia;
  /** Releases one side with a BYE; the call goes on without it (takeover). */
  release(side: Side): void;
  /** Ends the call: the supervisor who took it over hung up or left. */
  hangUpAfterTakeover(): void;
}

export interface CallDirectory {
  /** The answered call `extension` is in, and its side, if any. */
  answeredCallOf(extension: string): { call: MonitorableCall; side: Side } | undefined;
  /** An answered call by id, with its agent (the monitored extension) and side. */
  answeredCall(callId: string): { call: MonitorableCall; agent: string; side: Side } | undefined;
  /** Whether `extension` is a party of any live call (ringing included). */
  isInCall(extension: string): boolean;
  /** The queue a call came through (docs/architecture.md §9.5), if any. */
  queueOf?(callId: string): string | undefined;
  /** Whether the call's caller still waits in a queue (nobody to monitor yet). */
  isQueueWaiting?(callId: string): boolean;
  /** Routes in-dialog requests and ACKs of `dialog` to `handler` until unregistered. */
  registerDialog(key: string, handler: DialogHandler): void;
  unregisterDialog(key: string): void;
}

export interface DialogHandler {
  onRequest(incoming: IncomingRequest): void;
  onAck(request: SipRequest): void;
}

/** One refused action, for the audit log and the event stream. */
export interface RefusalRecord {
  trigger: MonitorTrigger;
  actor: string | null;
  supervisor: string | null;
  agent: string | null;
  callId: string | null;
  mode: MonitorMode | null;
  code: RefusalCode;
  message: string;
}

export type MonitoringEvents = {
  started: [MonitorSessionRecord];
  /** The session became active (its phone answered; a feature code: at once). */
  attached: [MonitorSessionRecord];
  /** A session that was `calling` (API) became active: what the event stream announces. */
  answered: [MonitorSessionRecord];
  modeChanged: [MonitorSessionRecord, from: MonitorMode];
  ended: [MonitorSessionRecord];
  refused: [RefusalRecord];
};

/** Where audit entries go (auditLog.ts); the service awaits it before an API returns. */
export interface AuditSink {
  append(entry: AuditRecord): Promise<unknown>;
}

export interface MonitoringDeps {
  config: Config;
  calls: CallDirectory;
  /** The SIP context of the supervisor's dialog (timers, SipOut, SDP policy, logger). */
  context(id: string): CallContext;
  contact(endpoint: Endpoint): string;
  /** Our SIP host (From URIs of calls to the supervisor). */
  host: string;
  /** The supervisor's registered contacts (for API-triggered starts). */
  bindingsOf(extension: string): Binding[];
  /** The supervisor's presence (default: everyone available). */
  presence?: { statusOf(extension: string): PresenceStatus };
  /** Several instances: the supervisor has a session on a call another instance anchors. */
  monitoringElsewhere?(supervisor: string): boolean;
  audit?: AuditSink;
  /** A supervisor joined the call: its raised hand, if any, is lowered. */
  onJoined?(callId: string, supervisor: string): void;
}

interface CallMonitoring {
  call: MonitorableCall;
  agent: string;
  agentSide: Side;
  sessions: Set<MonitorSession>;
  /** Sessions ringing the supervisor (API): they count toward busy and participants. */
  calling: Map<string, { record: MonitorSessionRecord; cancel(): void }>;
  takenOver: boolean;
  /** Every session of the call, ended ones included (the recording's sidecar). */
  history: MonitorSessionRecord[];
}

export interface StartRequest {
  supervisor: string;
  /** The monitored extension, or the call (its agent is then the monitored one). */
  agent?: string;
  callId?: string;
  mode: MonitorMode;
  trigger: MonitorTrigger;
  /** Who asked (an extension or an API token's name). */
  actor: string | null;
  /**
   * An agent on the call invites another agent (callMonitorAccess) as a third party:
   * the invited agent's callMonitorAccess replaces the group check.
   */
  invited?: boolean;
  /** Which of the supervisor's contacts the API rings (default: all of them). */
  device?: MonitorDevice;
}

/**
 * Where an API-started supervisor leg rings: `browser` only the supervisor's SIP over
 * WebSocket contacts (RFC 7118 §5, `;transport=ws`/`wss`), `phone` only the others.
 */
export const MONITOR_DEVICES = ['browser', 'phone'] as const;
export type MonitorDevice = (typeof MONITOR_DEVICES)[number];

/** Whether `uri` is a browser's contact (SIP over WebSocket, RFC 7118 §5). */
export function isBrowserContact(uri: string): boolean {
  return allBrowsers([uri]);
}

/** The contacts of `bindings` a `device` choice rings (all when none is given). */
export function bindingsForDevice(
  bindings: readonly Binding[],
  device: MonitorDevice | undefined,
): Binding[] {
  if (device === undefined) return [...bindings];
  return bindings.filter((b) => isBrowserContact(b.uri) === (device === 'browser'));
}

/** Where a request points: the answered call and its monitored extension, as far as known. */
interface Located {
  /** Asked by call id and it is not answered: why. */
  unanswered?: Refusal;
  agent?: string;
  found?: { call: MonitorableCall; side: Side };
}

/** How long close() waits for the answers to the supervisors' BYEs. */
const CLOSE_GRACE_MS = 2000;

export class MonitoringService extends TypedEmitter<MonitoringEvents> {
  readonly permissions: Permissions;
  private readonly byCall = new Map<string, CallMonitoring>();
  /** The supervisor of each session not ended (ringing or active), by session id. */
  private readonly supervisors = new HolderIndex<string, string>();
  private nextId = 1;

  constructor(private readonly deps: MonitoringDeps) {
    super((err, event) =>
      deps.context('monitoring').logger.error({ err, event }, 'listener failed'),
    );
    this.permissions = new Permissions(deps.config);
  }

  // -------------------------------------------------------------------------------------
  // Queries

  /** Sessions not ended (ringing or active), oldest first. */
  get active(): MonitorSessionRecord[] {
    return [...this.byCall.values()].flatMap((m) => [
      ...[...m.calling.values()].map((c) => c.record),
      ...[...m.sessions].map((s) => s.record),
    ]);
  }

  session(id: string): MonitorSessionRecord | undefined {
    return this.find(id)?.record;
  }

  /** The sessions of a call not ended (ringing ones first). */
  sessionsOf(callId: string): MonitorSessionRecord[] {
    const m = this.byCall.get(callId);
    if (m === undefined) return [];
    return [
      ...[...m.calling.values()].map((c) => c.record),
      ...[...m.sessions].map((s) => s.record),
    ];
  }

  /** Every session a call had (for its recording sidecar). */
  historyOf(callId: string): MonitorSessionRecord[] {
    return this.byCall.get(callId)?.history ?? [];
  }

  /** The media leg of an attached session (none while it rings). */
  legOf(sessionId: string): Leg | undefined {
    return this.find(sessionId)?.session?.leg;
  }

  /** Whether `extension` is monitoring (or being rung to monitor) a call now. */
  isMonitoring(extension: string): boolean {
    return this.supervisors.has(extension);
  }

  /**
   * Whether `supervisor` may join a call through the API now, and in which modes: the
   * checks of start() for each mode, without side effects (nothing is audited, emitted or
   * created). When no mode passes, `refusal` is what a start would answer (the first
   * refusal that is not `mode-not-allowed`, if any). `call`: the call's facts, from this
   * instance (callFacts) or from the call's owner (the shared listing,
   * docs/architecture.md §17.8); `facts`: the supervisor's, from this instance
   * (supervisorFacts, gathered once per request).
   */
  join(supervisor: string, call: CallFacts, facts: SupervisorFacts): JoinEligibility {
    return joinEligibility(call, facts, this.rules({ supervisor }));
  }

  /** What this instance, the owner, knows of call `callId` for the checks (joinChecks.ts). */
  callFacts(callId: string): CallFacts {
    return this.factsOf(this.locate({ callId }));
  }

  /**
   * What this instance knows of `supervisor` for the checks of an API start: presence,
   * busy (monitoring here or elsewhere, in a call here), registered contacts of `device`.
   */
  supervisorFacts(supervisor: string, device?: MonitorDevice, viaApi = true): SupervisorFacts {
    return {
      presence: this.deps.presence?.statusOf(supervisor) ?? 'available',
      busy:
        this.isMonitoring(supervisor) ||
        this.deps.calls.isInCall(supervisor) ||
        this.deps.monitoringElsewhere?.(supervisor) === true,
      ...(viaApi
        ? {
            contacts: {
              registered: this.bindingsFor(supervisor, device).length > 0,
              ...(device !== undefined ? { device } : {}),
            },
          }
        : {}),
    };
  }

  // -------------------------------------------------------------------------------------
  // Triggers

  /**
   * An INVITE from an authenticated extension to `dialled`: true when it is a feature
   * code (this service answers it), false when it is an ordinary call.
   */
  tryInvite(incoming: IncomingRequest, caller: string, dialled: string): boolean {
    const code = parseFeatureCode(dialled, this.deps.config.monitoring.featureCodes);
    if (code === undefined) return false;
    const request: StartRequest = {
      supervisor: caller,
      agent: code.target,
      mode: code.mode,
      trigger: 'feature-code',
      actor: caller,
    };
    const refuse = (refusal: MonitorRefusal) => {
      incoming.respond(
        buildResponse(incoming.request, sipStatusOf(refusal.code), {
          toTag: newTag(),
          reason: refusal.message.replace(/(^|\s)\S/g, (c) => c.toUpperCase()),
          headers: [['Server', this.deps.config.sip.userAgent]],
        }),
      );
    };
    let checked: { entry: CallMonitoring; agent: string };
    try {
      checked = this.check(request, false);
    } catch (err) {
      if (!(err instanceof MonitorRefusal)) throw err;
      inBackground(this.refused(request, err, null), this.log(), 'auditing a refusal failed');
      refuse(err);
      return true;
    }
    const { entry } = checked;
    const ctx = this.deps.context(entry.call.id);
    void (async () => {
      await this.prepareRoles(entry);
      const leg = await answerMonitorInvite(
        incoming,
        entry.call.media,
        ctx,
        this.deps.contact(incoming.source),
      );
      if (incoming.transaction.state === 'terminated' || entry.call.media.ended !== undefined) {
        await leg.leg.close();
        throw new MonitorRefusal('no-call');
      }
      const record = this.newRecord(request, entry, 'active');
      const session = await this.attach(entry, record, leg);
      session.reliable = leg.respond(() =>
        inBackground(
          this.endSession(session, 'no-ack', 'system', null),
          ctx.logger,
          'ending the session failed',
        ),
      );
      this.emit('started', record);
      this.emit('attached', record);
      inBackground(this.audit('start', record, null), ctx.logger, 'auditing a start failed');
      this.deps.onJoined?.(entry.call.id, record.supervisor);
    })().catch((err: unknown) => {
      if (err instanceof MonitorRefusal) {
        inBackground(
          this.refused(request, err, entry.call.id),
          ctx.logger,
          'auditing a refusal failed',
        );
        if ((incoming.transaction.lastResponse?.status ?? 0) < 200) refuse(err);
        return;
      }
      ctx.logger.error({ err }, 'monitoring start failed');
      if ((incoming.transaction.lastResponse?.status ?? 0) < 200) {
        incoming.respond(buildResponse(incoming.request, 500, { toTag: newTag() }));
      }
    });
    return true;
  }

  /**
   * The API: rings the supervisor's phone(s) and attaches the one that answers. Resolves
   * with the session ('calling') once it is accepted and audited; throws MonitorRefusal.
   */
  async start(request: StartRequest): Promise<MonitorSessionRecord> {
    let checked: { entry: CallMonitoring; agent: string };
    try {
      checked = this.check(request, true);
    } catch (err) {
      if (err instanceof MonitorRefusal) await this.refused(request, err, request.callId ?? null);
      throw err;
    }
    const { entry } = checked;
    const record = this.newRecord(request, entry, 'calling');
    const ctx = this.deps.context(entry.call.id);
    const ext = this.deps.config.extensions.find((e) => e.number === request.supervisor);
    const ringing = callSupervisor({
      supervisor: request.supervisor,
      displayName: ext?.displayName ?? request.supervisor,
      bindings: this.bindingsFor(request.supervisor, request.device),
      media: entry.call.media,
      ctx,
      contact: (e) => this.deps.contact(e),
      host: this.deps.host,
      ringMs: this.deps.config.calls.noAnswerTimeoutSec * 1000,
    });
    this.addCalling(entry, record, () => ringing.cancel());
    entry.history.push(record);
    inBackground(this.prepareRoles(entry), ctx.logger, 'setting the call roles failed');
    ringing.answered
      .then(
        async (leg) => {
          // The phone answered but the session was stopped meanwhile (or cannot attach):
          // its dialog exists, so it gets a BYE, not only a closed media leg.
          const release = () =>
            Promise.all([sendBye(ctx, leg.dialog, leg.destination), leg.leg.close()]);
          if (!this.removeCalling(entry, record.id) || record.state === 'ended') {
            await release();
            return;
          }
          try {
            await this.attach(entry, record, leg);
          } catch (err) {
            ctx.logger.error({ err }, 'attaching the monitor failed');
            this.finish(record, 'media-failed');
            await release();
            return;
          }
          record.state = 'active';
          this.emit('attached', record);
          this.emit('answered', record);
          this.deps.onJoined?.(entry.call.id, record.supervisor);
        },
        (err: unknown) => {
          if (!this.removeCalling(entry, record.id)) return;
          const reason: MonitorEndReason =
            err instanceof MonitorRefusal ? 'no-answer' : 'media-failed';
          if (!(err instanceof MonitorRefusal))
            ctx.logger.error({ err }, 'calling the monitor failed');
          this.finish(record, reason);
          inBackground(this.audit('stop', record, reason), ctx.logger, 'auditing a stop failed');
        },
      )
      .catch((err: unknown) => ctx.logger.error({ err }, 'handling the monitor answer failed'));
    this.emit('started', record);
    await this.audit('start', record, null);
    return record;
  }

  /** A mode change (API, adapters; DTMF goes through here too). Throws MonitorRefusal. */
  async changeMode(
    sessionId: string,
    mode: MonitorMode,
    trigger: MonitorTrigger,
    actor: string | null,
  ): Promise<MonitorSessionRecord> {
    const found = this.find(sessionId);
    if (found === undefined) throw new MonitorRefusal('no-call', 'no such monitor session');
    const { entry, session, record } = found;
    const from = record.modes[record.modes.length - 1]!.mode;
    const request: StartRequest = {
      supervisor: record.supervisor,
      agent: record.agent,
      mode,
      trigger,
      actor,
      ...(record.invited === true ? { invited: true } : {}),
    };
    try {
      if (from === 'takeover' || (mode === 'takeover' && entry.takenOver)) {
        throw new MonitorRefusal('taken-over');
      }
      const denied = this.permissionOf(request);
      if (denied !== undefined) throw new MonitorRefusal(denied);
    } catch (err) {
      if (err instanceof MonitorRefusal) await this.refused(request, err, record.callId);
      throw err;
    }
    if (mode === from) return record;
    if (session === undefined) {
      // Still ringing: the phone joins in the new mode.
      record.modes.push({ mode, at: this.now(entry) });
    } else {
      await this.applyMode(entry, session, mode);
      session.enter(mode);
    }
    this.emit('modeChanged', record, from);
    await this.audit('mode-change', record, null, from, trigger, actor);
    return record;
  }

  /** Ends a session (API). Throws MonitorRefusal('no-call') for an unknown one. */
  async stop(sessionId: string, trigger: MonitorTrigger, actor: string | null): Promise<void> {
    const found = this.find(sessionId);
    if (found === undefined) throw new MonitorRefusal('no-call', 'no such monitor session');
    const { entry, session, record } = found;
    if (session === undefined) {
      entry.calling.get(sessionId)?.cancel();
      this.removeCalling(entry, sessionId);
      this.finish(record, 'stopped');
      await this.audit('stop', record, 'stopped', null, trigger, actor);
      return;
    }
    await this.endSession(session, 'stopped', trigger, actor);
  }

  /** Ends every session (server shutdown). */
  async close(): Promise<void> {
    for (const entry of this.byCall.values()) {
      for (const c of entry.calling.values()) c.cancel();
    }
    const all = [...this.byCall.values()].flatMap((m) => [...m.sessions]);
    // Each session is audited at once; the BYEs' answers are awaited for a bounded time
    // (a phone that vanished must not hold the shutdown for Timer F, 32 s).
    await waitAtMost(
      Promise.all(all.map((s) => this.endSession(s, 'server-shutdown', 'system', null))),
      CLOSE_GRACE_MS,
    );
  }

  /**
   * A connection closed (a supervisor's browser, RFC 7118): the sessions whose leg was
   * reached over it end. Ringing ones need nothing: their INVITE already failed.
   */
  async flowClosed(flow: Endpoint): Promise<void> {
    const gone = [...this.byCall.values()]
      .flatMap((entry) => [...entry.sessions])
      .filter((s) => sameFlow(s.destination, flow));
    await Promise.all(gone.map((s) => this.endSession(s, 'connection-lost', 'system', null)));
  }

  /** The call ended: its supervisors get a BYE. Call after the call is gone. */
  async callEnded(callId: string): Promise<void> {
    await this.endAll(callId, 'call-ended');
    this.byCall.delete(callId);
  }

  /**
   * The agent left a call that goes on (transferred it away): its sessions end like on
   * callEnded (BYE, leg out of the room), but the call's history stays for its sidecar.
   */
  async agentLeft(callId: string, reason: 'agent-transferred'): Promise<void> {
    await this.endAll(callId, reason);
  }

  /**
   * `supervisor` answered another call on their phone (call waiting, docs/architecture.md
   * §4.6): each of their sessions ends, ringing ones included, with reason
   * `supervisor-answered-call` (a taken-over call ends with it, as when they hang up).
   */
  async supervisorAnsweredCall(supervisor: string): Promise<void> {
    const reason: MonitorEndReason = 'supervisor-answered-call';
    const ending: Promise<void>[] = [];
    for (const entry of this.byCall.values()) {
      for (const [id, c] of entry.calling) {
        if (c.record.supervisor !== supervisor) continue;
        this.stopCalling(entry, id, c, reason);
      }
      for (const s of entry.sessions) {
        if (s.record.supervisor === supervisor) {
          ending.push(this.endSession(s, reason, 'system', supervisor));
        }
      }
    }
    await Promise.all(ending);
  }

  private stopCalling(
    entry: CallMonitoring,
    id: string,
    calling: { record: MonitorSessionRecord; cancel(): void },
    reason: MonitorEndReason,
  ): void {
    calling.cancel();
    this.removeCalling(entry, id);
    this.finish(calling.record, reason);
    inBackground(this.audit('stop', calling.record, reason), this.log(), 'auditing a stop failed');
  }

  /** Ends every session of a call, ringing ones included. */
  private async endAll(callId: string, reason: MonitorEndReason): Promise<void> {
    const entry = this.byCall.get(callId);
    if (entry === undefined) return;
    for (const [id, c] of entry.calling) this.stopCalling(entry, id, c, reason);
    await Promise.all([...entry.sessions].map((s) => this.endSession(s, reason, 'system', null)));
  }

  // -------------------------------------------------------------------------------------
  // Checks

  /** The group check, or the invitation check for an invited agent. */
  private permissionOf(
    request: Pick<StartRequest, 'supervisor' | 'agent' | 'mode' | 'invited'>,
    queue?: string,
  ): RefusalCode | undefined {
    const agent = request.agent ?? '';
    if (request.invited === true) {
      if (
        !this.permissions.isExtension(request.supervisor) ||
        !this.permissions.isExtension(agent)
      ) {
        return 'unknown-extension';
      }
      const ext = this.deps.config.extensions.find((e) => e.number === request.supervisor);
      if (ext?.callMonitorAccess !== true) return 'not-permitted';
      return request.mode === 'barge' ? undefined : 'mode-not-allowed';
    }
    return this.permissions.check(request.supervisor, agent, request.mode, queue);
  }

  /** The permission check and the limits (joinChecks.ts) for `request`'s supervisor. */
  private rules(request: Pick<StartRequest, 'supervisor' | 'invited'>): JoinRules {
    return {
      permission: (agent, mode, queue) => this.permissionOf({ ...request, agent, mode }, queue),
      maxParticipants: this.deps.config.monitoring.maxParticipants,
    };
  }

  /** The answered call `request` names (by id, or the agent's), and its agent. */
  private locate(request: Pick<StartRequest, 'callId' | 'agent'>): Located {
    if (request.callId !== undefined) {
      const byId = this.deps.calls.answeredCall(request.callId);
      if (byId !== undefined) {
        return { agent: byId.agent, found: { call: byId.call, side: byId.side } };
      }
      return {
        unanswered:
          this.deps.calls.isQueueWaiting?.(request.callId) === true
            ? { code: 'queue-waiting', message: refusalMessage('queue-waiting') }
            : { code: 'no-call', message: `no answered call ${request.callId}` },
      };
    }
    if (request.agent === undefined) return {};
    const found = this.deps.calls.answeredCallOf(request.agent);
    return { agent: request.agent, ...(found !== undefined ? { found } : {}) };
  }

  /** The call's facts for the checks, from its monitoring state here. */
  private factsOf(located: Located): CallFacts {
    const { unanswered, agent, found } = located;
    if (unanswered !== undefined) return { unanswered, agentMonitoring: false };
    const entry = found === undefined ? undefined : this.byCall.get(found.call.id);
    const queue = found === undefined ? undefined : this.deps.calls.queueOf?.(found.call.id);
    return {
      ...(agent !== undefined ? { agent } : {}),
      ...(found !== undefined
        ? {
            call: {
              ...(queue !== undefined ? { queue } : {}),
              takenOver: entry?.takenOver === true,
              legs: 2 + (entry?.sessions.size ?? 0) + (entry?.calling.size ?? 0),
            },
          }
        : {}),
      agentMonitoring: agent !== undefined && this.isMonitoring(agent),
    };
  }

  /** Every check of the file comment; throws MonitorRefusal. Sets `request.agent`. */
  private check(request: StartRequest, viaApi: boolean): { entry: CallMonitoring; agent: string } {
    const located = this.locate(request);
    const refusal = evaluateJoin(
      request.mode,
      this.factsOf(located),
      this.supervisorFacts(request.supervisor, request.device, viaApi),
      this.rules(request),
    );
    if (refusal !== undefined) {
      // The refusal's audit entry names the monitored extension when the call is known.
      if (request.callId !== undefined && request.agent === undefined) {
        request.agent = this.deps.calls.answeredCall(request.callId)?.agent;
      }
      throw new MonitorRefusal(refusal.code, refusal.message);
    }
    const { found, agent } = located as Required<Pick<Located, 'found' | 'agent'>>;
    request.agent = agent;
    return { entry: this.entryFor(found.call, agent, found.side), agent };
  }

  /** The supervisor's contacts the API rings for `device`. */
  private bindingsFor(supervisor: string, device: MonitorDevice | undefined): Binding[] {
    return bindingsForDevice(this.deps.bindingsOf(supervisor), device);
  }

  private entryFor(call: MonitorableCall, agent: string, agentSide: Side): CallMonitoring {
    let entry = this.byCall.get(call.id);
    if (entry !== undefined && entry.sessions.size === 0 && entry.calling.size === 0) {
      // Nobody monitors now: the agent may have changed since (a transfer).
      entry.agent = agent;
      entry.agentSide = agentSide;
    }
    if (entry === undefined) {
      entry = {
        call,
        agent,
        agentSide,
        sessions: new Set(),
        calling: new Map(),
        takenOver: false,
        history: [],
      };
      this.byCall.set(call.id, entry);
    }
    return entry;
  }

  // -------------------------------------------------------------------------------------
  // Sessions

  /** A session rings its supervisor: it counts toward busy and the call's legs. */
  private addCalling(
    entry: CallMonitoring,
    record: MonitorSessionRecord,
    cancel: () => void,
  ): void {
    entry.calling.set(record.id, { record, cancel });
    this.supervisors.set(record.id, [record.supervisor]);
  }

  /** Whether the ringing session was there (it is gone now). */
  private removeCalling(entry: CallMonitoring, id: string): boolean {
    if (!entry.calling.delete(id)) return false;
    this.supervisors.delete(id);
    return true;
  }

  private addSession(entry: CallMonitoring, session: MonitorSession): void {
    entry.sessions.add(session);
    this.supervisors.set(session.record.id, [session.record.supervisor]);
  }

  /** Whether the session was there (it is gone now). */
  private removeSession(entry: CallMonitoring, session: MonitorSession): boolean {
    if (!entry.sessions.delete(session)) return false;
    this.supervisors.delete(session.record.id);
    return true;
  }

  private now(entry: CallMonitoring): number {
    return this.deps.context(entry.call.id).clock.now();
  }

  private newRecord(
    request: StartRequest,
    entry: CallMonitoring,
    state: MonitorSessionRecord['state'],
  ): MonitorSessionRecord {
    const at = this.now(entry);
    return {
      id: `m${this.nextId++}`,
      callId: entry.call.id,
      supervisor: request.supervisor,
      agent: entry.agent,
      modes: [{ mode: request.mode, at }],
      startedAt: at,
      state,
      trigger: request.trigger,
      actor: request.actor,
      ...(request.invited === true ? { invited: true } : {}),
    };
  }

  /** The monitored extension is the agent (in an internal call either side may be). */
  /** The service's own logger (for work not tied to one call's context). */
  private log(): Logger {
    return this.deps.context('monitoring').logger;
  }

  private async prepareRoles(entry: CallMonitoring): Promise<void> {
    const { media } = entry.call;
    if (media.roleOf(entry.agentSide) === 'agent') return;
    await media.setRoles(
      entry.agentSide === 'a' ? { a: 'agent', b: 'customer' } : { a: 'customer', b: 'agent' },
    );
  }

  /** Puts an answered supervisor leg in the room in the record's current mode. */
  private async attach(
    entry: CallMonitoring,
    record: MonitorSessionRecord,
    leg: SupervisorLeg,
  ): Promise<MonitorSession> {
    const ctx = this.deps.context(entry.call.id);
    const session = new MonitorSession(
      record,
      leg.dialog,
      leg.leg,
      leg.local,
      leg.destination,
      ctx,
      {
        digit: (s, digit) => this.onDigit(s, digit),
        ended: (s, reason) =>
          inBackground(
            this.endSession(s, reason, 'system', record.supervisor),
            ctx.logger,
            'ending the session failed',
          ),
      },
    );
    this.addSession(entry, session);
    if (!entry.history.includes(record)) entry.history.push(record);
    const key = dialogKey(leg.dialog.id);
    this.deps.calls.registerDialog(key, {
      onRequest: (r) => session.onRequest(r),
      onAck: () => session.onAck(),
    });
    try {
      await this.applyMode(entry, session, record.modes[record.modes.length - 1]!.mode);
    } catch (err) {
      this.removeSession(entry, session);
      this.deps.calls.unregisterDialog(key);
      throw err;
    }
    ctx.logger.info(
      { supervisor: record.supervisor, agent: entry.agent, mode: session.mode },
      'monitoring started',
    );
    return session;
  }

  private onDigit(session: MonitorSession, digit: string): void {
    const mode = modeOfDigit(digit, this.deps.config.monitoring.dtmf);
    if (mode === undefined || mode === session.mode) return;
    this.changeMode(session.record.id, mode, 'dtmf', session.record.supervisor).catch(
      (err: unknown) => {
        if (err instanceof MonitorRefusal) return; // refused and audited
        this.deps.context(session.record.callId).logger.warn({ err, mode }, 'mode change failed');
      },
    );
  }

  /** Puts `session` in `mode` in the room, with its tones and (takeover) the release. */
  private async applyMode(
    entry: CallMonitoring,
    session: MonitorSession,
    mode: MonitorMode,
  ): Promise<void> {
    if (mode === 'takeover' && entry.takenOver) return;
    const { media } = entry.call;
    await media.setMonitor(session.leg, mode);
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

  private find(
    sessionId: string,
  ):
    | { entry: CallMonitoring; record: MonitorSessionRecord; session: MonitorSession | undefined }
    | undefined {
    for (const entry of this.byCall.values()) {
      const calling = entry.calling.get(sessionId);
      if (calling !== undefined) return { entry, record: calling.record, session: undefined };
      for (const session of entry.sessions) {
        if (session.record.id === sessionId) return { entry, record: session.record, session };
      }
    }
    return undefined;
  }

  private finish(record: MonitorSessionRecord, reason: MonitorEndReason): void {
    if (record.state === 'ended') return;
    const entry = this.byCall.get(record.callId);
    record.state = 'ended';
    record.endedAt = entry === undefined ? record.startedAt : this.now(entry);
    record.endReason = reason;
    this.emit('ended', record);
  }

  private async endSession(
    session: MonitorSession,
    reason: MonitorEndReason,
    trigger: MonitorTrigger | 'system',
    actor: string | null,
  ): Promise<void> {
    const entry = this.byCall.get(session.record.callId);
    if (entry === undefined || !this.removeSession(entry, session)) return;
    this.deps.calls.unregisterDialog(dialogKey(session.dialog.id));
    if (session.mode === 'takeover' && endsTakenOverCall(reason)) {
      // Nobody else is on the customer's side: the call ends with its taker's leg.
      entry.call.hangUpAfterTakeover();
    } else if (reason !== 'call-ended' && reason !== 'server-shutdown') {
      await entry.call.media.removeMonitor(session.leg).catch(() => undefined);
    }
    // The BYE goes out at once; its transaction may take up to Timer F (32 s) when the
    // phone does not answer it, which an API call (DELETE) must not wait for. Only a
    // shutdown waits (bounded by close()), after the audit entry is written.
    const ended = session
      .end()
      .catch((err: unknown) =>
        this.deps
          .context(session.record.callId)
          .logger.warn({ err }, 'ending the monitor leg failed'),
      );
    this.finish(session.record, reason);
    await this.audit('stop', session.record, reason, null, trigger, actor);
    if (reason === 'server-shutdown') await ended;
  }

  // -------------------------------------------------------------------------------------
  // Audit

  private async refused(
    request: StartRequest,
    refusal: MonitorRefusal,
    callId: string | null,
  ): Promise<void> {
    const record: RefusalRecord = {
      trigger: request.trigger,
      actor: request.actor,
      supervisor: request.supervisor,
      agent: request.agent ?? null,
      callId,
      mode: request.mode,
      code: refusal.code,
      message: refusal.message,
    };
    this.emit('refused', record);
    await this.appendAudit({
      action: 'refusal',
      trigger: record.trigger,
      actor: record.actor,
      supervisor: record.supervisor,
      agent: record.agent,
      callId,
      sessionId: null,
      mode: record.mode,
      from: null,
      reason: record.code,
    });
  }

  private audit(
    action: AuditAction,
    record: MonitorSessionRecord,
    reason: string | null,
    from: MonitorMode | null = null,
    trigger: MonitorTrigger | 'system' = record.trigger,
    actor: string | null = record.actor,
  ): Promise<void> {
    return this.appendAudit({
      action,
      trigger,
      actor,
      supervisor: record.supervisor,
      agent: record.agent,
      callId: record.callId,
      sessionId: record.id,
      mode: record.modes[record.modes.length - 1]!.mode,
      from,
      reason,
    });
  }

  private async appendAudit(entry: Parameters<AuditSink['append']>[0]): Promise<void> {
    const sink = this.deps.audit;
    if (sink === undefined) return;
    try {
      await sink.append(entry);
    } catch (err) {
      this.deps.context('monitoring').logger.error({ err }, 'audit log write failed');
    }
  }
}
