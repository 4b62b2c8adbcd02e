/**
 * API requests about a call (or monitor session) another instance anchors are carried out
 * by that instance, and so are the Yeastar and CTI requests about an extension whose call
 * another instance anchors (docs/architecture.md "Several instances"): a `preHandler` hook, so the
 * request was authenticated, scope-checked and validated here first, exactly as on one
 * instance. A request whose call is local, or unknown to the shared index, goes on here
 * (an unknown one gets the usual 404). Otherwise it is sent on over HTTP to the owner's
 * advertised API address with the caller's own credentials (a bearer token: every
 * instance has the same `api.tokens`; a web session: sessions are shared in Redis), so
 * the owner authenticates the caller itself and trusts nothing else, and the
 * owner's answer (status, body) is the answer. A forwarded request carries
 * `X-Callwatch-Forwarded-By` and is never forwarded again. Redis or the owner unreachable:
 * 503 `cluster-unavailable` (local calls are unaffected).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { presentedToken, unauthorized } from '../http/api/auth.js';
import { SESSION_COOKIE, sessionIdOf } from '../http/api/sessionRoutes.js';
import { ApiError } from '../http/api/errors.js';
import type { Logger } from '../logging.js';
import { forwardTarget, type ForwardTarget } from './forwardTargets.js';
import { ClusterUnavailableError } from './redisConnection.js';

export const FORWARDED_BY_HEADER = 'x-callwatch-forwarded-by';
/** On every answer a forwarding instance relays: the instance that acted. */
export const HANDLED_BY_HEADER = 'x-callwatch-handled-by';

/** Headers of the owner's answer passed back to the client. */
const RELAYED_HEADERS = ['content-type', 'retry-after', 'www-authenticate', 'location'];

export interface ApiForwardingDeps {
  instanceId: string;
  /** Whether this instance holds the call / the monitor session. */
  isLocal(target: ForwardTarget): boolean;
  /** The instance the shared state names as holder (undefined: none); rejects without Redis. */
  ownerOf(target: ForwardTarget): Promise<string | undefined>;
  /** A live instance's API address (undefined: its heartbeat lapsed); rejects without Redis. */
  apiOf(instance: string): Promise<string | undefined>;
  timeoutMs: number;
  logger: Logger;
}

function unavailable(message: string): ApiError {
  return new ApiError(503, 'cluster-unavailable', message, { headers: { 'Retry-After': '1' } });
}

export function registerApiForwarding(app: FastifyInstance, deps: ApiForwardingDeps): void {
  app.addHook('preHandler', async (request, reply) => {
    if (request.headers[FORWARDED_BY_HEADER] !== undefined) return; // the owner acts here
    const target = forwardTarget(
      request.method,
      request.routeOptions.url,
      request.params,
      request.body,
    );
    if (target === undefined || deps.isLocal(target)) return;
    let owner: string | undefined;
    let api: string | undefined;
    try {
      owner = await deps.ownerOf(target);
      if (owner === undefined || owner === deps.instanceId) return;
      api = await deps.apiOf(owner);
    } catch (err) {
      if (err instanceof ClusterUnavailableError) throw unavailable(err.message);
      throw err;
    }
    if (api === undefined) {
      const what = target.kind === 'extension' ? `call of ${target.extension}` : target.kind;
      throw unavailable(`the ${what} is held by instance ${owner}, which is not alive`);
    }
    return forward(request, reply, owner, api, deps);
  });
}

async function forward(
  request: FastifyRequest,
  reply: FastifyReply,
  owner: string,
  api: string,
  deps: ApiForwardingDeps,
): Promise<FastifyReply> {
  // The caller's own credentials go along, and the owner checks them itself: a bearer
  // token, a Yeastar client's `?token=` (in the URL), or else the web session's cookie
  // (sessions are shared, sharedSessions.ts).
  const authorization = request.headers.authorization;
  const tokenInUrl = authorization === undefined && presentedToken(request) !== undefined;
  const session = authorization === undefined && !tokenInUrl ? sessionIdOf(request) : undefined;
  if (authorization === undefined && !tokenInUrl && session === undefined) throw unauthorized();
  const headers: Record<string, string> = {
    ...(authorization !== undefined ? { authorization } : {}),
    ...(session !== undefined ? { cookie: `${SESSION_COOKIE}=${session}` } : {}),
    accept: 'application/json',
    [FORWARDED_BY_HEADER]: deps.instanceId,
  };
  const hasBody = request.body !== undefined && request.body !== null;
  if (hasBody) headers['content-type'] = 'application/json';
  let res: Response;
  let text: string;
  const startedAt = Date.now();
  try {
    res = await fetch(`${api}${request.url}`, {
      method: request.method,
      headers,
      ...(hasBody ? { body: JSON.stringify(request.body) } : {}),
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    deps.logger.warn(
      { err, owner, api, method: request.method, url: request.url },
      'handing an API request to the owning instance failed',
    );
    throw unavailable(`the owning instance ${owner} did not answer`);
  }
  deps.logger.debug(
    {
      owner,
      method: request.method,
      url: request.url,
      status: res.status,
      ms: Date.now() - startedAt,
    },
    'API request carried out by the owning instance',
  );
  reply.code(res.status);
  for (const name of RELAYED_HEADERS) {
    const value = res.headers.get(name);
    if (value !== null) reply.header(name, value);
  }
  reply.header(HANDLED_BY_HEADER, owner);
  return reply.send(text === '' ? undefined : text);
}
