/**
 * Which instance owns which live call, as one list every instance can read.
 *
 * `CallIndex` is what a reader needs (the live-call list across instances, and the owner
 * of a call id for requests that must act where the call's media is). On one instance it
 * is `LocalCallIndex`, the call service's own memory; with `cluster.redis` it is
 * `RedisCallIndex`: each call is a key holding its owner and summary, written by the
 * owning instance when the call starts, changes state and every `refreshMs`, with an
 * expiry of `ttlMs`, so the calls of an instance that died leave the list within
 * `ttlMs`; a sorted set indexes the ids (entries whose key lapsed are pruned on read).
 */
import type { Clock, TimerHandle } from '../../sip/clock.js';
import type { CallRecord } from '../calls/callRecord.js';
import type { Logger } from '../logging.js';
import type { ClusterKeys } from './keys.js';
import type { SharedListing } from './sharedListing.js';
import type { RedisConnection } from './redisConnection.js';

export interface IndexedCall {
  id: string;
  /** The instance whose media anchors the call. */
  instance: string;
  caller: string;
  callee: string;
  direction: CallRecord['direction'];
  state: CallRecord['state'];
  /** Wall-clock ISO times. */
  startedAt: string;
  answeredAt?: string;
  /** The owner's listing entry (absent before the owner's listing is wired). */
  listing?: SharedListing;
}

export interface CallIndex {
  /** Every live call of every instance; rejects with ClusterUnavailableError without Redis. */
  list(): Promise<IndexedCall[]>;
  /** The instance that owns a live call, or undefined when no live call has that id. */
  ownerOf(id: string): Promise<string | undefined>;
}

/** What the index reads from the call service. */
export interface CallSource {
  liveCalls(): CallRecord[];
  /** The live call with this id (not ended). */
  callRecord(id: string): CallRecord | undefined;
  on(event: 'callStarted' | 'answered' | 'ended', listener: (record: CallRecord) => void): unknown;
  off(event: 'callStarted' | 'answered' | 'ended', listener: (record: CallRecord) => void): unknown;
}

export function indexedCall(
  record: CallRecord,
  instance: string,
  toWall: (ms: number) => Date,
): IndexedCall {
  const call: IndexedCall = {
    id: record.id,
    instance,
    caller: record.caller,
    callee: record.callee,
    direction: record.direction,
    state: record.state,
    startedAt: toWall(record.startedAt).toISOString(),
  };
  if (record.answeredAt !== undefined) call.answeredAt = toWall(record.answeredAt).toISOString();
  return call;
}

/** One instance: the calls it holds. */
export class LocalCallIndex implements CallIndex {
  constructor(
    private readonly calls: CallSource,
    private readonly instance: string,
    private readonly toWall: (ms: number) => Date,
  ) {}

  list(): Promise<IndexedCall[]> {
    return Promise.resolve(
      this.calls.liveCalls().map((r) => indexedCall(r, this.instance, this.toWall)),
    );
  }

  ownerOf(id: string): Promise<string | undefined> {
    return Promise.resolve(
      this.calls.liveCalls().some((r) => r.id === id) ? this.instance : undefined,
    );
  }
}

export interface RedisCallIndexDeps {
  instanceId: string;
  calls: CallSource;
  redis: RedisConnection;
  keys: ClusterKeys;
  clock: Clock;
  toWall: (ms: number) => Date;
  logger: Logger;
  refreshMs: number;
  ttlMs: number;
  /** Where the other instances reach this instance's HTTP API (in its heartbeat). */
  apiUrl: string;
  /** Where the proxy reaches this instance's SIP, `host:port` (in its heartbeat). */
  sipAddress: string;
}

/** What an instance's heartbeat key holds. */
export interface InstanceHeartbeat {
  calls: number;
  at: string;
  /** Its HTTP API, for requests about the calls it owns. */
  api: string;
  /** Its SIP `host:port`, for feature codes about the calls it owns. */
  sip: string;
}

export class RedisCallIndex implements CallIndex {
  private timer: TimerHandle | undefined;
  private listingOf: ((id: string) => SharedListing | undefined) | undefined;
  private stopped = false;
  private readonly onChange = (record: CallRecord) => this.write([record]);
  private readonly onEnded = (record: CallRecord) => this.remove(record.id);

  constructor(private readonly deps: RedisCallIndexDeps) {}

  start(): void {
    const { calls } = this.deps;
    calls.on('callStarted', this.onChange);
    calls.on('answered', this.onChange);
    calls.on('ended', this.onEnded);
    this.refresh();
  }

  /** Stops refreshing; this instance's calls are removed when they end, or lapse. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    const { calls } = this.deps;
    calls.off('callStarted', this.onChange);
    calls.off('answered', this.onChange);
    calls.off('ended', this.onEnded);
  }

  /** Where each written call's listing entry comes from (wired once the listing exists). */
  setListing(listingOf: (id: string) => SharedListing | undefined): void {
    this.listingOf = listingOf;
  }

  /** Written again now: the call's listing changed (a monitor, a hand, a tag). */
  touch(id: string): void {
    const record = this.deps.calls.callRecord(id);
    if (record !== undefined) this.write([record]);
  }

  async list(): Promise<IndexedCall[]> {
    const { redis, keys } = this.deps;
    const ids = await redis.run((r) => r.zrange(keys.callIndex, 0, -1));
    if (ids.length === 0) return [];
    const values = await redis.run((r) => r.mget(ids.map((id) => keys.call(id))));
    const calls: IndexedCall[] = [];
    const lapsed: string[] = [];
    values.forEach((text, i) => {
      const call = text === null ? undefined : parseIndexedCall(text);
      if (call === undefined) lapsed.push(ids[i]!);
      else calls.push(call);
    });
    if (lapsed.length > 0) {
      // Pruning is housekeeping: the list is right without it.
      redis.commands.zrem(keys.callIndex, ...lapsed).catch(() => undefined);
    }
    return calls;
  }

  async ownerOf(id: string): Promise<string | undefined> {
    const text = await this.deps.redis.run((r) => r.get(this.deps.keys.call(id)));
    return text === null ? undefined : parseIndexedCall(text)?.instance;
  }

  /** A live instance's HTTP API address, from its heartbeat (undefined once it lapsed). */
  async apiOf(instance: string): Promise<string | undefined> {
    return (await this.heartbeatOf(instance))?.api;
  }

  /** A live instance's SIP `host:port`, from its heartbeat (undefined once it lapsed). */
  async sipOf(instance: string): Promise<string | undefined> {
    return (await this.heartbeatOf(instance))?.sip;
  }

  /**
   * The instance holding a live call of `extension` (as caller or callee). Reads the
   * whole list: feature codes are rare beside calls.
   */
  async ownerOfExtension(extension: string): Promise<string | undefined> {
    const calls = await this.list();
    return calls.find((c) => c.callee === extension || c.caller === extension)?.instance;
  }

  private async heartbeatOf(instance: string): Promise<InstanceHeartbeat | undefined> {
    const text = await this.deps.redis.run((r) => r.get(this.deps.keys.instance(instance)));
    if (text === null) return undefined;
    try {
      const beat = JSON.parse(text) as Partial<InstanceHeartbeat>;
      return typeof beat.api === 'string' && typeof beat.sip === 'string'
        ? (beat as InstanceHeartbeat)
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes every live call again with a fresh expiry, and the instance's heartbeat. */
  private refresh(): void {
    if (this.stopped) return;
    this.write(this.deps.calls.liveCalls(), true);
    this.timer = this.deps.clock.setTimer(this.deps.refreshMs, () => this.refresh());
  }

  private write(records: readonly CallRecord[], heartbeat = false): void {
    const { redis, keys, instanceId, ttlMs, toWall } = this.deps;
    if (!redis.available) return; // the outage is logged by the connection; refresh catches up
    const pipeline = redis.commands.pipeline();
    for (const r of records) {
      if (r.state === 'ended') continue;
      const call = indexedCall(r, instanceId, toWall);
      const listing = this.listingOf?.(r.id);
      if (listing !== undefined) call.listing = listing;
      pipeline.set(keys.call(r.id), JSON.stringify(call), 'PX', ttlMs);
      pipeline.zadd(keys.callIndex, toWall(r.startedAt).getTime(), r.id);
    }
    if (heartbeat) {
      const beat: InstanceHeartbeat = {
        calls: records.length,
        at: new Date().toISOString(),
        api: this.deps.apiUrl,
        sip: this.deps.sipAddress,
      };
      pipeline.set(keys.instance(instanceId), JSON.stringify(beat), 'PX', ttlMs);
    }
    pipeline.exec().catch((err: unknown) => {
      this.deps.logger.debug({ err }, 'writing the live-call index failed');
    });
  }

  private remove(id: string): void {
    const { redis, keys } = this.deps;
    if (!redis.available) return; // its key lapses by itself
    redis.commands
      .pipeline()
      .del(keys.call(id))
      .zrem(keys.callIndex, id)
      .exec()
      .catch((err: unknown) =>
        this.deps.logger.debug({ err }, 'removing a call from the index failed'),
      );
  }
}

export function parseIndexedCall(text: string): IndexedCall | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const strings = ['id', 'instance', 'caller', 'callee', 'direction', 'state', 'startedAt'];
  if (strings.some((k) => typeof o[k] !== 'string')) return undefined;
  return o as unknown as IndexedCall;
}
