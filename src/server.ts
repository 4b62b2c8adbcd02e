/**
 * Wires one server instance: the SIP stack, digest authentication, the registrar and
 * location service, metrics and the HTTP endpoints. Everything it opens (sockets, the
 * sweep timer, the HTTP listener) is closed by close().
 */
import type { FastifyInstance } from 'fastify';
import type { AuthResult } from '../sip/auth/authResult.js';
import { DigestAuthenticator } from '../sip/auth/authenticator.js';
import { systemClock, type Clock, type TimerHandle } from '../sip/clock.js';
import { checkRequest } from '../sip/core/requestChecks.js';
import type { SipRequest } from '../sip/message/message.js';
import { SipStack } from '../sip/stack.js';
import type { Source } from '../sip/transport/types.js';
import { MediaEngine } from '../media/engine/index.js';
import { CallService } from './calls/callService.js';
import { registerCallMetrics } from './metrics/callMetrics.js';
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
import { LiveCallListing } from './monitoring/liveCalls.js';
import { startSupervision } from './monitoring/supervision.js';
import { Registrar } from './registrar/registrar.js';
import { RegisterService } from './registrar/registerService.js';
import { ALLOWED_METHODS, SipRequestRouter } from './sipRequestRouter.js';

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

export async function startServer(config: Config, deps: ServerDeps): Promise<RunningServer> {
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
  location.on('registered', (b) =>
    logger.info({ extension: b.extension, contact: b.contact, source: b.source }, 'registered'),
  );
  location.on('unregistered', (b, reason) =>
    logger.info({ extension: b.extension, contact: b.contact, reason }, 'unregistered'),
  );

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
  });

  // Advertised media address: media.advertisedAddress ?? sip.advertisedAddress ?? media.address.
  const mediaAddress =
    config.media.advertisedAddress ?? config.sip.advertisedAddress ?? config.media.address;
  const engine = await MediaEngine.create({
    address: config.media.address,
    advertisedAddress: mediaAddress,
    portRange: config.media.portRange,
    rtpTimeoutMs: config.media.rtpTimeoutSec * 1000,
    latchWindowMs: config.media.latchWindowMs,
    jitter: config.media.jitter,
    ...(config.media.workers !== null ? { workers: config.media.workers } : {}),
    logger, // the engine names its own child logger (module: media)
  });

  let stack: SipStack;
  try {
    stack = await SipStack.open({
      transport: {
        address: config.sip.listen.address,
        udpPort: config.sip.listen.udpPort,
        tcpPort: config.sip.listen.tcpPort,
        maxMessageBytes: config.sip.maxMessageBytes,
        tcpIdleTimeoutMs: config.sip.tcpIdleTimeoutSec * 1000,
        clock,
        ...(config.sip.advertisedAddress !== null
          ? { advertisedHost: config.sip.advertisedAddress }
          : {}),
      },
      timers: {
        t1: config.sip.timers.t1Ms,
        t2: config.sip.timers.t2Ms,
        t4: config.sip.timers.t4Ms,
      },
      clock,
      logger: logger.child({ module: 'sip' }),
      checkRequest: (request) =>
        checkRequest(request, {
          allowedMethods: ALLOWED_METHODS,
          forwardedMethods: ['INVITE'],
          supportedExtensions: [],
          uriSchemes: ['sip', 'sips'],
        }),
    });
  } catch (err) {
    await engine.close();
    throw err;
  }
  stack.transport.on('invalid', (reason, source, answered) =>
    logger.debug({ reason, source, answered }, 'unusable SIP message'),
  );

  const metrics = new SipMetrics({
    transport: stack.transport,
    location,
    transactions: () => stack.transactionCounts(),
  });

  /** Failed digest checks (REGISTER and calls) are counted and logged; a first request
   * without credentials is the normal challenge step, not a failure. */
  const recordAuthFailure = (result: AuthResult, request: SipRequest, source: Source) => {
    if (result.outcome === 'ok') return;
    if (result.outcome === 'challenge' && result.reason === 'no-credentials') return;
    metrics.authFailures.inc({ reason: result.reason });
    logger.info(
      { outcome: result.outcome, reason: result.reason, source, method: request.method },
      'authentication failed',
    );
  };

  const registerService = new RegisterService({
    authenticator,
    registrar: new Registrar(location, config.registrar),
    isExtension: (n) => extensions.has(n),
    domains: config.sip.domains,
    now: () => clock.now(),
    onAuthResult: recordAuthFailure,
  });

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
  });
  registerCallMetrics(metrics.registry, calls, engine);
  stack.on('ackFor2xx', (request) => calls.onAck(request));
  // Wall time of a clock reading, for ISO timestamps in HTTP views and sidecars.
  const wallOffset = Date.now() - clock.now();
  // The event stream (GET /v1/events): registrations and calls here, monitoring in supervision.
  const events = new EventBus({
    now: () => new Date(clock.now() + wallOffset),
    onListenerError: (err, event) =>
      logger.error({ err, type: event.type }, 'event listener failed'),
  });
  publishRegistrations(location, events);
  publishCalls(calls, events);
  const supervision = await startSupervision({
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
  });

  const router = new SipRequestRouter({
    registerService,
    calls,
    userAgent: config.sip.userAgent,
  });
  stack.onRequest((incoming) => router.route(incoming));

  let closed = false;
  let sweepTimer: TimerHandle | undefined;
  const sweep = () => {
    if (closed) return;
    location.sweep(clock.now());
    authenticator.sweep();
    sweepTimer = clock.setTimer(SWEEP_INTERVAL_MS, sweep);
  };
  sweepTimer = clock.setTimer(SWEEP_INTERVAL_MS, sweep);

  let http: FastifyInstance | undefined;
  let httpPort: number | undefined;
  if (config.http.port !== null) {
    http = await buildHttpServer({
      registry: metrics.registry,
      location,
      clock,
      toWallTime: (ms) => new Date(ms + wallOffset),
      logger: logger.child({ module: 'http' }),
      tokens: config.api.tokens,
      events,
      canSee: scopeVisibility({
        notifyAgents: config.monitoring.notifyAgents,
        mayMonitor: groupsMayMonitor(config.monitoring.groups),
      }),
    });
    registerMonitoringRoutes(http, {
      config,
      supervision,
      listing: new LiveCallListing(
        config,
        calls,
        supervision,
        () => clock.now(),
        (ms) => new Date(ms + wallOffset),
      ),
      location,
      isInCall: (extension) => calls.isInCall(extension),
      now: () => clock.now(),
      toWall: (ms) => new Date(ms + wallOffset),
    });
    await registerYeastarRoutes(http, { monitoring: supervision.monitoring });
    registerCtiRoutes(http, { monitoring: supervision.monitoring });
    try {
      await http.listen({ host: config.http.address, port: config.http.port });
    } catch (err) {
      sweepTimer.cancel();
      await supervision.close();
      await calls.close();
      await stack.close();
      await engine.close();
      throw err;
    }
    const address = http.server.address();
    httpPort = typeof address === 'object' && address ? address.port : undefined;
  }

  const ports = { ...stack.ports, http: httpPort };
  logger.info(
    { sip: stack.ports, http: httpPort, address: config.sip.listen.address },
    'listening',
  );

  let closing: Promise<void> | undefined;
  return {
    ports,
    location,
    calls,
    close() {
      closing ??= (async () => {
        closed = true;
        sweepTimer?.cancel();
        // Every monitor session and call ends first (BYEs), while the stack can still send.
        await supervision.close();
        await calls.close();
        await Promise.all([stack.close(), http?.close(), engine.close()]);
        location.removeAllListeners();
        events.close();
      })();
      return closing;
    },
  };
}
