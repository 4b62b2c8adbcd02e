/**
 * The event stream of every instance on every instance (docs/architecture.md "Several
 * instances"): each instance publishes the events its own calls raise (calls, monitor
 * sessions, hands, call quality) on a Redis pub/sub channel, and republishes the other
 * instances' events on its own bus with `instance` set to their origin. Each bus stamps
 * its own `seq`, so `?since=` resumes correctly on the instance a client reconnects to
 * (seqs of different instances are unrelated). Registration and presence events are not
 * shared: every instance raises its own from the shared bindings and presence.
 *
 * De-duplication: an instance skips its own messages, never republishes an event that
 * came from another instance, and drops a message whose origin sequence it has already
 * passed (per origin process). Redis down: the other instances' events of the outage are
 * missed (pub/sub keeps nothing); local events go on, and when Redis is back the stream
 * carries `cluster.events-gap {since}` so a client reloads what it keeps.
 */
import { randomBytes } from 'node:crypto';
import type { EventBus } from '../events/eventBus.js';
import {
  EVENT_TYPES,
  type ApiEvent,
  type EventBody,
  type EventType,
} from '../events/eventTypes.js';
import type { Logger } from '../logging.js';
import type { ClusterKeys } from './keys.js';
import type { RedisConnection } from './redisConnection.js';

/**
 * Events every instance raises for itself (from the shared bindings and presence): never
 * published. Every other type is shared.
 */
const LOCAL_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  'registration.changed',
  'presence.changed',
  'cluster.events-gap',
]);

export const SHARED_EVENT_TYPES: ReadonlySet<EventType> = new Set(
  EVENT_TYPES.filter((t) => !LOCAL_EVENT_TYPES.has(t)),
);

/** One event on the channel. */
export interface SharedEventMessage {
  /** The instance that raised it. */
  origin: string;
  /** The origin's process (a restarted instance starts its seqs again). */
  run: string;
  event: ApiEvent;
}

/** Pure: the message as the body to publish here, or undefined when it is not one to take. */
export function remoteEventBody(
  text: string,
  self: string,
  lastSeq: Map<string, number>,
): EventBody | undefined {
  let m: SharedEventMessage;
  try {
    m = JSON.parse(text) as SharedEventMessage;
  } catch {
    return undefined;
  }
  if (typeof m?.origin !== 'string' || typeof m.run !== 'string' || m.origin === self) {
    return undefined;
  }
  const e = m.event;
  if (typeof e?.type !== 'string' || typeof e.seq !== 'number') return undefined;
  if (!SHARED_EVENT_TYPES.has(e.type)) return undefined;
  const key = `${m.origin}/${m.run}`;
  if (e.seq <= (lastSeq.get(key) ?? 0)) return undefined;
  lastSeq.set(key, e.seq);
  const { seq: _seq, time: _time, ...body } = e;
  // The bus keeps every field of a body: `instance` reaches the clients (ApiEvent).
  return { ...body, instance: m.origin } as unknown as EventBody;
}

export interface SharedEventsDeps {
  instanceId: string;
  events: EventBus;
  redis: RedisConnection;
  keys: ClusterKeys;
  logger: Logger;
}

export class SharedEvents {
  private readonly run = randomBytes(6).toString('base64url');
  private readonly lastSeq = new Map<string, number>();
  private readonly detach: Array<() => void> = [];

  constructor(private readonly deps: SharedEventsDeps) {}

  async start(): Promise<void> {
    const { events, redis, keys, instanceId } = this.deps;
    this.detach.push(
      events.subscribe(
        (e) => SHARED_EVENT_TYPES.has(e.type) && e.instance === undefined,
        (e) => this.share(e),
      ),
    );
    const onMessage = (channel: string, text: string) => {
      if (channel !== keys.eventChannel) return;
      const body = remoteEventBody(text, instanceId, this.lastSeq);
      if (body !== undefined) events.publish(body);
    };
    redis.subscriber.on('message', onMessage);
    this.detach.push(() => redis.subscriber.off('message', onMessage));
    // An outage: the other instances' events of it are lost (pub/sub keeps nothing). Once
    // Redis is back, this instance's stream says so, and clients reload what they keep.
    let downSince: string | undefined;
    const onDown = () => {
      downSince ??= new Date().toISOString();
    };
    const onReady = () => {
      if (downSince === undefined) return;
      const since = downSince;
      downSince = undefined;
      this.deps.logger.warn({ since }, 'events of other instances missed during the outage');
      events.publish({ type: 'cluster.events-gap', since });
    };
    redis.on('down', onDown);
    redis.on('ready', onReady);
    this.detach.push(() => {
      redis.off('down', onDown);
      redis.off('ready', onReady);
    });
    await redis.subscriber.subscribe(keys.eventChannel);
  }

  stop(): void {
    for (const d of this.detach.splice(0)) d();
  }

  private share(event: ApiEvent): void {
    const { redis, keys, instanceId } = this.deps;
    if (!redis.available) return; // the outage is logged by the connection
    const message: SharedEventMessage = { origin: instanceId, run: this.run, event };
    redis.commands.publish(keys.eventChannel, JSON.stringify(message)).catch((err: unknown) => {
      this.deps.logger.debug({ err }, 'sharing an event failed');
    });
  }
}
