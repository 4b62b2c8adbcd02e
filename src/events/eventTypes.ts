/**
 * The events of the event stream (`GET /v1/events`, docs/architecture.md §11.3): one JSON object each,
 * `{seq, time, type, ...}`. `seq` increases by one per event published in this process
 * (a client resumes with `?since=<seq>`); `time` is the ISO wall-clock time of publication.
 * The bodies name extensions, never addresses or credentials: who may see an event is
 * decided from the extensions it names (visibility.ts).
 */
import type { CallDirection } from '../calls/dialPlan.js';
import type { MonitorMode } from '../monitoring/refusals.js';
import type { PresenceStatus } from '../monitoring/supervisorPresence.js';
import type { CallQualityView } from '../monitoring/callQualityService.js';

/** An extension's registration state changed: it registered, or a contact went away. */
export interface RegistrationChanged {
  type: 'registration.changed';
  extension: string;
  /** At least one contact is registered. */
  registered: boolean;
  /** How many contacts (phones) the extension has registered now. */
  contacts: number;
}

/** The call-lifecycle events. `agent` is the extension side, `remote` the other party. */
export interface CallEventBody {
  callId: string;
  /** The extension that took (inbound, internal) or placed (outbound) the call. */
  agent: string;
  /** The other party: the customer's number, or the other extension of an internal call. */
  remote: string;
  direction: CallDirection;
  /** A queue call (docs/architecture.md §9.5): the queue's number. */
  queue?: string;
  /** A queue call once a member answered: how long the caller waited, ms. */
  waitMs?: number;
}

export interface CallCreated extends CallEventBody {
  type: 'call.created';
}

export interface CallAnswered extends CallEventBody {
  type: 'call.answered';
}

export interface CallEnded extends CallEventBody {
  type: 'call.ended';
  /** Why it ended (an EndReason of the call record). */
  endReason?: string;
}

/** The monitoring events: a supervisor's session on an agent's call. */
export interface MonitorEventBody {
  /** The monitor session (null for a refusal that never made one). */
  sessionId: string | null;
  callId: string | null;
  supervisor: string;
  agent: string;
  mode: MonitorMode;
}

export interface MonitorStarted extends MonitorEventBody {
  type: 'monitor.started';
}

/**
 * A session started through the API (state `calling`) became `active`: the supervisor's
 * phone answered. A feature-code session is active from its monitor.started.
 */
export interface MonitorAnswered extends MonitorEventBody {
  type: 'monitor.answered';
}

export interface MonitorModeChanged extends MonitorEventBody {
  type: 'monitor.mode-changed';
  /** The mode before the change. */
  from: MonitorMode;
}

export interface MonitorEnded extends MonitorEventBody {
  type: 'monitor.ended';
  reason?: string;
}

export interface MonitorRefused extends MonitorEventBody {
  type: 'monitor.refused';
  /** The refusal code (RefusalCode of monitoring/refusals.ts). */
  reason: string;
}

/** An agent's raised hand on a call. */
export interface HandEventBody {
  callId: string;
  agent: string;
  /** Who raised or lowered it: the agent, a supervisor, an API token's name, or 'system'. */
  by: string;
  /** raised; or why it was lowered: lowered (by someone), supervisor-joined, call-ended. */
  reason: 'raised' | 'lowered' | 'supervisor-joined' | 'call-ended';
}

export interface HandRaised extends HandEventBody {
  type: 'hand.raised';
}

export interface HandLowered extends HandEventBody {
  type: 'hand.lowered';
}

/** A supervisor's presence changed (available / away / dnd). */
export interface PresenceChanged {
  type: 'presence.changed';
  extension: string;
  status: PresenceStatus;
}

/** A live call's quality changed (at most every 2 s; docs/architecture.md §11.5). */
export interface CallQuality {
  type: 'call.quality';
  callId: string;
  agent: string;
  quality: CallQualityView;
}

/**
 * Several instances: the shared state (Redis) was unreachable from `since` until now, so
 * the other instances' events of that time never reached this stream (pub/sub keeps
 * nothing). A client that keeps a list from events reloads it.
 */
export interface ClusterEventsGap {
  type: 'cluster.events-gap';
  /** ISO 8601 wall-clock time the outage began. */
  since: string;
}

/** What a publisher passes to EventBus.publish (the bus adds seq and time). */
export type EventBody =
  | RegistrationChanged
  | CallCreated
  | CallAnswered
  | CallEnded
  | MonitorStarted
  | MonitorAnswered
  | MonitorModeChanged
  | MonitorEnded
  | MonitorRefused
  | HandRaised
  | HandLowered
  | PresenceChanged
  | CallQuality
  | ClusterEventsGap;

export type EventType = EventBody['type'];

/** An event as stored and sent: its body with the sequence number and time. */
export type ApiEvent = EventBody & {
  /** 1, 2, 3, … per process. */
  readonly seq: number;
  /** ISO 8601 wall-clock time of publication. */
  readonly time: string;
  /** Several instances: the instance whose call raised it, when not this one. */
  readonly instance?: string;
};

/** The event of one type. */
export type EventOf<T extends EventType> = Extract<ApiEvent, { type: T }>;

export const EVENT_TYPES: readonly EventType[] = [
  'registration.changed',
  'call.created',
  'call.answered',
  'call.ended',
  'monitor.started',
  'monitor.answered',
  'monitor.mode-changed',
  'monitor.ended',
  'monitor.refused',
  'hand.raised',
  'hand.lowered',
  'presence.changed',
  'call.quality',
  'cluster.events-gap',
];

export function isMonitorEvent(
  e: EventBody,
): e is MonitorStarted | MonitorAnswered | MonitorModeChanged | MonitorEnded | MonitorRefused {
  return e.type.startsWith('monitor.');
}
