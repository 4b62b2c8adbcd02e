/**
 * The checks a monitoring start passes (docs/architecture.md §4.2), as one pure function
 * over facts, so that every path that asks "may this supervisor join" answers alike: a
 * start on the call's owner, the owner's own live-call listing, and another instance
 * listing the owner's call from the shared index (§17.8). The facts come in two parts:
 * the call's, which only the call's owner knows, and the supervisor's, which the
 * instance asking knows. First failure first:
 *
 *   asked for a call by id that is not answered: its caller still waits in a queue →
 *   queue-waiting, else no-call;
 *   no monitored extension → unknown-extension;
 *   permissions (permissions.ts; the call's queue counts) → their code;
 *   the supervisor's presence is away or dnd → monitor-unavailable;
 *   the target is itself monitoring → target-is-monitor;
 *   the supervisor is monitoring or in a call → monitor-busy;
 *   the target is in no answered call → no-call;
 *   the call was taken over → taken-over;
 *   one more leg would pass maxParticipants → max-participants;
 *   an API start and no registered contact (of the `device` kind) → monitor-not-registered.
 *
 * A refusal is plain data; the caller that throws it builds the MonitorRefusal.
 */
import { MONITOR_MODES, type MonitorMode } from './modes.js';
import type { MonitorDevice } from './monitoringService.js';
import { refusalMessage, type RefusalCode } from './refusals.js';
import type { PresenceStatus } from './supervisorPresence.js';

/** Why a check refused: a code (refusals.ts) and the words for it. */
export interface Refusal {
  code: RefusalCode;
  message: string;
}

/** What the call's owner knows about the call (the same on every instance that asks). */
export interface CallFacts {
  /** Asked for a call by id and it is not answered: why (refused before anything else). */
  unanswered?: Refusal;
  /** The monitored extension: the call's agent, or the extension asked for. */
  agent?: string;
  /** The answered call the agent is in; absent when none. */
  call?: {
    /** The queue the call came through (its monitors may join it too). */
    queue?: string;
    takenOver: boolean;
    /** Legs now: customer, agent, every session, ringing ones included. */
    legs: number;
  };
  /** The agent is itself monitoring (or being rung to monitor) a call. */
  agentMonitoring: boolean;
}

/** What the instance asking knows about the supervisor. */
export interface SupervisorFacts {
  presence: PresenceStatus;
  /** Monitoring (here or on another instance) or in a call. */
  busy: boolean;
  /** An API start: whether a contact of the kind asked for is registered. Absent for a
   * feature code (the supervisor's phone is the one calling). */
  contacts?: { registered: boolean; device?: MonitorDevice };
}

/** The static rules: the config's permissions and limits. */
export interface JoinRules {
  /** The permission check of `mode` on `agent` (permissions.ts), `queue`: the call's. */
  permission(agent: string, mode: MonitorMode, queue: string | undefined): RefusalCode | undefined;
  maxParticipants: number;
}

/** Whether a supervisor may join a call now: the modes it may use, else why not. */
export interface JoinEligibility {
  modes: MonitorMode[];
  refusal: Refusal | null;
}

const refused = (code: RefusalCode, message?: string): Refusal => ({
  code,
  message: message ?? refusalMessage(code),
});

/** The first check of the file comment that refuses `mode`, or undefined when all pass. */
export function evaluateJoin(
  mode: MonitorMode,
  call: CallFacts,
  supervisor: SupervisorFacts,
  rules: JoinRules,
): Refusal | undefined {
  if (call.unanswered !== undefined) return call.unanswered;
  const { agent } = call;
  if (agent === undefined) return refused('unknown-extension');
  const denied = rules.permission(agent, mode, call.call?.queue);
  if (denied !== undefined) return refused(denied);
  if (supervisor.presence !== 'available') return refused('monitor-unavailable');
  if (call.agentMonitoring) return refused('target-is-monitor');
  if (supervisor.busy) return refused('monitor-busy');
  if (call.call === undefined) return refused('no-call');
  if (call.call.takenOver) return refused('taken-over');
  if (call.call.legs + 1 > rules.maxParticipants) return refused('max-participants');
  const { contacts } = supervisor;
  if (contacts !== undefined && !contacts.registered) {
    const kind = contacts.device === undefined ? 'phone' : `${contacts.device} contact`;
    return refused('monitor-not-registered', `the monitor has no registered ${kind}`);
  }
  return undefined;
}

/**
 * The checks for every mode: the modes that pass, and when none does, what a start
 * would answer (the first refusal that is not `mode-not-allowed`, if any).
 */
export function joinEligibility(
  call: CallFacts,
  supervisor: SupervisorFacts,
  rules: JoinRules,
): JoinEligibility {
  const modes: MonitorMode[] = [];
  let refusal: Refusal | undefined;
  for (const mode of MONITOR_MODES) {
    const r = evaluateJoin(mode, call, supervisor, rules);
    if (r === undefined) modes.push(mode);
    else if (refusal === undefined || refusal.code === 'mode-not-allowed') refusal = r;
  }
  return { modes, refusal: modes.length > 0 || refusal === undefined ? null : refusal };
}
