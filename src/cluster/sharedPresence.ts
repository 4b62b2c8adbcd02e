/**
 * Supervisors' presence (available / away / dnd) on every instance (docs/architecture.md
 * "Several instances"): a status set on one instance is what the instance anchoring a
 * call checks when it refuses an unavailable supervisor. Each instance keeps its own
 * SupervisorPresence (the monitoring checks read it synchronously) and mirrors the
 * others' through Redis, as the bindings are mirrored:
 *
 * - A status set here (not `available`) is written as `presence:<ext>` = {status, origin,
 *   at} with an expiry of `ttlMs`, refreshed every `refreshMs` by the instance that took
 *   it; `available` deletes the key. `at` is the wall-clock time of the change. The
 *   change is announced on the `presence` channel, and the other instances apply it at
 *   once.
 * - Every refresh each instance also reads every `presence:*` key and applies what it
 *   finds: a status another instance set, and `available` for one whose key lapsed (its
 *   instance died: as a restart does on one instance, its statuses are forgotten).
 * - Redis down: every instance answers and checks the statuses it last knew (nothing
 *   lapses meanwhile); a change made here is kept, logged as not shared, and shared when
 *   Redis is back. Two instances may then each hold a change of the same extension made
 *   during the outage: the later change (`at`) wins everywhere, `available` included
 *   (kept as a tombstone for `ttlMs` after it was shared, so that an older status another
 *   instance writes back is deleted again rather than applied).
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
  /** Wall-clock time, ms since the epoch: the `at` of a change (the later one wins). */
  now: () => number;
  logger: Logger;
  refreshMs: number;
  ttlMs: number;
}

/** One presence entry (a key's value, or a channel message with its extension). */
export interface PresenceEntry {
  extension: string;
  status: PresenceStatus;
  origin: string;
  /** When the status was set (wall clock, ms); 0 when unknown (an entry without it). */
  at: number;
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
  const at = typeof o.at === 'number' && Number.isFinite(o.at) ? o.at : 0;
  return { extension: o.extension, status: o.status as PresenceStatus, origin: o.origin, at };
}

/** A status set on this instance that it answers for. */
export interface OwnStatus {
  status: PresenceStatus;
  at: number;
  /** Announced on the channel (false: set while Redis was down, not yet shared). */
  shared: boolean;
  /** `available` only: forgotten after this wall-clock time (once shared). */
  until?: number;
}

/**
 * Pure: the extensions whose own status another instance overrode by a later change
 * (both changed it during an outage, docs/architecture.md "Several instances").
 */
export function overriddenOwn(
  own: ReadonlyMap<string, OwnStatus>,
  found: ReadonlyMap<string, PresenceEntry>,
  self: string,
): string[] {
  const out: string[] = [];
  for (const [extension, mine] of own) {
    const theirs = found.get(extension);
    if (theirs !== undefined && theirs.origin !== self && theirs.at > mine.at) out.push(extension);
  }
  return out;
}

export class SharedPresence {
  /** Statuses set on this instance: written and refreshed by it (`available`: tombstones). */
  private readonly own = new Map<string, OwnStatus>();
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
      // A later change of ours stands (made during an outage; our refresh re-asserts it).
      const mine = this.own.get(entry.extension);
      if (mine !== undefined && mine.at > entry.at) return;
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
    const { redis, logger } = this.deps;
    this.remote.delete(extension);
    const mine: OwnStatus = { status, at: this.deps.now(), shared: false };
    this.own.set(extension, mine);
    if (!redis.available) {
      logger.warn(
        { extension, status },
        'presence change not shared: redis unreachable (shared when it is back)',
      );
      return;
    }
    const pipeline = redis.commands.pipeline();
    this.write(pipeline, extension, mine, true);
    pipeline.exec().then(
      () => this.shared(mine),
      (err: unknown) => {
        logger.warn({ err, extension, status }, 'sharing a presence change failed');
      },
    );
  }

  /** Queues the key's write (for `available`, its deletion) and, if `announce`, the message. */
  private write(
    pipeline: ReturnType<RedisConnection['commands']['pipeline']>,
    extension: string,
    mine: OwnStatus,
    announce: boolean,
  ): void {
    const { keys, instanceId, ttlMs } = this.deps;
    const entry: PresenceEntry = {
      extension,
      status: mine.status,
      origin: instanceId,
      at: mine.at,
    };
    if (mine.status === 'available') pipeline.del(keys.presence(extension));
    else pipeline.set(keys.presence(extension), JSON.stringify(entry), 'PX', ttlMs);
    if (announce) pipeline.publish(keys.presenceChannel, JSON.stringify(entry));
  }

  /** Written and announced: an `available` is kept as a tombstone for `ttlMs` from now. */
  private shared(mine: OwnStatus): void {
    if (mine.shared) return;
    mine.shared = true;
    if (mine.status === 'available') mine.until = this.deps.now() + this.deps.ttlMs;
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

  /**
   * Reads everyone's statuses, yields this instance's own to later changes made
   * elsewhere, writes (and, if not yet shared, announces) the rest, then applies the
   * others'.
   */
  private async sync(): Promise<void> {
    const { redis, keys, instanceId } = this.deps;
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
    for (const extension of overriddenOwn(this.own, found, instanceId)) {
      this.own.delete(extension);
    }
    if (this.own.size > 0) {
      const pipeline = redis.commands.pipeline();
      const now = this.deps.now();
      const written: OwnStatus[] = [];
      for (const [extension, mine] of [...this.own]) {
        if (mine.status === 'available') {
          // A tombstone: deletes an older status written back meanwhile, then is forgotten.
          const stale = found.has(extension);
          if (!mine.shared || stale) this.write(pipeline, extension, mine, true);
          if (stale) found.delete(extension);
          else if (mine.until !== undefined && mine.until <= now) this.own.delete(extension);
        } else {
          this.write(pipeline, extension, mine, !mine.shared);
        }
        written.push(mine);
      }
      await pipeline.exec();
      for (const mine of written) this.shared(mine);
    }
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
