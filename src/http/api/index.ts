/**
 * The REST API's infrastructure on the HTTP server, in the order fastify needs it:
 * errors and the shared `ApiError#` schema, the OpenAPI generator and the WebSocket
 * plugin (both collect routes as they are added), the token check (refuses a route that
 * does not say who may call it), then the event stream. Call before adding any route:
 *
 *   const app = Fastify(...);
 *   await registerApi(app, { tokens: config.api.tokens, events, canSee });
 *   app.get('/v1/things', { config: { scopes: ['admin'] }, schema }, handler);
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { ApiTokenConfig, ExtensionConfig } from '../../config/schema.js';
import type { EventBus } from '../../events/eventBus.js';
import type { CanSee } from '../../events/visibility.js';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../../../sip/clock.js';
import { registerAuth, TokenStore } from './auth.js';
import { AuthLimiter, type AuthLimitConfig } from './authLimiter.js';
import { registerErrorHandling } from './errors.js';
import { registerEventsRoute } from './eventsRoute.js';
import { registerOpenApi, type OpenApiInfo } from './openapi.js';
import { registerCookies, registerSessionRoutes, sessionPrincipal } from './sessionRoutes.js';
import { localSessions, SessionStore, type WebSessions } from './sessionStore.js';

export interface ApiDeps {
  tokens: readonly ApiTokenConfig[];
  /** The event stream's source; without it there is no /v1/events. */
  events?: EventBus;
  /** Which events a token sees (default: admin tokens only). */
  canSee?: CanSee;
  info?: OpenApiInfo;
  /** Wrong tokens per source address (config api.authLockout); none: unlimited. */
  authLimits?: AuthLimitConfig;
  /** Where the limiter's counter goes (with authLimits). */
  registry?: Registry;
  /** The limiter's time (default: the system clock). */
  clock?: Clock;
  /** Largest WebSocket message accepted (default 64 KiB; SIP over WebSocket may need more). */
  webSocketMaxPayload?: number;
  /** Web sign-in (POST /v1/session) of these extensions; none: bearer tokens only. */
  sessions?: {
    extensions: readonly ExtensionConfig[];
    idleTimeoutSec: number;
    maxSessions: number;
    /** HTTPS: the cookie is Secure. */
    secure: boolean;
    /** Where sessions are held (several instances: the shared state); default memory. */
    shared?: WebSessions;
  };
}

export interface Api {
  readonly tokens: TokenStore;
  readonly limiter: AuthLimiter | undefined;
  readonly sessions: WebSessions | undefined;
}

const DEFAULT_INFO: OpenApiInfo = {
  title: 'callwatch',
  version: '1',
  description:
    'Call-center supervision: live calls, monitoring, events. Authenticate with ' +
    '`Authorization: Bearer TOKEN` (config api.tokens). The event stream is a WebSocket ' +
    'at /v1/events (?since=SEQ to resume, ?token= for browsers).',
};

export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<Api> {
  const tokens = new TokenStore(deps.tokens);
  registerErrorHandling(app);
  await registerOpenApi(app, deps.info ?? DEFAULT_INFO);
  // Sets request.ws in its onRequest hook, which must run before the token check's.
  await app.register(websocket, {
    options: {
      maxPayload: deps.webSocketMaxPayload ?? 64 * 1024,
      // RFC 7118 §4.1: a SIP client offers `sip`, maybe among others; pick it. Otherwise
      // the first offered, as `ws` does by default (routes check what they need).
      handleProtocols: (offered: Set<string>) =>
        offered.has('sip') ? 'sip' : (offered.values().next().value ?? false),
    },
  });
  const limiter = deps.authLimits
    ? new AuthLimiter(deps.authLimits, deps.clock ?? systemClock, deps.registry)
    : undefined;
  const clock = deps.clock ?? systemClock;
  const sessions = deps.sessions
    ? (deps.sessions.shared ??
      localSessions(
        new SessionStore(
          { idleMs: deps.sessions.idleTimeoutSec * 1000, maxSessions: deps.sessions.maxSessions },
          clock,
        ),
      ))
    : undefined;
  // The cookie parser's hook runs before the token check, which reads the session cookie.
  if (sessions) await registerCookies(app);
  registerAuth(
    app,
    tokens,
    limiter,
    sessions ? (request) => sessionPrincipal(sessions, request) : undefined,
  );
  if (deps.sessions && sessions) {
    registerSessionRoutes(app, {
      store: sessions,
      extensions: deps.sessions.extensions,
      secure: deps.sessions.secure,
      ...(limiter ? { limiter } : {}),
    });
  }
  if (deps.events) {
    registerEventsRoute(app, {
      bus: deps.events,
      tokens,
      ...(deps.canSee ? { canSee: deps.canSee } : {}),
    });
  }
  return { tokens, limiter, sessions };
}

export { ApiError, badRequest, errorResponses, notFound, refusalToApiError } from './errors.js';
export { ALL_SCOPES, principalOf, type Principal, type Scope } from './auth.js';
