/**
 * Which events a token may see on the stream (docs/architecture.md §11.3: "filtered by the token's
 * scope"). admin sees everything. A supervisor token sees events about itself and about
 * the extensions it may monitor. An agent token sees its own registration, calls and
 * raised hands, and (unless monitoring.notifyAgents is false) that it is monitored and in
 * which mode, never refusals nor call quality (which names the supervisors' legs).
 */
import type { Principal } from '../http/api/auth.js';
import type { ApiEvent } from './eventTypes.js';

export type CanSee = (principal: Principal, event: ApiEvent) => boolean;

/** The default when the caller gives no rule: admin tokens only. */
export const adminOnly: CanSee = (principal) => principal.scope === 'admin';

export interface VisibilityRules {
  /** Whether agents' streams carry monitor.started/mode-changed/ended about them. */
  notifyAgents: boolean;
  /** Whether `supervisor` may monitor `extension` (its monitoring groups). */
  mayMonitor(supervisor: string, extension: string): boolean;
}

/** The extensions an event is about (a supervisor sees it when it may monitor one). */
function extensionsOf(event: ApiEvent): string[] {
  switch (event.type) {
    case 'registration.changed':
    case 'presence.changed':
      return [event.extension];
    case 'cluster.events-gap':
      return [];
    case 'call.created':
    case 'call.answered':
    case 'call.ended':
      // remote is an extension on internal calls; on others it matches no extension. A
      // queue call is also about its queue, which monitoring groups may name (§9.5).
      return [event.agent, event.remote, ...(event.queue !== undefined ? [event.queue] : [])];
    default:
      return [event.agent];
  }
}

export function scopeVisibility(rules: VisibilityRules): CanSee {
  return (principal, event) => {
    if (principal.scope === 'admin') return true;
    // Names nothing; every stream that may have missed events needs it.
    if (event.type === 'cluster.events-gap') return true;
    const self = principal.extension;
    if (self === null) return false;
    if (principal.scope === 'supervisor') {
      if ('supervisor' in event && event.supervisor === self) return true;
      return extensionsOf(event).some((e) => e === self || rules.mayMonitor(self, e));
    }
    // agent
    switch (event.type) {
      // call.quality names the supervisors' legs: for supervisors and admin.
      case 'monitor.refused':
      case 'call.quality':
        return false;
      case 'monitor.started':
      case 'monitor.answered':
      case 'monitor.mode-changed':
      case 'monitor.ended':
        return rules.notifyAgents && event.agent === self;
      case 'hand.lowered':
        // Lowered because a supervisor joined: that says the agent is monitored (and by
        // whom), which only notifyAgents allows; the hand then clears with the call.
        if (event.reason === 'supervisor-joined' && !rules.notifyAgents) return false;
        return event.agent === self;
      default:
        return extensionsOf(event).includes(self);
    }
  };
}

/** mayMonitor from monitoring groups: some group lists `supervisor` as a monitor and
 * `extension` as a member. */
export function groupsMayMonitor(
  groups: readonly { monitors: readonly string[]; members: readonly string[] }[],
): VisibilityRules['mayMonitor'] {
  const pairs = new Set<string>();
  for (const g of groups) {
    for (const m of g.monitors) for (const e of g.members) pairs.add(`${m}\n${e}`);
  }
  return (supervisor, extension) => pairs.has(`${supervisor}\n${extension}`);
}
