/**
 * Why a monitoring action was refused, as one stable code per reason (docs/architecture.md §4.2), and
 * what each trigger answers for it: a SIP status to a feature-code INVITE, an HTTP status
 * (with the code in the JSON error) to the REST API, an `errno` to the Yeastar adapter.
 * The audit log and the event stream carry the code itself.
 */
import type { MonitorMode } from './modes.js';

export type RefusalCode =
  /** monitoring.enabled is false. */
  | 'monitoring-disabled'
  /** The monitor or the target is not a configured extension. */
  | 'unknown-extension'
  /** A monitor targeting itself. */
  | 'self'
  /** No group lets this monitor monitor this member. */
  | 'not-permitted'
  /** The member has allowMonitoring: false. */
  | 'member-forbids'
  /** The monitor's groups do not allow this mode on this member. */
  | 'mode-not-allowed'
  /** The target is in no answered call (or the call id is unknown). */
  | 'no-call'
  /** The monitor is in a call or already monitoring. */
  | 'monitor-busy'
  /** The monitor has no registered phone to call (API-triggered starts), or none of the
   * kind asked for (`device`: browser or phone). */
  | 'monitor-not-registered'
  /** The supervisor's presence is away or dnd (supervisorPresence.ts). */
  | 'monitor-unavailable'
  /** The call already has maxParticipants legs. */
  | 'max-participants'
  /** The target is itself a monitor leg (never monitored). */
  | 'target-is-monitor'
  /** The call was taken over: no other monitoring, no other mode. */
  | 'taken-over'
  /** The supervisor's phone sent no usable SDP, or did not answer our call. */
  | 'media-failed'
  /** The call's caller still waits in a queue: no agent to monitor yet. */
  | 'queue-waiting';

const MESSAGES: Record<RefusalCode, string> = {
  'monitoring-disabled': 'monitoring is disabled',
  'unknown-extension': 'no such extension',
  self: 'an extension cannot monitor itself',
  'not-permitted': 'no monitoring group lets this monitor monitor this extension',
  'member-forbids': 'this extension may not be monitored',
  'mode-not-allowed': "this mode is not allowed by the monitor's groups",
  'no-call': 'the extension is in no answered call',
  'monitor-busy': 'the monitor is not idle',
  'monitor-not-registered': 'the monitor has no registered phone',
  'monitor-unavailable': 'the monitor is not available (away or do not disturb)',
  'max-participants': 'the call has the maximum number of participants',
  'target-is-monitor': 'a monitor leg is never monitored',
  'taken-over': 'the call was taken over',
  'media-failed': "the monitor's phone did not set up media",
  'queue-waiting': 'the caller still waits in a queue: no agent has answered yet',
};

/** The words for a refusal code. */
export function refusalMessage(code: RefusalCode): string {
  return MESSAGES[code];
}

/** Every refusal code (for schemas). */
export const REFUSAL_CODES = Object.keys(MESSAGES) as RefusalCode[];

export class MonitorRefusal extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string = MESSAGES[code],
  ) {
    super(message);
    this.name = 'MonitorRefusal';
  }
}

/** The SIP final response to a feature-code INVITE refused for `code`. */
export function sipStatusOf(code: RefusalCode): number {
  switch (code) {
    case 'unknown-extension':
      return 404;
    case 'no-call':
    case 'queue-waiting':
    case 'monitor-not-registered':
    case 'monitor-unavailable':
      return 480;
    case 'monitor-busy':
    case 'max-participants':
      return 486;
    case 'media-failed':
      return 488;
    default:
      return 403;
  }
}

/** The HTTP status of the REST API for `code`. */
export function httpStatusOf(code: RefusalCode): number {
  switch (code) {
    case 'unknown-extension':
    case 'no-call':
      return 404;
    case 'monitor-busy':
    case 'monitor-not-registered':
    case 'monitor-unavailable':
    case 'max-participants':
    case 'taken-over':
    case 'media-failed':
    case 'queue-waiting':
      return 409;
    default:
      return 403;
  }
}

/**
 * Yeastar S-Series `errno` (docs/architecture.md §11.2): 10006 no such extension, 10007 no such call,
 * 10008 extension not idle, 10009 not allowed to be monitored, 10010 monitor mode does
 * not match. (10004, a blank parameter, is the adapter's own.)
 */
export function yeastarErrnoOf(code: RefusalCode): string {
  switch (code) {
    case 'unknown-extension':
      return '10006';
    case 'no-call':
    case 'queue-waiting':
      return '10007';
    case 'monitor-busy':
    case 'monitor-not-registered':
    case 'monitor-unavailable':
    case 'max-participants':
    case 'media-failed':
      return '10008';
    case 'mode-not-allowed':
      return '10010';
    default:
      return '10009';
  }
}

export type { MonitorMode };
