/**
 * What an agent is told about being monitored (docs/architecture.md §11.5): with
 * `monitoring.notices.agent` (and the older `monitoring.notifyAgents`) on, an agent's
 * calls list who monitors them and its event stream carries monitor.* about its calls;
 * off, neither. Pure.
 */
import type { Config } from '../config/schema.js';
import type { LiveCallView } from './liveCalls.js';
import type { MonitorMode } from './modes.js';

/** Whether agents are told that they are monitored. */
export function agentNoticesOn(config: Config): boolean {
  return config.monitoring.notices.agent && config.monitoring.notifyAgents;
}

export interface MonitoredByEntry {
  supervisor: string;
  supervisorName: string | null;
  mode: MonitorMode;
}

/**
 * Who monitors a call, as its agent sees it: every session not ended (one still ringing
 * the supervisor's phone included, as monitor.started is sent then), none when notices
 * are off.
 */
export function monitoredBy(view: LiveCallView, noticesOn: boolean): MonitoredByEntry[] {
  if (!noticesOn) return [];
  return view.monitors
    .filter((m) => m.state !== 'ended')
    .map((m) => ({ supervisor: m.supervisor, supervisorName: m.supervisorName, mode: m.mode }));
}
