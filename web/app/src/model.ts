/**
 * The app's view of the API's live calls, and the pure logic of the Call Monitor: the
 * ticking duration, the order (raised hands first), the filters, the mode names people
 * read. Fields the server may not send (older servers, other scopes) are optional: the
 * screens show nothing for them rather than fail.
 */
export type MonitorMode = 'listen' | 'whisper' | 'barge' | 'takeover';
export const MONITOR_MODES: readonly MonitorMode[] = ['listen', 'whisper', 'barge', 'takeover'];
export type Direction = 'inbound' | 'outbound' | 'internal';
export type Rating = 'good' | 'fair' | 'poor';
export type Scope = 'admin' | 'supervisor' | 'agent';
export type PresenceStatus = 'available' | 'away' | 'dnd';

/** The words a supervisor picks a mode by (the seeds' names). */
export const MODE_LABELS: Record<MonitorMode, string> = {
  listen: 'Listen only',
  whisper: 'Talk to agent',
  barge: 'Talk to both',
  takeover: 'Take over',
};

/** What a mode means, said to the supervisor who is in it. */
export const MODE_DOING: Record<MonitorMode, string> = {
  listen: 'You are listening. Nobody hears you.',
  whisper: 'You are talking to the agent. The customer does not hear you.',
  barge: 'You are talking to both the agent and the customer.',
  takeover: 'You have taken over the call. The agent has left it.',
};

/** What a mode means, said to the agent whose call it is. */
export function agentBanner(name: string, mode: MonitorMode): string {
  switch (mode) {
    case 'listen':
      return `${name} is listening to this call.`;
    case 'whisper':
      return `${name} is talking to you. The customer does not hear them.`;
    case 'barge':
      return `${name} is talking to you and the customer.`;
    case 'takeover':
      return `${name} has taken over this call.`;
  }
}

export const PRESENCE_LABELS: Record<PresenceStatus, string> = {
  available: 'Available',
  away: 'Away',
  dnd: 'Do not disturb',
};

export const DIRECTION_LABELS: Record<Direction, string> = {
  inbound: 'Inbound',
  outbound: 'Outbound',
  internal: 'Internal',
};

export interface LegQuality {
  lossPct: number;
  jitterMs: number;
  mos: number;
  rating: Rating;
}

export interface CallQuality {
  legs: { customer?: LegQuality | null; agent?: LegQuality | null; supervisors?: LegQuality[] };
  rating: Rating;
}

export interface CallMonitor {
  id: string;
  supervisor: string;
  supervisorName?: string | null;
  mode: MonitorMode;
  state: string;
}

export interface LiveCall {
  id: string;
  state: string;
  direction: Direction;
  startedAt: string;
  answeredAt: string | null;
  durationSec: number;
  agent: string | null;
  agentName: string | null;
  remote: { number: string; name: string | null };
  tags: string[];
  groups: string[];
  hand: { raised: boolean; raisedAt: string | null; by: string | null };
  monitors: CallMonitor[];
  /** Supervisor scope: whether this supervisor may join, in which modes, or why not. */
  join?: { modes: MonitorMode[]; refusal: { code: string; message: string } | null };
  /** Agent scope: who monitors this (the agent's own) call. */
  monitoredBy?: Array<{ supervisor: string; supervisorName?: string | null; mode: MonitorMode }>;
  quality?: CallQuality | null;
  /** The queue the call came through (null: none); waiting: no agent has answered yet. */
  queue?: { number: string; waiting: boolean; waitSec: number; agent: string | null } | null;
}

/** Seconds the call has lasted at `nowMs`: from its answer (or start), never negative. */
export function durationAt(call: Pick<LiveCall, 'startedAt' | 'answeredAt'>, nowMs: number) {
  const from = Date.parse(call.answeredAt ?? call.startedAt);
  return Number.isFinite(from) ? Math.max(0, Math.floor((nowMs - from) / 1000)) : 0;
}

/** 0:07, 12:34, 1:02:03. */
export function formatDuration(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Raised hands first (longest waiting first), then the oldest calls. */
export function sortCalls(calls: readonly LiveCall[]): LiveCall[] {
  const at = (s: string | null) => (s === null ? 0 : Date.parse(s) || 0);
  return [...calls].sort((a, b) => {
    if (a.hand.raised !== b.hand.raised) return a.hand.raised ? -1 : 1;
    if (a.hand.raised) return at(a.hand.raisedAt) - at(b.hand.raisedAt);
    return at(a.startedAt) - at(b.startedAt) || a.id.localeCompare(b.id);
  });
}

export interface CallFilter {
  minDurationSec?: number;
  maxDurationSec?: number;
  agent?: string;
  group?: string;
  direction?: Direction;
  tag?: string;
  queue?: string;
  /** true: raised hands only. */
  hand?: boolean;
}

export function matchesFilter(call: LiveCall, f: CallFilter, nowMs: number): boolean {
  const d = durationAt(call, nowMs);
  if (f.minDurationSec !== undefined && d < f.minDurationSec) return false;
  if (f.maxDurationSec !== undefined && d > f.maxDurationSec) return false;
  if (f.agent !== undefined && call.agent !== f.agent) return false;
  if (f.group !== undefined && !call.groups.includes(f.group)) return false;
  if (f.direction !== undefined && call.direction !== f.direction) return false;
  if (f.tag !== undefined && !call.tags.includes(f.tag)) return false;
  if (f.queue !== undefined && call.queue?.number !== f.queue) return false;
  if (f.hand === true && !call.hand.raised) return false;
  return true;
}

/** The values each filter offers, from the calls on screen. */
export function filterChoices(calls: readonly LiveCall[]) {
  const uniq = (xs: Iterable<string>) => [...new Set(xs)].sort();
  return {
    agents: uniq(calls.flatMap((c) => (c.agent === null ? [] : [c.agent]))),
    groups: uniq(calls.flatMap((c) => c.groups)),
    tags: uniq(calls.flatMap((c) => c.tags)),
    queues: uniq(calls.flatMap((c) => (c.queue ? [c.queue.number] : []))),
  };
}

/** "600, waited 0:42" for a queue call (", waiting" while no agent has answered), else "—". */
export function queueLabel(queue: LiveCall['queue']): string {
  if (!queue) return '—';
  return queue.waiting
    ? `${queue.number}, waiting`
    : `${queue.number}, waited ${formatDuration(queue.waitSec)}`;
}

/** "Sam (1005)" when the name is known, else the number. */
export function who(number: string, name: string | null | undefined): string {
  return name ? `${name} (${number})` : number;
}

/** One line per leg, for a tooltip or the details view. */
export function qualityLines(q: CallQuality): string[] {
  const line = (label: string, l: LegQuality) =>
    `${label}: ${l.rating}, loss ${l.lossPct.toFixed(1)} %, jitter ${Math.round(l.jitterMs)} ms, MOS ${l.mos.toFixed(1)}`;
  const lines: string[] = [];
  if (q.legs.customer) lines.push(line('Customer', q.legs.customer));
  if (q.legs.agent) lines.push(line('Agent', q.legs.agent));
  (q.legs.supervisors ?? []).forEach((l, i) => lines.push(line(`Supervisor ${i + 1}`, l)));
  return lines;
}
