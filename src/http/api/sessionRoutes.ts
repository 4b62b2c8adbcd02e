/**
 * Web sign-in (docs/architecture.md §11.6): `POST /v1/session {extension, password}` checks
 * the extension's `webPassword` (else its SIP password) and answers with who signed in and
 * a `callwatch_session` cookie (HttpOnly, SameSite=Strict, Path=/, Secure under TLS);
 * `GET /v1/session` says who the cookie is, `DELETE /v1/session` signs out. The cookie
 * then authenticates every /v1 route and the event stream's upgrade as a bearer token of
 * that extension with its role as the scope would (auth.ts asks `principalOf`).
 *
 * Wrong passwords count against the source address in the API's limiter (authLimiter.ts),
 * like wrong tokens: a locked address gets 429 + Retry-After, the right password included.
 * An unknown extension is answered exactly as a wrong password.
 *
 * A cookie on a request whose Origin is another host is ignored: SameSite=Strict already
 * keeps browsers from sending it cross-site, and WebSocket upgrades are checked here too.
 */
import cookie from '@fastify/cookie';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ExtensionConfig } from '../../config/schema.js';
import type { Principal, Scope } from './auth.js';
import type { AuthLimiter } from './authLimiter.js';
import { ApiError, errorResponses } from './errors.js';
import type { WebSessions } from './sessionStore.js';

export const SESSION_COOKIE = 'callwatch_session';

export interface SessionRoutesDeps {
  store: WebSessions;
  extensions: readonly ExtensionConfig[];
  /** Wrong passwords per source address; none: unlimited. */
  limiter?: AuthLimiter;
  /** The server speaks HTTPS: the cookie gets `Secure`. */
  secure: boolean;
}

/** Registers the cookie parser (before the auth hook, which reads cookies). */
export async function registerCookies(app: FastifyInstance): Promise<void> {
  await app.register(cookie);
}

/** The scope an extension's role gives its sessions. */
export function scopeOfRole(role: ExtensionConfig['role']): Scope {
  return role;
}

function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** The session cookie's id on a request, when it may be used. */
export function sessionIdOf(request: FastifyRequest): string | undefined {
  if (!sameOrigin(request)) return undefined;
  return request.cookies?.[SESSION_COOKIE];
}

/** The principal of a request's session cookie, or undefined (the session is used now). */
export function sessionPrincipal(
  store: WebSessions,
  request: FastifyRequest,
): Promise<Principal | undefined> {
  return store.use(sessionIdOf(request));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

const sessionBody = {
  $id: 'Session',
  type: 'object',
  required: ['extension', 'displayName', 'scope'],
  properties: {
    extension: { type: 'string' },
    displayName: { type: ['string', 'null'] },
    scope: { type: 'string', enum: ['admin', 'supervisor', 'agent'] },
  },
} as const;

export function registerSessionRoutes(app: FastifyInstance, deps: SessionRoutesDeps): void {
  const byNumber = new Map(deps.extensions.map((e) => [e.number, e]));
  const cookieOptions = {
    httpOnly: true,
    sameSite: 'strict' as const,
    path: '/',
    secure: deps.secure,
  };
  app.addSchema(sessionBody);

  const view = (p: Principal) => ({
    extension: p.extension as string,
    displayName: byNumber.get(p.extension ?? '')?.displayName ?? null,
    scope: p.scope,
  });

  /** The extension whose password this is, in constant time per configured extension. */
  const check = (number: string, password: string): ExtensionConfig | undefined => {
    const ext = byNumber.get(number);
    const expected = digest(ext ? (ext.webPassword ?? ext.password) : '\u0000no extension');
    const ok = timingSafeEqual(expected, digest(password));
    return ext !== undefined && ok ? ext : undefined;
  };

  app.post(
    '/v1/session',
    {
      config: { public: true },
      schema: {
        summary: 'Signs in with an extension and its password (sets the session cookie)',
        description:
          "The password is the extension's webPassword, else its SIP password. The " +
          'answer sets callwatch_session (HttpOnly, SameSite=Strict), which then ' +
          'authenticates the API and the event stream like a bearer token of that ' +
          'extension, with its role as the scope. Wrong passwords are limited per address (429).',
        tags: ['session'],
        body: {
          type: 'object',
          required: ['extension', 'password'],
          additionalProperties: false,
          properties: {
            extension: { type: 'string', minLength: 1, maxLength: 32 },
            password: { type: 'string', minLength: 1, maxLength: 256 },
          },
        },
        response: { 200: { $ref: 'Session#' }, ...errorResponses(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const source = request.ip;
      const limiter = deps.limiter;
      const retryAfter = limiter?.retryAfterSec(source);
      if (limiter !== undefined && retryAfter !== undefined) throw limiter.refuse(retryAfter);
      const { extension, password } = request.body as { extension: string; password: string };
      const ext = check(extension, password);
      if (ext === undefined) {
        if (limiter?.fail(source) === true) {
          request.log.warn({ source }, 'too many wrong sign-in passwords: address locked out');
          throw limiter.refuse(limiter.retryAfterSec(source) ?? 1);
        }
        request.log.info({ source, extension }, 'sign-in refused: wrong extension or password');
        throw new ApiError(401, 'bad-credentials', 'wrong extension or password');
      }
      const principal: Principal = Object.freeze({
        name: `web-${ext.number}`,
        scope: scopeOfRole(ext.role),
        extension: ext.number,
      });
      // A sign-in replaces the session the browser had.
      await deps.store.end(sessionIdOf(request));
      const id = await deps.store.create(principal);
      request.log.info({ extension: ext.number, scope: principal.scope }, 'signed in');
      return reply.setCookie(SESSION_COOKIE, id, cookieOptions).send(view(principal));
    },
  );

  app.get(
    '/v1/session',
    {
      config: { public: true },
      schema: {
        summary: 'Who the session cookie signs in',
        tags: ['session'],
        response: { 200: { $ref: 'Session#' }, ...errorResponses(401) },
      },
    },
    async (request) => {
      const p = await sessionPrincipal(deps.store, request);
      if (p === undefined) throw new ApiError(401, 'unauthorized', 'not signed in');
      return view(p);
    },
  );

  app.delete(
    '/v1/session',
    {
      config: { public: true },
      schema: {
        summary: 'Signs out (ends the session, clears the cookie)',
        tags: ['session'],
        response: { 204: { type: 'null' } },
      },
    },
    async (request, reply: FastifyReply) => {
      await deps.store.end(sessionIdOf(request));
      return reply.clearCookie(SESSION_COOKIE, cookieOptions).code(204).send();
    },
  );
}
