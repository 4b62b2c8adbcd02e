/**
 * The connections to Redis (ioredis): one for commands, one for subscriptions (a
 * subscribed connection takes no other commands). Commands never wait for a connection:
 * while Redis is down they fail at once with ClusterUnavailableError (no offline queue),
 * and ioredis reconnects by itself with a capped back-off. Each outage is logged once,
 * when it starts and when it ends, and `ready` tells the users to resynchronise. Logs go
 * to the logger given (the cluster's child logger).
 */
import { Redis } from 'ioredis';
import type { Logger } from '../logging.js';
import { TypedEmitter } from '../../sip/util/typedEmitter.js';

/** A cluster-wide feature was asked for while Redis cannot be reached. */
export class ClusterUnavailableError extends Error {
  constructor(cause: unknown) {
    super(
      `shared state (Redis) unavailable: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'ClusterUnavailableError';
  }
}

export type RedisConnectionEvents = {
  /** Connected (again): the command connection takes commands. */
  ready: [];
  /** Became unreachable (once per outage). */
  down: [];
};

export interface RedisConnectionOptions {
  url: string;
  logger: Logger;
  /** Longest pause between reconnection attempts. */
  maxRetryDelayMs?: number;
}

export class RedisConnection extends TypedEmitter<RedisConnectionEvents> {
  readonly commands: Redis;
  readonly subscriber: Redis;
  private up = false;
  private everUp = false;
  private closed = false;

  constructor(private readonly options: RedisConnectionOptions) {
    super((err) => options.logger.error({ err }, 'redis connection listener failed'));
    const maxDelay = options.maxRetryDelayMs ?? 1000;
    const common = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      // disconnect() ends the socket and arms a timer to destroy it if it stays half-open;
      // that timer is cleared only by the socket's 'close', so on a socket closed already
      // (a failed attempt, waiting to reconnect) it stays armed and keeps the process alive
      // for its whole delay after everything else closed. We only disconnect a connection
      // that is not ready (a ready one gets QUIT), where there is nothing to wait for.
      disconnectTimeout: 0,
      retryStrategy: (times: number) => Math.min(times * 100, maxDelay),
    };
    this.commands = new Redis(options.url, { ...common, connectionName: 'callwatch' });
    this.subscriber = new Redis(options.url, {
      ...common,
      connectionName: 'callwatch-sub',
      // Subscriptions are restored by ioredis after a reconnect; it needs the queue for it.
      enableOfflineQueue: true,
    });
    this.commands.on('ready', () => {
      if (!this.up) {
        this.up = true;
        options.logger.info(
          { url: redact(options.url) },
          this.everUp ? 'redis reachable again' : 'redis connected',
        );
        this.everUp = true;
        this.emit('ready');
      }
    });
    const down = (err?: Error) => {
      if (this.closed || !this.up) return;
      this.up = false;
      options.logger.warn(
        { url: redact(options.url), err },
        'redis unreachable: cluster-wide state is unavailable until it is back (reconnecting)',
      );
      this.emit('down');
    };
    this.commands.on('close', () => down());
    this.commands.on('error', (err: Error) => down(err));
    // Errors are reported through `close`/`ready`; an unhandled 'error' would throw.
    this.subscriber.on('error', () => undefined);
  }

  get available(): boolean {
    return this.up;
  }

  /**
   * Connects both. A Redis that cannot be reached at start fails the start (the
   * configuration names a Redis, so running without it would be a silent split).
   */
  async connect(): Promise<void> {
    await Promise.all([this.commands.connect(), this.subscriber.connect()]);
  }

  /** Runs a command, turning any failure into ClusterUnavailableError. */
  async run<T>(command: (redis: Redis) => Promise<T>): Promise<T> {
    try {
      return await command(this.commands);
    } catch (err) {
      throw new ClusterUnavailableError(err);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.removeAllListeners();
    await Promise.allSettled([quit(this.commands), quit(this.subscriber)]);
  }
}

/** The longest `quit` waits for a dropped connection's socket to be gone. */
const END_WAIT_MS = 2000;

/**
 * Ends one connection: QUIT when ready; otherwise drops it, and resolves once its socket
 * is gone (status `end`). One waiting to reconnect has no socket: its retry is cancelled,
 * and the half-open timer disconnect() arms all the same (disconnectTimeout 0) has fired
 * when a 0 ms timer armed after it fires (Node runs timers of one delay in order).
 */
async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // fall through: drop the socket
    }
  }
  if (redis.status === 'end') return;
  if (redis.status === 'reconnecting') {
    redis.disconnect(false);
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    return;
  }
  // Bounded: a close must not hang on an 'end' that never comes.
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<void>((resolve) => {
    redis.once('end', () => resolve());
    timer = setTimeout(resolve, END_WAIT_MS);
  });
  redis.disconnect(false);
  await ended;
  clearTimeout(timer);
}

/** The URL without a password, for logs. */
function redact(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
