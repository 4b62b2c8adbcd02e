/**
 * Supervisors' presence (available / away / dnd) on every instance (docs/architecture.md
 * "Several instances"): a status set on one instance is what the instance anchoring a
 * call checks when it refuses an unavailable supervisor. Each instance keeps its own
 * SupervisorPresence (the monitoring checks read it synchronously) and mirrors the
 * others' through Redis, as the bindings are mirrored:
 *
 * - A status set here (not `available`) is written as `presence:<ext>` = {status, origin}
 *   with an expiry of `ttlMs`, refreshed every `refreshMs` by the instance that took it;
 *   `available` deletes the key. The change is announced on the `presence` channel, and
 *   the other instances apply it at once.
 * - Every refresh each instance also reads every `presence:*` key and applies what it
 *   finds: a status another instance set, and `available` for one whose key lapsed (its
 *   instance died: as a restart does on one instance, its statuses are forgotten).
 * - Redis down: a change made here is not shared (logged once per change) and is written
 *   when Redis is back; meanwhile every instance checks the statuses it last knew.
 *
 * The applied changes raise `presence.changed` on each instance's own bus (the event is
 * not shared; each instance raises its own, as for registrations).
 */
import type { Clock, TimerHandle } from '../../sip/clock.js';
import type { Logger } from '../logging.js';
import {
  PRESENCE_STATUSES,
  type PresenceStatus,
  type SupervisorPresence,
} from '../monitoring/supervisorPresence.js';
import type { ClusterKeys } from './keys.js';
import type { RedisConnection } from './redisConnection.js';

export interface SharedPresenceDeps {
  instanceId: string;
  presence: SupervisorPresence;
  redis: RedisConnection;
  keys: ClusterKeys;
  clock: Clock;
  logger: Logger;
  refreshMs: number;
  ttlMs: number;
}

/** One presence entry (a key's value, or a channel message with its extension). */
export interface PresenceEntry {
  extension: string;
  status: PresenceStatus;
  origin: string;
}

export function parsePresenceEntry(text: string): PresenceEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.extension !== 'string' || typeof o.origin !== 'string') return undefined;
  if (!PRESENCE_STATUSES.includes(o.status as PresenceStatus)) return undefined;
  return { extension: o.extension, status: o.status as PresenceStatus, origin: o.origin };
}

export class SharedPresence {
  /** Statuses set on this instance (not available): written and refreshed by it. */
  private readonly own = new Map<string, PresenceStatus>();
  /** Extensions whose status another instance set, as applied here. */
  private readonly remote = new Set<string>();
  private applying = false;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly detach: Array<() => void> = [];

  constructor(private readonly deps: SharedPresenceDeps) {}

  async start(): Promise<void> {
    const { presence, redis, keys } = this.deps;
    const onLocal = (c: { extension: string; status: PresenceStatus }) => {
      if (!this.applying) this.changedHere(c.extension, c.status);
    };
    presence.on('changed', onLocal);
    this.detach.push(() => presence.off('changed', onLocal));
    const onMessage = (channel: string, text: string) => {
      if (channel !== keys.presenceChannel) return;
      const entry = parsePresenceEntry(text);
      if (entry === undefined || entry.origin === this.deps.instanceId) return;
      // Set elsewhere now: that instance writes and refreshes it from here on.
      this.own.delete(entry.extension);
      this.apply(entry.extension, entry.status);
    };
    redis.subscriber.on('message', onMessage);
    this.detach.push(() => redis.subscriber.off('message', onMessage));
    await redis.subscriber.subscribe(keys.presenceChannel);
    this.refresh();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    for (const d of this.detach.splice(0)) d();
  }

  private changedHere(extension: string, status: PresenceStatus): void {
    const { redis, keys, instanceId, ttlMs, logger } = this.deps;
    this.remote.delete(extension);
    if (status === 'available') this.own.delete(extension);
    else this.own.set(extension, status);
    if (!redis.available) {
      logger.warn(
        { extension, status },
        'presence change not shared: redis unreachable (shared when it is back)',
      );
      return;
    }
    const entry: PresenceEntry = { extension, status, origin: instanceId };
    const pipeline = redis.commands.pipeline();
    if (status === 'available') pipeline.del(keys.presence(extension));
    else pipeline.set(keys.presence(extension), JSON.stringify(entry), 'PX', ttlMs);
    pipeline.publish(keys.presenceChannel, JSON.stringify(entry));
    pipeline.exec().catch((err: unknown) => {
      logger.warn({ err, extension, status }, 'sharing a presence change failed');
    });
  }

  /** A status another instance set (or that lapsed), applied here without sharing it. */
  private apply(extension: string, status: PresenceStatus): void {
    if (status === 'available') this.remote.delete(extension);
    else this.remote.add(extension);
    this.applying = true;
    try {
      this.deps.presence.set(extension, status);
    } finally {
      this.applying = false;
    }
  }

  private refresh(): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimer(this.deps.refreshMs, () => this.refresh());
    if (!this.deps.redis.available) return;
    this.sync().catch((err: unknown) => {
      this.deps.logger.debug({ err }, 'refreshing the shared presence failed');
    });
  }

  /** Writes this instance's statuses again, then applies everyone else's. */
  private async sync(): Promise<void> {
    const { redis, keys, instanceId, ttlMs } = this.deps;
    if (this.own.size > 0) {
      const pipeline = redis.commands.pipeline();
      for (const [extension, status] of this.own) {
        const entry: PresenceEntry = { extension, status, origin: instanceId };
        pipeline.set(keys.presence(extension), JSON.stringify(entry), 'PX', ttlMs);
      }
      await pipeline.exec();
    }
    const found = new Map<string, PresenceEntry>();
    let cursor = '0';
    do {
      const [next, batch] = await redis.commands.scan(
        cursor,
        'MATCH',
        keys.presencePattern,
        'COUNT',
        200,
      );
      cursor = next;
      if (batch.length === 0) continue;
      const values = await redis.commands.mget(batch);
      for (const text of values) {
        const entry = text === null ? undefined : parsePresenceEntry(text);
        if (entry !== undefined) found.set(entry.extension, entry);
      }
    } while (cursor !== '0');
    if (this.stopped) return;
    for (const entry of found.values()) {
      if (entry.origin === instanceId || this.own.has(entry.extension)) continue;
      if (this.deps.presence.statusOf(entry.extension) !== entry.status) {
        this.apply(entry.extension, entry.status);
      } else this.remote.add(entry.extension);
    }
    for (const extension of [...this.remote]) {
      if (!found.has(extension)) this.apply(extension, 'available');
    }
  }
}
