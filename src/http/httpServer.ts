/**
 * The HTTP side: Prometheus `/metrics` and `/healthz` (both open), SIP over WebSocket at
 * `/sip` and the phone page at `/phone` (open: digest guards registering), the web app
 * at `/` (open: it holds no secret; its data comes from the API after sign-in), the REST API's
 * infrastructure (bearer tokens, JSON errors, `/openapi.json`, the `/v1/events` stream;
 * see api/index.ts) and read-only JSON views. Every route says which token scopes may
 * call it (`config.scopes`) or that it is open (`config.public`).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Clock } from '../../sip/clock.js';
import type { ApiTokenConfig, ExtensionConfig } from '../config/schema.js';
import type { EventBus } from '../events/eventBus.js';
import type { CanSee } from '../events/visibility.js';
import type { Logger } from '../logging.js';
import type { LocationService } from '../registrar/locationService.js';
import type { AuthLimitConfig } from './api/authLimiter.js';
import type { WebSessions } from './api/sessionStore.js';
import { registerApi } from './api/index.js';
import { registerSipWebSocketRoute, type SipWebSocketEntry } from './sipWebSocketRoute.js';
import { registerPhoneRoutes } from './phoneRoute.js';
import { registerAppRoutes } from './appRoute.js';
import type { FlowIdentities, SipTickets } from './sipTickets.js';

export interface HttpServerDeps {
  registry: Registry;
  location: LocationService;
  clock: Clock;
  /** Wall-clock time for the ms of `clock` (to print ISO times). */
  toWallTime(clockMs: number): Date;
  logger: Logger;
  /** Bearer tokens of the API (config api.tokens). */
  tokens: readonly ApiTokenConfig[];
  /** The event stream's source (GET /v1/events); none: no stream. */
  events?: EventBus;
  /** Which events each token sees (default: admin tokens only). */
  canSee?: CanSee;
  /** Wrong API tokens per source address (config api.authLockout); none: unlimited. */
  authLimits?: AuthLimitConfig;
  /** SIP over WebSocket at /sip (sipWebSocketRoute.ts); none: no such route. */
  sipWebSocket?: {
    entry: SipWebSocketEntry;
    maxMessageBytes: number;
    /** Browser tickets (`/sip?ticket=`, sipTickets.ts). */
    tickets?: { tickets: SipTickets; identities: FlowIdentities };
  };
  /** HTTPS with these PEM contents (and `wss` at /sip); none: plain HTTP. */
  tls?: { cert: Buffer; key: Buffer };
  /** Web sign-in (POST /v1/session) of these extensions (config api.sessions); none: off. */
  sessions?: {
    extensions: readonly ExtensionConfig[];
    idleTimeoutSec: number;
    maxSessions: number;
    /** Where sessions are held (several instances: the shared state); default memory. */
    shared?: WebSessions;
  };
  /** The web app (dist/app/) at / (appRoute.ts); false: not served. Default true. */
  webApp?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Forgets source addresses whose wrong API tokens are old (call now and then). */
    sweepAuthFailures(): void;
  }
}

export async function buildHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key } } : {}),
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Scrapes every few seconds would flood the log; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // additionalProperties: false means refused (400), not silently dropped; types are
    // still coerced, which the query filters (hand=true, minDuration=30) rely on.
    ajv: { customOptions: { removeAdditional: false } },
  });
  const api = await registerApi(app, {
    tokens: deps.tokens,
    registry: deps.registry,
    clock: deps.clock,
    ...(deps.authLimits ? { authLimits: deps.authLimits } : {}),
    ...(deps.events ? { events: deps.events } : {}),
    ...(deps.canSee ? { canSee: deps.canSee } : {}),
    ...(deps.sipWebSocket
      ? { webSocketMaxPayload: Math.max(64 * 1024, deps.sipWebSocket.maxMessageBytes + 1) }
      : {}),
    ...(deps.sessions ? { sessions: { ...deps.sessions, secure: deps.tls !== undefined } } : {}),
  });
  if (deps.sipWebSocket) {
    registerSipWebSocketRoute(app, {
      entry: deps.sipWebSocket.entry,
      secure: deps.tls !== undefined,
      ...(deps.sipWebSocket.tickets ? { tickets: deps.sipWebSocket.tickets } : {}),
    });
    // The phone page registers over /sip: served only where that exists.
    registerPhoneRoutes(app);
  }

  if (deps.webApp !== false) await registerAppRoutes(app);

  app.decorate('sweepAuthFailures', () => {
    api.limiter?.sweep();
    api.sessions?.sweep();
  });

  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));

  app.get('/metrics', { config: { public: true } }, async (_request, reply) => {
    reply.header('Content-Type', deps.registry.contentType);
    return deps.registry.metrics();
  });

  app.get('/v1/registrations', { config: { scopes: ['admin', 'supervisor'] } }, async () => {
    const now = deps.clock.now();
    const registrations = deps.location
      .extensions()
      .map((extension) => ({
        extension,
        contacts: deps.location.activeBindings(extension, now).map((b) => ({
          uri: b.uri,
          contact: b.contact,
          expiresAt: deps.toWallTime(b.expiresAt).toISOString(),
          source: `${b.source.protocol}:${b.source.address}:${b.source.port}`,
          userAgent: b.userAgent ?? null,
        })),
      }))
      .filter((r) => r.contacts.length > 0)
      .sort((a, b) => a.extension.localeCompare(b.extension));
    return { registrations };
  });

  return app;
}
