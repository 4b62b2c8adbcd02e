/**
 * The HTTP side: Prometheus `/metrics`, `/healthz`, and read-only JSON views. Built on
 * fastify so the REST API can grow on the same server with schema validation.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../logging.js';
import type { LocationService } from '../registrar/locationService.js';

export interface HttpServerDeps {
  registry: Registry;
  location: LocationService;
  clock: { now(): number };
  /** Wall-clock time for the ms of `clock` (to print ISO times). */
  toWallTime(clockMs: number): Date;
  logger: Logger;
}

export function buildHttpServer(deps: HttpServerDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Scrapes every few seconds would flood the log; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/metrics', async (_request, reply) => {
    reply.header('Content-Type', deps.registry.contentType);
    return deps.registry.metrics();
  });

  app.get('/v1/registrations', async () => {
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
