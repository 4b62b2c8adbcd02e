/**
 * Wires monitoring, the recording tap, call notes (tags, raised hands) and the audit log
 * to the call service (server.ts calls this once): feature-code INVITEs go to the
 * monitoring service, monitoring dialogs are routed to their sessions, answered calls
 * start recording and listen for the agent's raise-hand digits, a call the agent
 * transferred away ends its monitor sessions, and an ended call ends its monitor
 * sessions, lowers its hand and completes its recording's sidecar. Metrics observe all
 * of it.
 */
import type { Registry } from 'prom-client';
import type { MediaEngine, Prompt } from '../../media/engine/index.js';
import { playAgentDisclaimer } from '../announcements/agentDisclaimer.js';
import type { CallService, LiveCall } from '../calls/callService.js';
import { agentOf as callAgent } from '../calls/agent.js';
import { negotiatedCodecOf, type Side } from '../calls/callMedia.js';
import type { Config } from '../config/schema.js';
import type { EventBus } from '../events/eventBus.js';
import type { Logger } from '../logging.js';
import { registerMonitoringMetrics } from '../metrics/monitoringMetrics.js';
import type { LocationService } from '../registrar/locationService.js';
import { RecordingTap } from '../recording/recordingTap.js';
import { inBackground } from '../util/background.js';
import { startStep } from '../util/startError.js';
import { AuditLog } from './auditLog.js';
import { CallNotes } from './callNotes.js';
import { MonitoringService, type MonitorableCall } from './monitoringService.js';
import type { MonitorSessionRecord } from './monitorSession.js';
import { SupervisorPresence } from './supervisorPresence.js';
import { CallQualityService } from './callQualityService.js';
import type { QualityCodec } from './callQuality.js';
import { registerCallQualityMetrics } from '../metrics/callQualityMetrics.js';

export interface Supervision {
  monitoring: MonitoringService;
  recordings: RecordingTap;
  notes: CallNotes;
  audit: AuditLog;
  /** Supervisors' available / away / dnd (only an available one starts monitoring). */
  presence: SupervisorPresence;
  /** Live call quality per leg (MOS, loss, jitter). */
  quality: CallQualityService;
  /** Raises (or lowers) a call's hand for the API, after its audit line is written. */
  handChange(callId: string, by: string, raise: boolean): Promise<boolean>;
  /** The monitored extension of a live call (its agent), if any. */
  agentOf(live: LiveCall): { extension: string; side: Side } | undefined;
  /** Ends every monitor session (before the calls end), then closes the audit log. */
  close(): Promise<void>;
}

export interface SupervisionDeps {
  config: Config;
  calls: CallService;
  engine: MediaEngine;
  location: LocationService;
  registry: Registry;
  logger: Logger;
  /** The call clock's now (ms). */
  now(): number;
  /** Wall-clock ms minus the call clock's ms. */
  wallOffset: number;
  /** Our SIP host, for the From of calls to a supervisor's phone. */
  host: string;
  /** The event stream, for monitor.* and hand.* events. */
  events?: EventBus;
  /** Played to the agent alone when a monitoring session begins (announcements). */
  agentDisclaimer?: Prompt | null;
  /** Several instances: the supervisor has a session on another instance's call. */
  monitoringElsewhere?: (supervisor: string) => boolean;
}

function monitorable(
  call: {
    record: { id: string };
    media: LiveCall['media'];
    release(side: Side): void;
    end(reason: 'supervisor-hangup'): Promise<void>;
  },
  logger: Logger,
): MonitorableCall {
  return {
    id: call.record.id,
    media: call.media,
    release: (s) => call.release(s),
    hangUpAfterTakeover: () =>
      inBackground(call.end('supervisor-hangup'), logger, 'ending the call failed', {
        callId: call.record.id,
      }),
  };
}

export async function startSupervision(deps: SupervisionDeps): Promise<Supervision> {
  const { config } = deps;
  const audit = await startStep(`audit log ${config.audit.file}`, 'audit.file', () =>
    AuditLog.open(config.audit.file, {
      now: () => new Date(deps.now() + deps.wallOffset),
      fileMode: config.audit.fileMode,
      dirMode: config.audit.dirMode,
      regularFileOnly: true,
    }),
  );
  try {
    return await wireSupervision(deps, audit);
  } catch (err) {
    await audit.close();
    throw err;
  }
}

async function wireSupervision(deps: SupervisionDeps, audit: AuditLog): Promise<Supervision> {
  const { config, calls, logger, location } = deps;
  const notes = new CallNotes(config.monitoring.raiseHandDtmf, deps.now);
  const presence = new SupervisorPresence((err) =>
    logger.error({ err }, 'presence listener failed'),
  );
  const monitoring = new MonitoringService({
    config,
    calls: {
      answeredCallOf(extension) {
        const found = calls.answeredCallOf(extension);
        return found && { side: found.side, call: monitorable(found.call, logger) };
      },
      answeredCall(callId) {
        const found = calls.answeredCall(callId);
        return (
          found && { side: found.side, agent: found.agent, call: monitorable(found.call, logger) }
        );
      },
      isInCall: (extension) => calls.isInCall(extension),
      queueOf: (callId) => calls.liveCall(callId)?.record.queue?.number,
      isQueueWaiting: (callId) => calls.queues.isWaiting(callId),
      registerDialog: (key, handler) => calls.registerDialog(key, handler),
      unregisterDialog: (key) => calls.unregisterDialog(key),
    },
    context: (id) => calls.context(id),
    contact: (endpoint) => calls.contact(endpoint),
    host: deps.host,
    bindingsOf: (extension) =>
      location.activeBindings(extension, deps.now()).map((b) => ({
        uri: b.uri,
        source: { protocol: b.source.protocol, address: b.source.address, port: b.source.port },
      })),
    audit,
    presence,
    ...(deps.monitoringElsewhere ? { monitoringElsewhere: deps.monitoringElsewhere } : {}),
    onJoined: (callId, supervisor) =>
      notes.lower(callId, supervisor, 'supervisor-joined', 'system'),
  });
  // Hand changes are audited as they happen; the API awaits its own (handChange below).
  let lastHandAudit: Promise<unknown> = Promise.resolve();
  for (const [event, action] of [
    ['handRaised', 'hand-raised'],
    ['handLowered', 'hand-lowered'],
  ] as const) {
    notes.on(event, (change) => {
      lastHandAudit = audit
        .append({
          action,
          trigger: change.trigger,
          actor: change.by,
          supervisor: change.reason === 'supervisor-joined' ? change.by : null,
          agent: change.agent,
          callId: change.callId,
          sessionId: null,
          mode: null,
          from: null,
          reason: change.reason,
        })
        .catch((err: unknown) => logger.error({ err }, 'audit log write failed'));
    });
  }
  /** Raises or lowers a hand for the API: resolves once the audit line is on disk. */
  const handChange = async (callId: string, by: string, raise: boolean): Promise<boolean> => {
    lastHandAudit = Promise.resolve();
    const known = raise
      ? notes.raise(callId, by, 'api')
      : notes.lower(callId, by, 'lowered', 'api');
    await lastHandAudit;
    return known;
  };

  /** The agent of a live call: the monitored extension (the one rule: src/calls/agent.ts). */
  const agentOf = (live: LiveCall): { extension: string; side: Side } | undefined =>
    callAgent(live.record.direction, live.extensions);

  const recordings = new RecordingTap(
    config,
    logger.child({ module: 'recording' }),
    deps.wallOffset,
    deps.engine,
  );
  // The folder is made (or found unusable) now, not at the first recorded call.
  await startStep(`recordings directory ${config.recording.directory}`, 'recording.directory', () =>
    recordings.prepare(),
  );
  calls.setInviteInterceptor((incoming, extension, dialled) =>
    monitoring.tryInvite(incoming, extension, dialled),
  );
  const quality = new CallQualityService({
    now: deps.now,
    publish: (callId, agent, q) =>
      deps.events?.publish({ type: 'call.quality', callId, agent, quality: q }),
  });
  deps.engine.on('legStats', (stats) => quality.onLegStats(stats));
  registerCallQualityMetrics(deps.registry, quality);
  // The E-model rates each leg by the codec offer/answer chose for it, read at each
  // report (a re-INVITE may change it); before the first answer is applied, a browser's
  // leg is taken as Opus, a phone's as G.711.
  const codecOf = (live: LiveCall, side: Side) => (): QualityCodec =>
    live.media.negotiatedCodec(side) ?? (live.media.isWebRtc(side) ? 'opus' : 'PCMU');
  calls.on('liveAnswered', (live) => {
    const agent = agentOf(live);
    if (agent !== undefined) {
      const customer: Side = agent.side === 'a' ? 'b' : 'a';
      quality.trackCall(live.record.id, agent.extension, {
        agent: { legId: live.media.legId(agent.side), codec: codecOf(live, agent.side) },
        customer: { legId: live.media.legId(customer), codec: codecOf(live, customer) },
      });
    }
    notes.open(live.record.id, agent?.extension ?? null);
    // Call waiting: a supervisor who was monitoring answered (or placed) this call, so
    // they left the monitored one (docs/architecture.md §4.6).
    for (const extension of new Set(Object.values(live.extensions))) {
      if (!monitoring.isMonitoring(extension)) continue;
      inBackground(
        monitoring.supervisorAnsweredCall(extension),
        logger,
        'ending monitoring for an answered call failed',
        { callId: live.record.id, supervisor: extension },
      );
    }
    live.media.on('dtmf', (side, digit) => {
      if (side === agent?.side) notes.agentDigit(live.record.id, digit);
    });
    recordings
      .answered(live)
      .catch((err: unknown) =>
        logger.error({ err, callId: live.record.id }, 'recording did not start'),
      );
  });
  calls.on('transferred', (live, side, from) => {
    // docs/architecture.md §4.6: monitoring ends when the agent leg is transferred away.
    const before: LiveCall = { ...live, extensions: { ...live.extensions, [side]: from } };
    if (agentOf(before)?.side !== side) return;
    inBackground(
      monitoring.agentLeft(live.record.id, 'agent-transferred'),
      logger,
      'ending monitoring failed',
      {
        callId: live.record.id,
      },
    );
  });
  monitoring.on('attached', (r) => {
    const leg = monitoring.legOf(r.id);
    if (leg !== undefined) {
      quality.trackSupervisor(
        r.callId,
        r.supervisor,
        leg.id,
        () => negotiatedCodecOf(leg) ?? 'PCMU',
      );
    }
  });
  monitoring.on('ended', (r) => quality.untrackSupervisor(r.callId, r.supervisor));
  calls.on('liveEnded', (live) => {
    quality.callEnded(live.record.id);
    const history = monitoring.historyOf(live.record.id);
    notes.close(live.record.id);
    inBackground(monitoring.callEnded(live.record.id), logger, 'ending monitoring failed', {
      callId: live.record.id,
    });
    recordings
      .ended(live, history)
      .catch((err: unknown) =>
        logger.error({ err, callId: live.record.id }, 'recording sidecar not written'),
      );
  });
  if (deps.agentDisclaimer) {
    playAgentDisclaimer({
      onAttached: (listener) => monitoring.on('attached', listener),
      answeredCall: (callId) => calls.answeredCall(callId),
      prompt: deps.agentDisclaimer,
      logger,
    });
  }
  registerMonitoringMetrics(deps.registry, monitoring, deps.engine, recordings);
  if (deps.events !== undefined) publishSupervision(deps.events, monitoring, notes, presence);
  return {
    monitoring,
    recordings,
    notes,
    audit,
    presence,
    quality,
    handChange,
    agentOf,
    async close() {
      await monitoring.close();
      await audit.close();
    },
  };
}

/** Monitor sessions, raised hands and supervisors' presence on the event stream. */
function publishSupervision(
  bus: EventBus,
  monitoring: MonitoringService,
  notes: CallNotes,
  presence: SupervisorPresence,
): void {
  presence.on('changed', (c) => bus.publish({ type: 'presence.changed', ...c }));
  const body = (r: MonitorSessionRecord) => ({
    sessionId: r.id,
    callId: r.callId,
    supervisor: r.supervisor,
    agent: r.agent,
    mode: r.modes[r.modes.length - 1]!.mode,
  });
  monitoring.on('started', (r) => bus.publish({ type: 'monitor.started', ...body(r) }));
  monitoring.on('answered', (r) => bus.publish({ type: 'monitor.answered', ...body(r) }));
  monitoring.on('modeChanged', (r, from) =>
    bus.publish({ type: 'monitor.mode-changed', ...body(r), from }),
  );
  monitoring.on('ended', (r) =>
    bus.publish({
      type: 'monitor.ended',
      ...body(r),
      ...(r.endReason !== undefined ? { reason: r.endReason } : {}),
    }),
  );
  monitoring.on('refused', (r) =>
    bus.publish({
      type: 'monitor.refused',
      sessionId: null,
      callId: r.callId,
      supervisor: r.supervisor ?? '',
      agent: r.agent ?? '',
      mode: r.mode ?? 'listen',
      reason: r.code,
    }),
  );
  for (const [event, type] of [
    ['handRaised', 'hand.raised'],
    ['handLowered', 'hand.lowered'],
  ] as const) {
    notes.on(event, (c) =>
      bus.publish({ type, callId: c.callId, agent: c.agent ?? '', by: c.by, reason: c.reason }),
    );
  }
}
