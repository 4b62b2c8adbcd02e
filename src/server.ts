/**
 * Wires one server instance: the SIP stack, digest authentication, the registrar and
 * location service, metrics and the HTTP endpoints.
 *
 * The start is transactional. Each resource (media workers, SIP sockets, the event hub,
 * calls, the shared state of several instances, the audit log and recordings directory,
 * the sweep timer, the HTTP listener) is
 * registered for closing the moment it is open; a step that fails closes what was opened,
 * newest first, and startServer rejects with a StartError naming the step, its config key
 * and the reason. close() ends calls and monitor sessions first (BYEs, while the stack can
 * still send), waits for the ended calls' recording sidecars, then closes the same list.
 */
import { readFile } from 'node:fs/promises';
import type { AuthResult } from '../sip/auth/authResult.js';
import { DigestAuthenticator } from '../sip/auth/authenticator.js';
import { failureSourceKey } from '../sip/auth/proxiedSource.js';
import { systemClock, type Clock, type TimerHandle } from '../sip/clock.js';
import { checkRequest, type RequestCheckOptions } from '../sip/core/requestChecks.js';
import { OverloadMonitor } from '../sip/core/overload.js';
import type { SipRequest } from '../sip/message/message.js';
import { SipStack, type IncomingRequest } from '../sip/stack.js';
import type { Source } from '../sip/transport/types.js';
import { chooseSipUdpIo } from '../sip/transport/udpIoChoice.js';
import { nativeSipUnavailable } from '../sip/transport/nativeSipSocket.js';
import { loadNativeAddon } from '../media/io/nativeBinding.js';
import { MediaEngine } from '../media/engine/index.js';
import { CallService } from './calls/callService.js';
import { registerCallMetrics } from './metrics/callMetrics.js';
import { registerQueueMetrics } from './metrics/queueMetrics.js';
import type { Config } from './config/schema.js';
import { EventBus } from './events/eventBus.js';
import { publishCalls, publishRegistrations } from './events/eventSources.js';
import { groupsMayMonitor, scopeVisibility } from './events/visibility.js';
import { registerCtiRoutes } from './http/api/ctiRoutes.js';
import { registerYeastarRoutes } from './http/api/yeastarRoutes.js';
import { buildHttpServer } from './http/httpServer.js';
import type { Logger } from './logging.js';
import { SipMetrics } from './metrics/sipMetrics.js';
import { LocationService } from './registrar/locationService.js';
import { registerMonitoringRoutes } from './http/api/monitoringRoutes.js';
import { registerQueueRoutes } from './http/api/queueRoutes.js';
import { registerSipTicketRoutes } from './http/api/sipTicketRoutes.js';
import { FlowIdentities, SipTickets } from './http/sipTickets.js';
import { agentNoticesOn } from './monitoring/agentNotices.js';
import { LiveCallListing } from './monitoring/liveCalls.js';
import { startSupervision } from './monitoring/supervision.js';
import { loadAnnouncements } from './announcements/prompts.js';
import { loadQueuePrompts } from './queues/holdPrompts.js';
import { Registrar } from './registrar/registrar.js';
import { RegisterService } from './registrar/registerService.js';
import { ALLOWED_METHODS, SipRequestRouter } from './sipRequestRouter.js';
import { startPresence } from './presence/wire.js';
import { registerPresenceMetrics } from './metrics/presenceMetrics.js';
import { CloseStack } from './util/closeStack.js';
import { sipWarmupOptions, warmSipPaths } from './warmup/sipWarmup.js';
import { reasonOf, StartError, startStep as open } from './util/startError.js';
import { inBackground } from './util/background.js';
import {
  featureCodeRedirect,
  remoteCallsOf,
  shareListing,
  startCluster,
  type RunningCluster,
} from './cluster/startCluster.js';
import { registerClusterRoutes } from './cluster/clusterRoutes.js';
import { clusterApiUrl } from './cluster/apiUrl.js';
import { registerApiForwarding } from './cluster/apiForwarding.js';

export { StartError } from './util/startError.js';

export interface ServerDeps {
  logger: Logger;
  clock?: Clock;
}

export interface RunningServer {
  readonly ports: { udp?: number; tcp?: number; http?: number };
  readonly location: LocationService;
  readonly calls: CallService;
  close(): Promise<void>;
}

/** How often lapsed registrations and authentication state are swept. */
const SWEEP_INTERVAL_MS = 1000;
/**
 * At shutdown, how long the ended calls' recording sidecars may take (each waits for its
 * room's summary from a media worker, then one write on the writer thread).
 */
const SIDECAR_DRAIN_MS = 3000;
/** The UAS core checks' settings (sip/core/requestChecks.ts), the same for every request. */
export const REQUEST_CHECKS: RequestCheckOptions = {
  allowedMethods: ALLOWED_METHODS,
  forwardedMethods: ['INVITE'],
  supportedExtensions: [],
  uriSchemes: ['sip', 'sips'],
};

export async function startServer(config: Config, deps: ServerDeps): Promise<RunningServer> {
  const opened = new CloseStack();
  try {
    return await wire(config, deps, opened);
  } catch (err) {
    const failures = await opened.closeAll();
    for (const f of failures) {
      deps.logger.error({ err: f.error, resource: f.name }, 'closing after a failed start failed');
    }
    throw err instanceof StartError ? err : new StartError('wiring the server', 'config', err);
  }
}

async function wire(config: Config, deps: ServerDeps, opened: CloseStack): Promise<RunningServer> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger;
  const extensions = new Map(config.extensions.map((e) => [e.number, e]));
  const trunkPasswords = new Map(
    config.trunks.flatMap((t) =>
      t.inboundAuth ? [[t.inboundAuth.username, t.inboundAuth.password]] : [],
    ),
  );

  const location = new LocationService((err, event) =>
    logger.error({ err, event }, 'location listener failed'),
  );
  // A binding mirrored from another instance (src/cluster/sharedLocation.ts) was logged
  // at info where it was registered; here it is a debug line naming that instance.
  location.on('registered', (b) => {
    const fields = { extension: b.extension, contact: b.contact, source: b.source };
    if (b.origin === undefined) logger.info(fields, 'registered');
    else logger.debug({ ...fields, origin: b.origin }, 'registered (mirrored)');
  });
  location.on('unregistered', (b, reason) => {
    const fields = { extension: b.extension, contact: b.contact, reason };
    if (b.origin === undefined) logger.info(fields, 'unregistered');
    else logger.debug({ ...fields, origin: b.origin }, 'unregistered (mirrored)');
  });
  opened.push('location listeners', () => location.removeAllListeners());

  const authenticator = new DigestAuthenticator({
    realm: config.auth.realm,
    algorithms: config.auth.algorithms,
    nonceLifetimeMs: config.auth.nonceLifetimeSec * 1000,
    // Extensions, and trunks that must authenticate their inbound calls (the schema
    // keeps their usernames apart from extension numbers).
    lookupCredentials: (user) => {
      const password = extensions.get(user)?.password ?? trunkPasswords.get(user);
      return password !== undefined ? { password } : undefined;
    },
    clock,
    sourceLimits: {
      maxFailures: config.auth.lockout.maxFailures,
      windowMs: config.auth.lockout.windowSec * 1000,
      lockoutMs: config.auth.lockout.lockSec * 1000,
    },
    userLimits: {
      maxFailures: config.auth.lockout.maxFailures,
      windowMs: config.auth.lockout.windowSec * 1000,
      lockoutMs: config.auth.lockout.lockSec * 1000,
    },
    // Behind Kamailio: failures count against the phone's address, not the proxy's.
    trustedProxies: config.cluster.trustedProxies,
  });
  const trustedProxies = new Set(config.cluster.trustedProxies);

  // Advertised media address: media.advertisedAddress ?? sip.advertisedAddress ?? media.address.
  const mediaAddress =
    config.media.advertisedAddress ?? config.sip.advertisedAddress ?? config.media.address;
  const engine = await open('media engine', 'media', () =>
    MediaEngine.create({
      address: config.media.address,
      advertisedAddress: mediaAddress,
      portRange: config.media.portRange,
      rtpTimeoutMs: config.media.rtpTimeoutSec * 1000,
      latchWindowMs: config.media.latchWindowMs,
      // Legs report every 2 s: live call quality (docs/architecture.md §11.5).
      statsIntervalMs: 2000,
      jitter: config.media.jitter,
      io: config.media.io,
      ...(config.media.workers !== null ? { workers: config.media.workers } : {}),
      logger, // the engine names its own child logger (module: media)
    }),
  );
  opened.push('media engine', () => engine.close());
  // Prompts are read and checked now: a missing or bad file fails the start naming its key.
  const announcements = await loadAnnouncements(config.announcements, engine);
  const queuePrompts = await loadQueuePrompts(config.queues, engine);

  const overloadConfig = config.sip.overload;
  let overload: OverloadMonitor | undefined;

  const { address, udpPort, tcpPort } = config.sip.listen;
  // SIP over WebSocket rides on the HTTP server (/sip): on only when that one is.
  const webSocket = config.sip.webSocket.enabled && config.http.port !== null;
  // PEM files for HTTPS/wss, read now so a bad path fails the start naming its key.
  const tls =
    config.http.tls === null
      ? undefined
      : {
          cert: await open('reading the HTTP certificate', 'http.tls.cert', () =>
            readFile(config.http.tls!.cert),
          ),
          key: await open('reading the HTTP private key', 'http.tls.key', () =>
            readFile(config.http.tls!.key),
          ),
        };
  const addonLoad = loadNativeAddon();
  const udpIo = chooseSipUdpIo(
    config.sip.io,
    (reason) =>
      logger.warn(
        { module: 'sip', reason },
        'native SIP socket unavailable (run `node scripts/build-native.mjs`); SIP over UDP uses node:dgram',
      ),
    () => nativeSipUnavailable(addonLoad),
  );
  // The hot SIP paths are compiled before the sockets open (docs/architecture.md §8.5).
  const warmup = await open('warming the SIP paths', 'sip.warmup', async () =>
    warmSipPaths(sipWarmupOptions(config, REQUEST_CHECKS, address)),
  );
  const stack = await open(
    `SIP listener on ${address} (udp ${udpPort ?? 'off'}, tcp ${tcpPort ?? 'off'})`,
    'sip.listen',
    () =>
      SipStack.open({
        transport: {
          address,
          udpPort,
          tcpPort,
          maxMessageBytes: config.sip.maxMessageBytes,
          tcpIdleTimeoutMs: config.sip.tcpIdleTimeoutSec * 1000,
          clock,
          queueProbe: overloadConfig.enabled,
          ...(udpIo === 'native' && addonLoad.addon !== undefined
            ? { udpNative: addonLoad.addon }
            : {}),
          ...(config.sip.advertisedAddress !== null
            ? { advertisedHost: config.sip.advertisedAddress }
            : {}),
          ...(webSocket
            ? {
                webSocket: {
                  maxConnections: config.sip.webSocket.maxConnections,
                  pingIntervalMs: config.sip.webSocket.pingIntervalSec * 1000,
                  idleTimeoutMs: config.sip.webSocket.idleTimeoutSec * 1000,
                },
              }
            : {}),
        },
        timers: {
          t1: config.sip.timers.t1Ms,
          t2: config.sip.timers.t2Ms,
          t4: config.sip.timers.t4Ms,
        },
        clock,
        logger: logger.child({ module: 'sip' }),
        checkRequest: (request) => checkRequest(request, REQUEST_CHECKS),
        overload: {
          overloaded: () => overload?.overloaded ?? false,
          retryAfterSec: overloadConfig.retryAfterSec,
        },
      }),
  );
  opened.push('SIP stack', () => stack.close());
  stack.transport.on('invalid', (reason, source, answered) =>
    logger.debug({ reason, source, answered }, 'unusable SIP message'),
  );

  const metrics = new SipMetrics({
    transport: stack.transport,
    location,
    transactions: () => stack.transactionCounts(),
    stack,
    overloaded: () => overload?.overloaded ?? false,
  });

  /** Failed digest checks (REGISTER and calls) are counted and logged; a first request
   * without credentials is the normal challenge step, not a failure. */
  const recordAuthFailure = (result: AuthResult, request: SipRequest, source: Source) => {
    if (result.outcome === 'ok') return;
    if (result.outcome === 'challenge' && result.reason === 'no-credentials') return;
    metrics.authFailures.inc({ reason: result.reason });
    // Behind a trusted proxy, also the phone's address the failure was counted against
    // (docs/architecture.md "Deploying several instances"); null: counted by user only.
    const proxied = trustedProxies.has(source.address)
      ? {
          client:
            failureSourceKey(source.address, request.headers.getAll('Via'), trustedProxies) ?? null,
        }
      : {};
    logger.info(
      {
        outcome: result.outcome,
        reason: result.reason,
        source,
        ...proxied,
        method: request.method,
      },
      'authentication failed',
    );
  };

  // Browser tickets: a WebSocket opened with one is its extension's flow (§8.9).
  const sipTickets = new SipTickets(() => clock.now());
  const flowIdentities = new FlowIdentities();
  const flowExtension = (source: Source) => flowIdentities.extensionOf(source);
  const registerService = new RegisterService({
    authenticator,
    flowExtension,
    registrar: new Registrar(location, config.registrar),
    isExtension: (n) => extensions.has(n),
    domains: config.sip.domains,
    now: () => clock.now(),
    onAuthResult: recordAuthFailure,
  });

  // Wall time of a clock reading, for ISO timestamps in HTTP views and sidecars.
  const wallOffset = Date.now() - clock.now();
  // The event stream (GET /v1/events): registrations and calls here, monitoring in supervision.
  const events = new EventBus({
    now: () => new Date(clock.now() + wallOffset),
    onListenerError: (err, event) =>
      logger.error({ err, type: event.type }, 'event listener failed'),
  });
  opened.push('event hub', () => events.close());

  const calls = new CallService({
    stack,
    engine,
    location,
    authenticator,
    config,
    clock,
    logger: logger.child({ module: 'calls' }),
    mediaAddress,
    allow: ALLOWED_METHODS,
    onAuthResult: recordAuthFailure,
    flowExtension,
    callerAnnouncement: announcements.callerOnAnswer,
    queuePrompts,
  });
  opened.push('calls', () => calls.close());

  // Several instances: registrations and live calls shared through Redis (off: memory).
  let cluster: RunningCluster | undefined;
  const clusterConfig = config.cluster;
  const sipHostPort = `${config.sip.advertisedAddress ?? address}:${stack.ports.udp ?? stack.ports.tcp}`;
  if (clusterConfig.redis !== null) {
    const redis = clusterConfig.redis;
    cluster = await open(`shared state in Redis at ${redis.url}`, 'cluster.redis', () =>
      startCluster({
        config: { ...clusterConfig, ...redis },
        instanceId: clusterConfig.instanceId ?? sipHostPort,
        sipAddress: sipHostPort,
        location,
        calls,
        events,
        apiUrl: clusterApiUrl(config, tls !== undefined),
        clock,
        toWall: (ms) => new Date(ms + wallOffset),
        logger,
        registry: metrics.registry,
      }),
    );
    const running = cluster;
    opened.push('shared state', () => running.close());
  }

  registerCallMetrics(metrics.registry, calls, engine);
  registerQueueMetrics(metrics.registry, calls.queues);
  stack.on('ackFor2xx', (request) => calls.onAck(request));
  publishRegistrations(location, events);
  publishCalls(calls, events);
  const shared = cluster;
  // Opens the audit log and the recordings directory; names its own failing key.
  const supervision = await open('monitoring', 'monitoring', () =>
    startSupervision({
      config,
      calls,
      engine,
      location,
      registry: metrics.registry,
      logger,
      now: () => clock.now(),
      wallOffset,
      host: stack.transport.sentBy('udp').host,
      events,
      agentDisclaimer: announcements.agentOnMonitor,
      ...(shared !== undefined
        ? { monitoringElsewhere: (s: string) => shared.remoteMonitors.isMonitoring(s) }
        : {}),
    }),
  );
  opened.push('monitoring and audit log', () => supervision.close());
  // Several instances: a supervisor's presence set on one is what every instance checks.
  if (cluster !== undefined) {
    const running = cluster;
    const stopSharing = await open('shared presence', 'cluster.redis', () =>
      running.sharePresence(supervision.presence),
    );
    opened.push('shared presence', stopSharing);
    // Call waiting across instances: an answer elsewhere ends the sessions held here.
    opened.push('call waiting across instances', running.followCallWaiting(supervision.monitoring));
  }
  // A browser's WebSocket closed: its registrations, calls and monitor sessions end with
  // it (RFC 7118 §5, RFC 5626 §3); the stack already failed the transactions on it.
  stack.transport.on('flowClosed', (flow, reason) => {
    logger.info({ module: 'sip', flow, reason }, 'SIP WebSocket connection closed');
    location.removeFlow(flow);
    calls.flowClosed(flow);
    inBackground(
      supervision.monitoring.flowClosed(flow),
      logger,
      'ending monitor sessions on a closed connection failed',
    );
  });

  // BLF keys (SUBSCRIBE / NOTIFY): closed before the SIP stack, so its last NOTIFYs go out.
  const presence = startPresence({
    config,
    calls,
    stack,
    authenticator,
    clock,
    logger,
    onAuthResult: recordAuthFailure,
  });
  opened.push('presence', () => presence.close());
  // Its BLF subscriptions end with a browser's WebSocket too (their NOTIFYs went over it).
  stack.transport.on('flowClosed', (flow) => {
    const ended = presence.service.flowClosed(flow);
    if (ended > 0)
      logger.info(
        { module: 'presence', flow, ended },
        'BLF subscriptions ended with their connection',
      );
  });
  registerPresenceMetrics(metrics.registry, presence.service);

  const router = new SipRequestRouter({
    registerService,
    calls,
    presence: presence.service,
    userAgent: config.sip.userAgent,
  });
  // Several instances: a feature code for a call another instance anchors is redirected there.
  const redirect =
    cluster === undefined
      ? undefined
      : featureCodeRedirect(cluster, config, (extension) => calls.isInCall(extension), logger);
  const route = (incoming: IncomingRequest) => router.route(incoming);
  stack.onRequest((incoming) => {
    if (redirect?.route(incoming, route) !== true) route(incoming);
  });

  let closed = false;
  let sweepTimer: TimerHandle | undefined;
  let sweepHttp: (() => void) | undefined;
  const sweep = () => {
    if (closed) return;
    location.sweep(clock.now());
    authenticator.sweep();
    sweepHttp?.();
    sweepTimer = clock.setTimer(SWEEP_INTERVAL_MS, sweep);
  };
  sweepTimer = clock.setTimer(SWEEP_INTERVAL_MS, sweep);
  opened.push('sweep timer', () => {
    closed = true;
    sweepTimer?.cancel();
  });

  let httpPort: number | undefined;
  const listenPort = config.http.port;
  if (listenPort !== null) {
    const http = await open('HTTP server', 'http', () =>
      buildHttpServer({
        registry: metrics.registry,
        location,
        clock,
        toWallTime: (ms) => new Date(ms + wallOffset),
        logger: logger.child({ module: 'http' }),
        tokens: config.api.tokens,
        authLimits: config.api.authLockout,
        sessions: {
          extensions: config.extensions,
          ...config.api.sessions,
          // Several instances: a session signed in on one is valid (and ended) on all.
          ...(cluster !== undefined
            ? { shared: cluster.webSessions(config.api.sessions.idleTimeoutSec * 1000) }
            : {}),
        },
        events,
        canSee: scopeVisibility({
          notifyAgents: agentNoticesOn(config),
          mayMonitor: groupsMayMonitor(config.monitoring.groups),
        }),
        ...(webSocket
          ? {
              sipWebSocket: {
                entry: stack.transport,
                maxMessageBytes: config.sip.maxMessageBytes,
                tickets: { tickets: sipTickets, identities: flowIdentities },
              },
            }
          : {}),
        ...(tls ? { tls } : {}),
      }),
    );
    opened.push('HTTP server', () => http.close());
    sweepHttp = () => http.sweepAuthFailures();
    await open('HTTP routes', 'http', async () => {
      if (cluster !== undefined) {
        const running = cluster;
        registerApiForwarding(http, {
          instanceId: running.instanceId,
          isLocal: (t) =>
            t.kind === 'call'
              ? calls.liveCall(t.id) !== undefined
              : t.kind === 'monitor'
                ? supervision.monitoring.session(t.id) !== undefined
                : calls.isInCall(t.extension),
          ownerOf: (t) =>
            t.kind === 'call'
              ? running.index.ownerOf(t.id)
              : t.kind === 'monitor'
                ? running.monitors.ownerOf(t.id)
                : running.index.ownerOfExtension(t.extension),
          apiOf: (instance) => running.index.apiOf(instance),
          timeoutMs: config.cluster.forwardTimeoutMs,
          logger: logger.child({ module: 'cluster' }),
        });
      }
      const listing = new LiveCallListing(
        config,
        calls,
        supervision,
        () => clock.now(),
        (ms) => new Date(ms + wallOffset),
      );
      if (cluster !== undefined) shareListing(cluster, listing, supervision.monitoring);
      registerMonitoringRoutes(http, {
        config,
        supervision,
        listing,
        ...(cluster !== undefined ? { remoteCalls: remoteCallsOf(cluster) } : {}),
        location,
        isInCall: (extension) => calls.isInCall(extension),
        now: () => clock.now(),
        toWall: (ms) => new Date(ms + wallOffset),
      });
      registerQueueRoutes(http, {
        queues: calls.queues,
        monitorsQueue: (supervisor, queue) =>
          supervision.monitoring.permissions.coversQueue(supervisor, queue),
      });
      if (webSocket) {
        registerSipTicketRoutes(http, {
          tickets: sipTickets,
          toWall: (ms) => new Date(ms + wallOffset),
        });
      }
      await registerYeastarRoutes(http, { monitoring: supervision.monitoring });
      registerCtiRoutes(http, { monitoring: supervision.monitoring });
      if (cluster !== undefined) {
        registerClusterRoutes(http, { index: cluster.index, instanceId: cluster.instanceId });
      }
    });
    await open(`HTTP listener on ${config.http.address}:${listenPort}`, 'http.port', () =>
      http.listen({ host: config.http.address, port: listenPort }),
    );
    const bound = http.server.address();
    httpPort = typeof bound === 'object' && bound ? bound.port : undefined;
    if (httpPort !== undefined) stack.transport.webSocketListening(httpPort);
  }

  // Overload sampling starts once the server is up: a window that spans start-up (modules
  // loaded, workers started, the HTTP server built) would read that work as queueing and
  // refuse the first requests with 503.
  if (overloadConfig.enabled) {
    const monitor = new OverloadMonitor(
      clock,
      overloadConfig,
      () => stack.transport.sampleQueueDelay() ?? 0,
      (behind, sample) =>
        logger.warn(
          { module: 'sip', ...sample },
          behind ? 'SIP thread overloaded: refusing new requests with 503' : 'SIP thread caught up',
        ),
    );
    overload = monitor;
    opened.push('overload monitor', () => monitor.close());
  }

  const ports = { ...stack.ports, http: httpPort };
  logger.info(
    {
      sip: stack.ports,
      sipUdpIo: stack.transport.udpIo,
      http: httpPort,
      address,
      warmup: { rounds: warmup.rounds, ms: Math.round(warmup.elapsedMs) },
    },
    'listening',
  );

  let closing: Promise<void> | undefined;
  return {
    ports,
    location,
    calls,
    close() {
      closing ??= (async () => {
        // Every monitor session and call ends first (BYEs), while the stack can still send
        // and before HTTP stops (an API request ringing a supervisor is answered, not
        // waited for). Both are bounded; the list below closes them again at no cost.
        try {
          await supervision.close();
          await calls.close();
          // The ended calls' recording sidecars, written before the engine's writer closes.
          if (!(await supervision.recordings.drain(SIDECAR_DRAIN_MS))) {
            logger.warn({ timeoutMs: SIDECAR_DRAIN_MS }, 'recording sidecars not all written');
          }
        } catch (err) {
          logger.error({ err }, 'ending calls and monitoring at shutdown failed');
        }
        const failures = await opened.closeAll();
        if (failures.length > 0) {
          throw new AggregateError(
            failures.map((f) => f.error),
            `closing failed: ${failures.map((f) => `${f.name} (${reasonOf(f.error)})`).join(', ')}`,
          );
        }
      })();
      return closing;
    },
  };
}
