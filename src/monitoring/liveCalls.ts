/**
 * The live-call listing of a supervisor dashboard (docs/architecture.md §4.7): each call
 * with its id, times and duration, direction, agent, remote number and name, tags, the
 * agent's monitoring groups, a raised hand, and who monitors it in which mode since when;
 * and the filters such a dashboard offers (agent, group, direction, tag, duration range,
 * raised hand). Pure views over the call service and the supervision state.
 */
import type { MonitorMode } from './modes.js';
import type { LiveCall } from '../calls/callService.js';
import type { CallDirection } from '../calls/dialPlan.js';
import type { Config } from '../config/schema.js';
import type { Supervision } from './supervision.js';
import type { CallQualityView } from './callQualityService.js';

export interface LiveCallView {
  id: string;
  state: 'proceeding' | 'early' | 'answered' | 'ended';
  direction: CallDirection;
  startedAt: string;
  answeredAt: string | null;
  /** Seconds since the call started (a dashboard's timer). */
  durationSec: number;
  /** The monitored extension: who took (or placed, outbound) the call; null for none. */
  agent: string | null;
  agentName: string | null;
  remote: { number: string; name: string | null };
  tags: string[];
  /** The agent's monitoring groups. */
  groups: string[];
  hand: { raised: boolean; raisedAt: string | null; by: string | null };
  monitors: Array<{
    id: string;
    supervisor: string;
    supervisorName: string | null;
    mode: MonitorMode;
    state: 'calling' | 'active' | 'ended';
    /** When the current mode began. */
    since: string;
  }>;
  /** Live quality per leg (null until the media engine's first report on the call). */
  quality: CallQualityView | null;
  /** A queue call (docs/architecture.md §9.5): its queue and the caller's wait; else null. */
  queue: QueueCallView | null;
}

export interface QueueCallView {
  number: string;
  /** The caller still waits (no member connected yet). */
  waiting: boolean;
  /** Seconds waited: until now while waiting, else until a member answered. */
  waitSec: number;
  /** The member who answered (null while waiting). */
  agent: string | null;
}

export interface LiveCallFilter {
  agent?: string;
  group?: string;
  direction?: CallDirection;
  tag?: string;
  minDurationSec?: number;
  maxDurationSec?: number;
  hand?: boolean;
  queue?: string;
}

export class LiveCallListing {
  private readonly names: Map<string, string | undefined>;

  constructor(
    config: Config,
    private readonly calls: {
      liveCallsWithMedia(): LiveCall[];
      liveCall(id: string): LiveCall | undefined;
    },
    private readonly supervision: Pick<Supervision, 'agentOf' | 'notes' | 'monitoring'> &
      Partial<Pick<Supervision, 'quality'>>,
    private readonly now: () => number,
    private readonly toWall: (clockMs: number) => Date,
  ) {
    this.names = new Map(config.extensions.map((e) => [e.number, e.displayName]));
  }

  list(filter: LiveCallFilter = {}): LiveCallView[] {
    return this.calls
      .liveCallsWithMedia()
      .map((c) => this.view(c))
      .filter((v) => matchesLiveCallFilter(v, filter));
  }

  get(id: string): LiveCallView | undefined {
    const live = this.calls.liveCall(id);
    return live === undefined ? undefined : this.view(live);
  }

  private view(live: LiveCall): LiveCallView {
    const { record } = live;
    const agent = this.supervision.agentOf(live);
    const other = agent?.side === 'a' ? 'b' : 'a';
    const remoteNumber = other === 'a' ? record.caller : record.callee;
    const remoteExtension = live.extensions[other];
    const remoteName =
      remoteExtension !== undefined
        ? (this.names.get(remoteExtension) ?? null)
        : other === 'a'
          ? (record.callerName ?? null)
          : null;
    const hand = this.supervision.notes.hand(record.id);
    const iso = (ms: number) => this.toWall(ms).toISOString();
    return {
      id: record.id,
      state: record.state,
      direction: record.direction,
      startedAt: iso(record.startedAt),
      answeredAt: record.answeredAt === undefined ? null : iso(record.answeredAt),
      durationSec: Math.max(0, Math.floor((this.now() - record.startedAt) / 1000)),
      agent: agent?.extension ?? null,
      agentName: agent === undefined ? null : (this.names.get(agent.extension) ?? null),
      remote: { number: remoteNumber, name: remoteName },
      tags: this.supervision.notes.tags(record.id),
      groups:
        agent === undefined
          ? []
          : this.supervision.monitoring.permissions.groupsOf(agent.extension),
      hand: {
        raised: hand !== undefined,
        raisedAt: hand === undefined ? null : iso(hand.raisedAt),
        by: hand?.by ?? null,
      },
      monitors: this.supervision.monitoring.sessionsOf(record.id).map((s) => {
        const current = s.modes[s.modes.length - 1]!;
        return {
          id: s.id,
          supervisor: s.supervisor,
          supervisorName: this.names.get(s.supervisor) ?? null,
          mode: current.mode,
          state: s.state,
          since: iso(current.at),
        };
      }),
      quality: this.supervision.quality?.qualityOf(record.id) ?? null,
      queue: queueView(record.queue, this.now()),
    };
  }
}

function queueView(queue: LiveCall['record']['queue'], now: number): QueueCallView | null {
  if (queue === undefined) return null;
  const waiting = queue.agent === undefined;
  const waitMs = waiting ? now - queue.joinedAt : (queue.waitMs ?? 0);
  return {
    number: queue.number,
    waiting,
    waitSec: Math.max(0, Math.floor(waitMs / 1000)),
    agent: queue.agent ?? null,
  };
}

/** Whether a call's view passes the listing's filters. */
export function matchesLiveCallFilter(v: LiveCallView, f: LiveCallFilter): boolean {
  if (f.agent !== undefined && v.agent !== f.agent) return false;
  if (f.group !== undefined && !v.groups.includes(f.group)) return false;
  if (f.direction !== undefined && v.direction !== f.direction) return false;
  if (f.tag !== undefined && !v.tags.includes(f.tag)) return false;
  if (f.minDurationSec !== undefined && v.durationSec < f.minDurationSec) return false;
  if (f.maxDurationSec !== undefined && v.durationSec > f.maxDurationSec) return false;
  if (f.hand !== undefined && v.hand.raised !== f.hand) return false;
  if (f.queue !== undefined && v.queue?.number !== f.queue) return false;
  return true;
}
