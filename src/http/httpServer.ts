/**
 * The HTTP side: Prometheus `/metrics` and `/healthz` (both open), the REST API's
 * infrastructure (bearer tokens, JSON errors, `/openapi.json`, the `/v1/events` stream;
 * see api/index.ts) and read-only JSON views. Every route says which token scopes may
 * call it (`config.scopes`) or that it is open (`config.public`).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Clock } from '../../sip/clock.js';
import type { ApiTokenConfig } from '../config/schema.js';
import type { EventBus } from '../events/eventBus.js';
import type { CanSee } from '../events/visibility.js';
import type { Logger } from '../logging.js';
import type { LocationService } from '../registrar/locationService.js';
import type { AuthLimitConfig } from './api/authLimiter.js';
import { registerApi } from './api/index.js';

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
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Forgets source addresses whose wrong API tokens are old (call now and then). */
    sweepAuthFailures(): void;
  }
}

export async function buildHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
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
  });

  app.decorate('sweepAuthFailures', () => api.limiter?.sweep());

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
