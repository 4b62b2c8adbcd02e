/**
 * The OpenAPI document of the HTTP API without a running server: the fastify app built
 * with the same route modules the server registers (server.ts), over stand-ins that are
 * never called (handlers do not run), made ready and asked for its document. The web
 * app's typed client is generated from it at build time (scripts/build-app.mjs); a test
 * checks that it lists the same paths as a running server's /openapi.json.
 */
import { Registry } from 'prom-client';
import { systemClock } from '../../sip/clock.js';
import { configSchema } from '../config/schema.js';
import { EventBus } from '../events/eventBus.js';
import { createLogger } from '../logging.js';
import { registerCtiRoutes } from './api/ctiRoutes.js';
import { registerMonitoringRoutes } from './api/monitoringRoutes.js';
import { registerQueueRoutes } from './api/queueRoutes.js';
import { registerSipTicketRoutes } from './api/sipTicketRoutes.js';
import { registerYeastarRoutes } from './api/yeastarRoutes.js';
import { buildHttpServer } from './httpServer.js';

/** A dependency the document never reaches (route handlers are not run). */
const unused = (what: string): never =>
  new Proxy(
    {},
    {
      get(_target, key) {
        // Destructuring at registration reads properties; give nested stand-ins.
        if (typeof key === 'symbol') return undefined;
        return unused(`${what}.${key}`);
      },
    },
  ) as never;

export async function apiDocument(): Promise<unknown> {
  const config = configSchema.parse({});
  const app = await buildHttpServer({
    registry: new Registry(),
    location: unused('location'),
    clock: systemClock,
    toWallTime: (ms) => new Date(ms),
    logger: createLogger('silent'),
    tokens: [],
    authLimits: config.api.authLockout,
    events: new EventBus(),
    sessions: { extensions: [], ...config.api.sessions },
    sipWebSocket: { entry: unused('sip'), maxMessageBytes: config.sip.maxMessageBytes },
    webApp: false,
  });
  try {
    registerMonitoringRoutes(app, {
      config,
      supervision: unused('supervision'),
      listing: unused('listing'),
      location: unused('location'),
      isInCall: () => false,
      now: () => 0,
      toWall: (ms) => new Date(ms),
    });
    registerQueueRoutes(app, { queues: unused('queues'), monitorsQueue: () => false });
    registerSipTicketRoutes(app, { tickets: unused('tickets'), toWall: (ms) => new Date(ms) });
    await registerYeastarRoutes(app, { monitoring: unused('monitoring') });
    registerCtiRoutes(app, { monitoring: unused('monitoring') });
    await app.ready();
    return app.swagger();
  } finally {
    await app.close();
  }
}
