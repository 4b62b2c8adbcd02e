/**
 * Several instances behind one SIP proxy (docs/architecture.md "Several instances"):
 * with `cluster.redis` configured, this instance shares its registrations and its live
 * calls through Redis. Without it, nothing here runs and the single-instance server
 * keeps everything in memory.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../../sip/clock.js';
import type { Config } from '../config/schema.js';
import type { EventBus } from '../events/eventBus.js';
import type { Logger } from '../logging.js';
import type { LocationService } from '../registrar/locationService.js';
import { RedisCallIndex, type CallIndex, type CallSource } from './callIndex.js';
import { FeatureCodeRedirect } from './featureCodeRedirect.js';
import { clusterKeys } from './keys.js';
import { MonitorIndex } from './monitorIndex.js';
import { RemoteMonitors } from './remoteMonitors.js';
import { RedisConnection } from './redisConnection.js';
import { SharedEvents } from './sharedEvents.js';
import { ApiError } from '../http/api/errors.js';
import type { LiveCallFilter, LiveCallListing } from '../monitoring/liveCalls.js';
import type { MonitoringService } from '../monitoring/monitoringService.js';
import { remoteListings, sharedListing, type SharedListing } from './sharedListing.js';
import { ClusterUnavailableError } from './redisConnection.js';
import { SharedLocation } from './sharedLocation.js';
import { sharedSessions } from './sharedSessions.js';
import { SharedPresence } from './sharedPresence.js';
import { followRemoteAnswers } from './remoteCallWaiting.js';
import type { SupervisorPresence } from '../monitoring/supervisorPresence.js';
import type { WebSessions } from '../http/api/sessionStore.js';

export interface ClusterDeps {
  config: NonNullable<Config['cluster']['redis']> & Omit<Config['cluster'], 'redis'>;
  /** This instance's name in the shared state (unique in the cluster). */
  instanceId: string;
  location: LocationService;
  calls: CallSource;
  /** This instance's event bus (its monitor sessions are indexed from it). */
  events: EventBus;
  /** Where the other instances reach this instance's HTTP API. */
  apiUrl: string;
  /** Where the proxy reaches this instance's SIP, `host:port`. */
  sipAddress: string;
  clock: Clock;
  toWall: (ms: number) => Date;
  logger: Logger;
  /** Where `callwatch_cluster_redis_up` is registered. */
  registry?: Registry;
}

export interface RunningCluster {
  readonly instanceId: string;
  readonly index: CallIndex &
    Pick<RedisCallIndex, 'apiOf' | 'sipOf' | 'ownerOfExtension' | 'setListing'>;
  readonly monitors: Pick<MonitorIndex, 'ownerOf'>;
  /** Supervisors with a session on another instance's call (remoteMonitors.ts). */
  readonly remoteMonitors: Pick<RemoteMonitors, 'isMonitoring'>;
  /** Web sign-in sessions valid on every instance (sharedSessions.ts). */
  webSessions(idleMs: number): WebSessions;
  /** Shares supervisors' presence with the other instances (sharedPresence.ts); stop fn. */
  sharePresence(presence: SupervisorPresence): Promise<() => void>;
  /**
   * Ends this instance's monitor sessions of a supervisor who answered a call on another
   * instance (remoteCallWaiting.ts); stop fn.
   */
  followCallWaiting(
    monitoring: Pick<MonitoringService, 'isMonitoring' | 'supervisorAnsweredCall'>,
  ): () => void;
  close(): Promise<void>;
}

export async function startCluster(deps: ClusterDeps): Promise<RunningCluster> {
  const logger = deps.logger.child({ module: 'cluster' });
  const redis = new RedisConnection({ url: deps.config.url, logger });
  const keys = clusterKeys(deps.config.keyPrefix);
  if (deps.registry !== undefined) {
    new Gauge({
      name: 'callwatch_cluster_redis_up',
      help: 'Whether the shared state (Redis) is reachable: 1 yes, 0 no (cluster-wide features fail meanwhile)',
      registers: [deps.registry],
      collect() {
        this.set(redis.available ? 1 : 0);
      },
    });
  }
  const location = new SharedLocation({
    instanceId: deps.instanceId,
    location: deps.location,
    redis,
    keys,
    clock: deps.clock,
    logger,
  });
  const index = new RedisCallIndex({
    instanceId: deps.instanceId,
    calls: deps.calls,
    redis,
    keys,
    clock: deps.clock,
    toWall: deps.toWall,
    logger,
    refreshMs: deps.config.callRefreshMs,
    ttlMs: deps.config.callTtlMs,
    apiUrl: deps.apiUrl,
    sipAddress: deps.sipAddress,
  });
  const monitors = new MonitorIndex({
    instanceId: deps.instanceId,
    events: deps.events,
    redis,
    keys,
    clock: deps.clock,
    logger,
    refreshMs: deps.config.callRefreshMs,
    ttlMs: deps.config.callTtlMs,
  });
  const remoteMonitors = new RemoteMonitors({
    events: deps.events,
    redis,
    keys,
    clock: deps.clock,
    logger,
    refreshMs: deps.config.callRefreshMs,
  });
  const sharedEvents = new SharedEvents({
    instanceId: deps.instanceId,
    events: deps.events,
    redis,
    keys,
    logger,
  });
  // A monitor or a hand changes the call's listing entry: written at once, not at the
  // next refresh.
  const untouch = deps.events.subscribe(
    (e) =>
      e.instance === undefined &&
      (e.type.startsWith('monitor.') || e.type.startsWith('hand.')) &&
      'callId' in e &&
      typeof e.callId === 'string',
    (e) => index.touch((e as { callId: string }).callId),
  );
  try {
    await redis.connect();
    await location.start();
    index.start();
    monitors.start();
    remoteMonitors.start();
    await sharedEvents.start();
  } catch (err) {
    untouch();
    remoteMonitors.stop();
    sharedEvents.stop();
    location.stop();
    index.stop();
    monitors.stop();
    await redis.close();
    throw err;
  }
  logger.info({ instance: deps.instanceId }, 'sharing registrations and calls through redis');
  return {
    instanceId: deps.instanceId,
    index,
    monitors,
    remoteMonitors,
    webSessions: (idleMs) => sharedSessions({ redis, keys, idleMs }),
    async sharePresence(presence) {
      const shared = new SharedPresence({
        instanceId: deps.instanceId,
        presence,
        redis,
        keys,
        clock: deps.clock,
        now: () => deps.toWall(deps.clock.now()).getTime(),
        logger,
        refreshMs: deps.config.callRefreshMs,
        ttlMs: deps.config.callTtlMs,
      });
      try {
        await shared.start();
      } catch (err) {
        shared.stop();
        throw err;
      }
      return () => shared.stop();
    },
    followCallWaiting(monitoring) {
      return followRemoteAnswers({
        events: deps.events,
        monitoring,
        monitoringElsewhere: (extension) => remoteMonitors.isMonitoring(extension),
        sharing: () => redis.available,
        logger,
      });
    },
    async close() {
      untouch();
      remoteMonitors.stop();
      sharedEvents.stop();
      location.stop();
      index.stop();
      monitors.stop();
      await redis.close();
    },
  };
}

/** The redirect of feature codes for calls other instances anchor (featureCodeRedirect.ts). */
export function featureCodeRedirect(
  cluster: RunningCluster,
  config: Config,
  isInLocalCall: (extension: string) => boolean,
  logger: Logger,
): FeatureCodeRedirect {
  return new FeatureCodeRedirect({
    instanceId: cluster.instanceId,
    featureCodes: config.monitoring.featureCodes,
    isInLocalCall,
    ownerOfExtension: (extension) => cluster.index.ownerOfExtension(extension),
    sipOf: (instance) => cluster.index.sipOf(instance),
    userAgent: config.sip.userAgent,
    logger: logger.child({ module: 'cluster' }),
  });
}

/**
 * Each call's listing entry goes into the shared index with the call (sharedListing.ts):
 * its view and the owner's facts about it, the same size whatever the supervisors.
 */
export function shareListing(
  cluster: RunningCluster,
  listing: Pick<LiveCallListing, 'get'>,
  monitoring: Pick<MonitoringService, 'callFacts'>,
): void {
  cluster.index.setListing((id) => {
    const view = listing.get(id);
    return view === undefined ? undefined : sharedListing(view, monitoring.callFacts(id));
  });
}

/**
 * The other instances' calls for `GET /v1/calls`, filtered; Redis down: 503
 * `cluster-unavailable` (the list would silently miss calls).
 */
export function remoteCallsOf(
  cluster: RunningCluster,
): (filter: LiveCallFilter) => Promise<SharedListing[]> {
  return async (filter) => {
    let calls;
    try {
      calls = await cluster.index.list();
    } catch (err) {
      if (!(err instanceof ClusterUnavailableError)) throw err;
      throw new ApiError(503, 'cluster-unavailable', err.message, {
        headers: { 'Retry-After': '1' },
      });
    }
    const entries = calls.flatMap((c) =>
      c.instance !== cluster.instanceId && c.listing !== undefined ? [c.listing] : [],
    );
    return remoteListings(entries, filter, Date.now());
  };
}
