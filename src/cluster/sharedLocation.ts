/**
 * Registrations shared between instances. Each instance keeps its own LocationService
 * (the registrar, calls and monitoring read it synchronously, as on one instance); this
 * mirrors it through Redis: a binding this instance accepted is written as a key that
 * expires with it and announced on a channel; bindings other instances announce are put
 * into the local service. At start and whenever Redis is reachable again, the keys are
 * read back (SCAN) and this instance's own bindings written again, so an outage loses
 * nothing that is still registered.
 *
 * A binding applied from another instance is remembered with its origin, so the local
 * service's events for it are not announced back.
 */
import type { Clock } from '../../sip/clock.js';
import type { Logger } from '../logging.js';
import type { Binding, LocationService, UnregisterReason } from '../registrar/locationService.js';
import {
  fromShared,
  parseBindingChange,
  parseSharedBinding,
  shareable,
  toShared,
  type BindingChange,
} from './bindingCodec.js';
import type { ClusterKeys } from './keys.js';
import type { RedisConnection } from './redisConnection.js';

export interface SharedLocationDeps {
  instanceId: string;
  location: LocationService;
  redis: RedisConnection;
  keys: ClusterKeys;
  clock: Clock;
  logger: Logger;
}

export class SharedLocation {
  /** Bindings applied from other instances: `extension key` → origin instance. */
  private readonly remote = new Map<string, string>();
  private applying = false;
  private readonly detach: Array<() => void> = [];

  constructor(private readonly deps: SharedLocationDeps) {}

  /** Subscribes, loads what is registered and starts mirroring. */
  async start(): Promise<void> {
    const { location, redis, keys } = this.deps;
    const onUp = (b: Binding) => this.localUp(b);
    const onDown = (b: Binding, reason: UnregisterReason) => this.localDown(b, reason);
    location.on('registered', onUp);
    location.on('refreshed', onUp);
    location.on('unregistered', onDown);
    this.detach.push(() => {
      location.off('registered', onUp);
      location.off('refreshed', onUp);
      location.off('unregistered', onDown);
    });
    const onMessage = (channel: string, text: string) => {
      if (channel !== keys.bindingChannel) return;
      const change = parseBindingChange(text);
      if (change === undefined) {
        this.deps.logger.warn({ channel }, 'unreadable binding change ignored');
        return;
      }
      this.apply(change);
    };
    redis.subscriber.on('message', onMessage);
    this.detach.push(() => redis.subscriber.off('message', onMessage));
    await redis.subscriber.subscribe(keys.bindingChannel);
    const onReady = () => {
      this.resync().catch((err: unknown) =>
        this.deps.logger.warn({ err }, 'resynchronising registrations failed'),
      );
    };
    redis.on('ready', onReady);
    this.detach.push(() => redis.off('ready', onReady));
    await this.resync();
  }

  stop(): void {
    for (const d of this.detach.splice(0)) d();
  }

  /** Writes this instance's bindings again and reads every instance's. */
  async resync(): Promise<void> {
    const { location, redis, keys, clock } = this.deps;
    const now = clock.now();
    const pipeline = redis.commands.pipeline();
    for (const extension of location.extensions()) {
      for (const b of location.activeBindings(extension, now)) {
        if (!this.remote.has(id(b.extension, b.key)) && shareable(b)) this.write(pipeline, b, now);
      }
    }
    await redis.run(() => pipeline.exec());
    let cursor = '0';
    do {
      const [next, found] = await redis.run((r) =>
        r.scan(cursor, 'MATCH', keys.bindingPattern, 'COUNT', 500),
      );
      cursor = next;
      if (found.length === 0) continue;
      const read = redis.commands.pipeline();
      for (const key of found) read.get(key).pttl(key);
      const replies = (await redis.run(() => read.exec())) ?? [];
      for (let i = 0; i < found.length; i++) {
        const text = replies[2 * i]?.[1];
        const ttl = replies[2 * i + 1]?.[1];
        if (typeof text !== 'string' || typeof ttl !== 'number' || ttl <= 0) continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          continue;
        }
        const shared = parseSharedBinding(parsed);
        if (shared === undefined || shared.origin === this.deps.instanceId) continue;
        this.applyUp(fromShared(shared, clock.now(), ttl), shared.origin);
      }
    } while (cursor !== '0');
  }

  private write(
    pipeline: ReturnType<RedisConnection['commands']['pipeline']>,
    b: Binding,
    now: number,
  ): void {
    const shared = toShared(b, this.deps.instanceId, now);
    if (shared.remainingMs <= 0) return;
    pipeline.set(
      this.deps.keys.binding(b.extension, b.key),
      JSON.stringify(shared),
      'PX',
      shared.remainingMs,
    );
    pipeline.publish(
      this.deps.keys.bindingChannel,
      JSON.stringify({ op: 'up', binding: shared } satisfies BindingChange),
    );
  }

  private localUp(b: Binding): void {
    if (this.applying) return;
    this.remote.delete(id(b.extension, b.key));
    if (!shareable(b)) return;
    const pipeline = this.deps.redis.commands.pipeline();
    this.write(pipeline, b, this.deps.clock.now());
    this.send(pipeline.exec(), 'sharing a registration failed', b);
  }

  private localDown(b: Binding, reason: UnregisterReason): void {
    if (this.applying) return;
    const wasRemote = this.remote.delete(id(b.extension, b.key));
    // A lapsed binding's key lapses in Redis by itself, at the same moment.
    if (reason === 'expired' || (!wasRemote && !shareable(b))) return;
    const { keys } = this.deps;
    const change: BindingChange = {
      op: 'down',
      origin: this.deps.instanceId,
      extension: b.extension,
      key: b.key,
    };
    const pipeline = this.deps.redis.commands
      .pipeline()
      .del(keys.binding(b.extension, b.key))
      .publish(keys.bindingChannel, JSON.stringify(change));
    this.send(pipeline.exec(), 'sharing an unregistration failed', b);
  }

  private send(done: Promise<unknown>, message: string, b: Binding): void {
    done.catch((err: unknown) =>
      // Redis is down: the outage is logged once by the connection; this binding is
      // written again by the resynchronisation when Redis is back.
      this.deps.logger.debug({ err, extension: b.extension }, message),
    );
  }

  private apply(change: BindingChange): void {
    if (change.op === 'up') {
      if (change.binding.origin === this.deps.instanceId) return;
      this.applyUp(fromShared(change.binding, this.deps.clock.now()), change.binding.origin);
      return;
    }
    if (change.origin === this.deps.instanceId) return;
    this.applying = true;
    try {
      this.remote.delete(id(change.extension, change.key));
      this.deps.location.remove(change.extension, change.key, 'removed');
    } finally {
      this.applying = false;
    }
  }

  private applyUp(binding: Binding, origin: string): void {
    const existing = this.deps.location
      .bindingsOf(binding.extension)
      .find((b) => b.key === binding.key);
    // Our own newer REGISTER of the same binding wins over an older copy.
    if (
      existing !== undefined &&
      existing.callId === binding.callId &&
      existing.cseq > binding.cseq
    ) {
      return;
    }
    this.applying = true;
    try {
      this.remote.set(id(binding.extension, binding.key), origin);
      this.deps.location.upsert({ ...binding, origin });
    } finally {
      this.applying = false;
    }
  }
}

function id(extension: string, key: string): string {
  return `${extension} ${key}`;
}
