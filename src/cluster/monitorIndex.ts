/**
 * Which instance holds which live monitor session, so that a request about a session
 * (`PATCH`/`DELETE /v1/monitors/{id}`) sent to any instance reaches the one that holds it
 * (docs/architecture.md "Several instances"). The holder writes `monitor:<id>` when the
 * session starts (its `monitor.started` event) and again every refresh, with the same
 * expiry as the call index, and deletes it when the session ends; a dead instance's
 * sessions lapse with its calls.
 */
import type { Clock, TimerHandle } from '../../sip/clock.js';
import type { EventBus } from '../events/eventBus.js';
import type { Logger } from '../logging.js';
import type { ClusterKeys } from './keys.js';
import type { RedisConnection } from './redisConnection.js';

export interface MonitorIndexDeps {
  instanceId: string;
  events: EventBus;
  redis: RedisConnection;
  keys: ClusterKeys;
  clock: Clock;
  logger: Logger;
  refreshMs: number;
  ttlMs: number;
}

export class MonitorIndex {
  /** This instance's live sessions. */
  private readonly live = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly deps: MonitorIndexDeps) {}

  start(): void {
    this.unsubscribe = this.deps.events.subscribe(
      // Only this instance's own sessions (another instance's events carry `instance`).
      (e) =>
        (e.type === 'monitor.started' || e.type === 'monitor.ended') && e.instance === undefined,
      (e) => {
        if (e.type !== 'monitor.started' && e.type !== 'monitor.ended') return;
        if (e.sessionId === null) return;
        if (e.type === 'monitor.started') {
          this.live.add(e.sessionId);
          this.write([e.sessionId]);
        } else {
          this.live.delete(e.sessionId);
          this.remove(e.sessionId);
        }
      },
    );
    this.refresh();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.unsubscribe?.();
  }

  /** The instance holding a live session, or undefined; rejects without Redis. */
  async ownerOf(id: string): Promise<string | undefined> {
    const owner = await this.deps.redis.run((r) => r.get(this.deps.keys.monitor(id)));
    return owner ?? undefined;
  }

  private refresh(): void {
    if (this.stopped) return;
    this.write([...this.live]);
    this.timer = this.deps.clock.setTimer(this.deps.refreshMs, () => this.refresh());
  }

  private write(ids: readonly string[]): void {
    const { redis, keys, instanceId, ttlMs } = this.deps;
    if (ids.length === 0 || !redis.available) return; // refresh catches up after an outage
    const pipeline = redis.commands.pipeline();
    for (const id of ids) pipeline.set(keys.monitor(id), instanceId, 'PX', ttlMs);
    pipeline.exec().catch((err: unknown) => {
      this.deps.logger.debug({ err }, 'writing the monitor index failed');
    });
  }

  private remove(id: string): void {
    const { redis, keys } = this.deps;
    if (!redis.available) return; // its key lapses by itself
    redis.commands.del(keys.monitor(id)).catch((err: unknown) => {
      this.deps.logger.debug({ err }, 'removing a monitor from the index failed');
    });
  }
}
