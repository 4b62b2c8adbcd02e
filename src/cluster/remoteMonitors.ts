/**
 * Which supervisors have a monitor session on a call another instance anchors, so that
 * the instance asked to start one refuses `monitor-busy` as one instance would
 * (docs/architecture.md "Several instances"). Built from the other instances' shared
 * `monitor.started` / `monitor.ended` events (sharedEvents.ts republishes them here with
 * `instance` set), and pruned every refresh against the monitor index: a session whose
 * `monitor:<id>` key lapsed (its instance died, or its end was missed during a Redis
 * outage) is forgotten. Redis down: the last known sessions stand.
 */
import type { Clock, TimerHandle } from '../../sip/clock.js';
import type { EventBus } from '../events/eventBus.js';
import type { Logger } from '../logging.js';
import type { ClusterKeys } from './keys.js';
import type { RedisConnection } from './redisConnection.js';
import { HolderIndex } from '../util/holderIndex.js';

export interface RemoteMonitorsDeps {
  events: EventBus;
  redis: RedisConnection;
  keys: ClusterKeys;
  clock: Clock;
  logger: Logger;
  refreshMs: number;
}

export class RemoteMonitors {
  /** Session id → supervisor, for sessions held by other instances. */
  private readonly sessions = new HolderIndex<string, string>();
  private unsubscribe: (() => void) | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly deps: RemoteMonitorsDeps) {}

  start(): void {
    this.unsubscribe = this.deps.events.subscribe(
      (e) =>
        (e.type === 'monitor.started' || e.type === 'monitor.ended') && e.instance !== undefined,
      (e) => {
        if (e.type !== 'monitor.started' && e.type !== 'monitor.ended') return;
        if (e.sessionId === null) return;
        if (e.type === 'monitor.started') this.sessions.set(e.sessionId, [e.supervisor]);
        else this.sessions.delete(e.sessionId);
      },
    );
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.unsubscribe?.();
  }

  /** Whether `supervisor` has a live session on another instance. */
  isMonitoring(supervisor: string): boolean {
    return this.sessions.has(supervisor);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimer(this.deps.refreshMs, () => {
      this.prune().catch((err: unknown) => {
        this.deps.logger.debug({ err }, 'pruning remote monitor sessions failed');
      });
      this.schedule();
    });
  }

  private async prune(): Promise<void> {
    const { redis, keys } = this.deps;
    const ids = this.sessions.holders();
    if (ids.length === 0 || !redis.available) return;
    const owners = await redis.commands.mget(ids.map((id) => keys.monitor(id)));
    owners.forEach((owner, i) => {
      if (owner === null) this.sessions.delete(ids[i]!);
    });
  }
}
