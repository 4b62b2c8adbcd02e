/**
 * Bearer-token authentication of the REST API and the event stream (docs/architecture.md §11.1).
 * Tokens come from config.api.tokens; a request carries `Authorization: Bearer <token>`
 * (or `?token=` on routes that allow it: WebSockets, whose browser clients cannot set
 * headers, and the Yeastar adapter). Every route says who may call it in its config:
 *
 *   app.get('/v1/x', { config: { scopes: ['admin', 'supervisor'] } }, handler)
 *   app.get('/healthz', { config: { public: true } }, handler)
 *
 * A route that says neither is refused when it is added, so none is open by mistake.
 * The check runs in onRequest (before the body is parsed or validated): no or an unknown
 * token → 401 `unauthorized` with `WWW-Authenticate: Bearer`, a scope the route does not
 * allow → 403 `forbidden`. A WebSocket upgrade is not refused here: its handler reads
 * `request.principal` (null) and closes the socket with 4401, which browsers can see.
 *
 * Without a token, the web app's session cookie authenticates the same way, as the
 * signed-in extension with its role as the scope (sessionRoutes.ts).
 *
 * Wrong tokens are limited per source address (authLimiter.ts): a locked-out address
 * gets 429 `too-many-auth-failures` with Retry-After on every authenticated route, the
 * event stream's upgrade and the Yeastar endpoints included, before its token is looked at.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { ApiTokenConfig } from '../../config/schema.js';
import type { AuthLimiter } from './authLimiter.js';
import { ApiError } from './errors.js';

export type Scope = ApiTokenConfig['scope'];

export const ALL_SCOPES: readonly Scope[] = ['admin', 'supervisor', 'agent'];

/** Who made a request: the token's name, scope and extension (null for admin tokens). */
export interface Principal {
  readonly name: string;
  readonly scope: Scope;
  readonly extension: string | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scopes whose tokens may call the route. */
    scopes?: readonly Scope[];
    /** No token needed (health, metrics, the OpenAPI document). */
    public?: boolean;
    /** The token may also come as `?token=` (WebSockets, the Yeastar adapter). */
    tokenInQuery?: boolean;
  }
  interface FastifyRequest {
    /** The authenticated caller; null on public routes and refused WebSocket upgrades. */
    principal: Principal | null;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The configured tokens, compared in constant time (over SHA-256 digests, so the
 * comparison takes the same time whatever the lengths). */
export class TokenStore {
  private readonly entries: { hash: Buffer; principal: Principal }[];

  constructor(tokens: readonly ApiTokenConfig[]) {
    this.entries = tokens.map((t) => ({
      hash: digest(t.token),
      principal: Object.freeze({ name: t.name, scope: t.scope, extension: t.extension }),
    }));
  }

  /** The principal of `token`, or undefined. Every configured token is compared. */
  authenticate(token: string | undefined): Principal | undefined {
    if (token === undefined || token === '') return undefined;
    const hash = digest(token);
    let found: Principal | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(e.hash, hash) && found === undefined) found = e.principal;
    }
    return found;
  }
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive). */
export function bearerTokenOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/** The token a request presents: the Authorization header, else `?token=` if allowed. */
export function presentedToken(request: FastifyRequest): string | undefined {
  const fromHeader = bearerTokenOf(request.headers.authorization);
  if (fromHeader !== undefined) return fromHeader;
  if (request.routeOptions.config.tokenInQuery !== true) return undefined;
  const query = request.query as Record<string, unknown> | undefined;
  const token = query?.token;
  return typeof token === 'string' ? token : undefined;
}

export const UNAUTHORIZED_HEADERS = { 'www-authenticate': 'Bearer' } as const;

export function unauthorized(message = 'a valid bearer token is required'): ApiError {
  return new ApiError(401, 'unauthorized', message, { headers: UNAUTHORIZED_HEADERS });
}

export function forbidden(message = 'this token may not do that'): ApiError {
  return new ApiError(403, 'forbidden', message);
}

/**
 * Whether `principal` may use a route allowing `scopes`: the error to answer, or
 * undefined when allowed.
 */
export function checkScope(
  principal: Principal | undefined,
  scopes: readonly Scope[],
): ApiError | undefined {
  if (principal === undefined) return unauthorized();
  if (!scopes.includes(principal.scope)) {
    return forbidden(`a ${principal.scope} token may not use this endpoint`);
  }
  return undefined;
}

/** The principal of an authenticated request (throws 401 on a public route). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw unauthorized();
  return request.principal;
}

/** Adds the route check and the onRequest hook to the root instance (before any route). */
export function registerAuth(
  app: FastifyInstance,
  tokens: TokenStore,
  limiter?: AuthLimiter,
  /** A web session's principal from the request's cookie (sessionRoutes.ts); none: tokens only. */
  sessionOf?: (request: FastifyRequest) => Promise<Principal | undefined>,
): void {
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route: RouteOptions) => {
    const config = route.config ?? {};
    if (config.public !== true && (config.scopes === undefined || config.scopes.length === 0)) {
      throw new Error(
        `route ${String(route.method)} ${route.url} must set config.scopes or config.public`,
      );
    }
  });
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (request.is404 || config.public === true) return;
    const source = request.ip;
    const retryAfter = limiter?.retryAfterSec(source);
    if (limiter !== undefined && retryAfter !== undefined) {
      request.log.info({ source, retryAfter }, 'API request refused: address locked out');
      throw limiter.refuse(retryAfter);
    }
    const presented = presentedToken(request);
    // A bearer token wins; without one, a signed-in browser's session cookie stands in.
    const principal =
      presented === undefined ? await sessionOf?.(request) : tokens.authenticate(presented);
    if (principal === undefined && presented !== undefined && presented !== '' && limiter) {
      if (limiter.fail(source)) {
        const lockedFor = limiter.retryAfterSec(source) ?? 1;
        request.log.warn(
          { source, lockedForSec: lockedFor },
          'too many wrong API tokens: address locked out',
        );
        throw limiter.refuse(lockedFor);
      }
    }
    const refusal = checkScope(principal, config.scopes ?? []);
    if (refusal === undefined) {
      request.principal = principal ?? null;
      return;
    }
    // A WebSocket upgrade is answered by its handler (close code 4401/4403).
    if (isWebSocketUpgrade(request)) return;
    throw refusal;
  });
}

/** `request.ws`, set by @fastify/websocket on upgrade requests. */
function isWebSocketUpgrade(request: FastifyRequest): boolean {
  return (request as FastifyRequest & { ws?: boolean }).ws === true;
}
