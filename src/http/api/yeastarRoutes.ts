/**
 * The Yeastar S-Series monitoring endpoints (docs/architecture.md §11.2), a thin adapter over
 * the monitoring service, for tools written against that PBX's API v1.1.0:
 *
 *   POST /api/v1.1.0/extension/listen?token=T   {"listener":"1005","listenedext":"1001"}
 *   POST /api/v1.1.0/extension/whisper?token=T  {"whisperer":"1005","whisperedext":"1001"}
 *   POST /api/v1.1.0/extension/barge?token=T    {"bargein":"1005","bargedext":"1001"}
 *
 * Each starts a session like `POST /v1/calls/{id}/monitors`: the server calls the
 * monitor's phone with auto-answer headers and attaches it once answered. The reply comes
 * once the phone is being called, as Yeastar answers once it has originated the call.
 *
 * Replies are Yeastar's: always HTTP 200 with `{"status":"Success"}` or
 * `{"status":"Failed","errno":"…"}` (Yeastar documents HTTP 200 for errors too):
 *   10004  a blank parameter: a field missing, empty or not a string/number, or a body
 *          that is not a JSON object (Yeastar's own 20000 "only JSON" is not used)
 *   10006  no such extension            10007  no such call (the target is in no call)
 *   10008  the monitor is not idle: in a call, monitoring, not registered, or the call
 *          is full
 *   10009  not allowed to be monitored: the member forbids it, no group lets this monitor
 *          monitor it, monitoring is off, a monitor leg; and a supervisor token naming
 *          another monitor than its own extension, or an agent token
 *   10010  the monitor's groups do not allow this mode
 *   20004  the token is unknown          20005  no token (Yeastar's "No such Token" and
 *          "Token is blank"; also HTTP 200)
 * (refusals.ts maps the service's refusals to these.) Anything unexpected answers HTTP
 * 500 `{"status":"Failed","errno":"10003"}` and is logged. With several instances, a
 * request about an agent whose call another instance anchors is carried out there
 * (src/cluster/apiForwarding.ts); when that cannot be known or reached the answer is
 * HTTP 503 `cluster-unavailable` with Retry-After, as for the REST API.
 *
 * Authentication is the REST API's (auth.ts): a token of config api.tokens with scope
 * admin or supervisor, as `?token=` (Yeastar's way) or `Authorization: Bearer`. An admin
 * token may name any monitor; a supervisor token only its own extension. These routes
 * live in a plugin of their own, so their body parser (any content type, JSON by hand)
 * and their error handler (Yeastar replies) leave the rest of the API alone.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MonitorMode } from '../../monitoring/modes.js';
import type { StartRequest } from '../../monitoring/monitoringService.js';
import type { MonitorSessionRecord } from '../../monitoring/monitorSession.js';
import { MonitorRefusal, yeastarErrnoOf } from '../../monitoring/refusals.js';
import { presentedToken, principalOf } from './auth.js';
import { ApiError } from './errors.js';

/** What the adapter needs of the monitoring service. */
export interface MonitoringStarter {
  start(request: StartRequest): Promise<MonitorSessionRecord>;
}

export interface YeastarRoutesDeps {
  monitoring: MonitoringStarter;
}

export const YEASTAR_PREFIX = '/api/v1.1.0/extension';

/** One endpoint: its path, mode and the names of its two body fields. */
export interface YeastarEndpoint {
  readonly path: Exclude<MonitorMode, 'takeover'>;
  readonly mode: MonitorMode;
  /** The monitoring extension (the supervisor). */
  readonly monitor: string;
  /** The monitored extension (the agent). */
  readonly target: string;
}

export const YEASTAR_ENDPOINTS: readonly YeastarEndpoint[] = [
  { path: 'listen', mode: 'listen', monitor: 'listener', target: 'listenedext' },
  { path: 'whisper', mode: 'whisper', monitor: 'whisperer', target: 'whisperedext' },
  { path: 'barge', mode: 'barge', monitor: 'bargein', target: 'bargedext' },
];

export const ERRNO = {
  blankParameter: '10004',
  notAllowed: '10009',
  unsupportedRequest: '10003',
  noSuchToken: '20004',
  blankToken: '20005',
} as const;

export type YeastarReply = { status: 'Success' } | { status: 'Failed'; errno: string };

export const SUCCESS: YeastarReply = { status: 'Success' };

export function failed(errno: string): YeastarReply {
  return { status: 'Failed', errno };
}

/** A field of a Yeastar body: a non-blank string (a number is taken as its digits). */
function field(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  const text = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * The monitor and the target of a Yeastar body, or undefined when a field is blank (10004):
 * missing, empty, whitespace, not a string or number, or the body not a JSON object.
 */
export function parseYeastarBody(
  endpoint: YeastarEndpoint,
  body: unknown,
): { supervisor: string; agent: string } | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  const supervisor = field(record, endpoint.monitor);
  const agent = field(record, endpoint.target);
  return supervisor === undefined || agent === undefined ? undefined : { supervisor, agent };
}

/**
 * The `errno` for an error a Yeastar route raised (its handler, the token check, the body
 * parser), or undefined for an unexpected one (a 500). `tokenGiven`: whether the request
 * presented a token at all (20004 or 20005 for a 401).
 */
export function yeastarErrnoOfError(err: unknown, tokenGiven: boolean): string | undefined {
  if (err instanceof MonitorRefusal) return yeastarErrnoOf(err.code);
  if (err instanceof ApiError) {
    if (err.status === 401) return tokenGiven ? ERRNO.noSuchToken : ERRNO.blankToken;
    if (err.status === 403) return ERRNO.notAllowed;
    if (err.status >= 400 && err.status < 500) return ERRNO.blankParameter;
    return undefined;
  }
  const fe = err as Partial<FastifyError> | undefined;
  if (fe?.validation !== undefined) return ERRNO.blankParameter;
  const status = fe?.statusCode;
  // Fastify's own body errors: empty, too large, unreadable.
  if (status !== undefined && status >= 400 && status < 500) return ERRNO.blankParameter;
  return undefined;
}

/** Parses a body of any content type as JSON; what does not parse is `null` (10004). */
function parseJsonLoosely(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

const replySchema = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['Success', 'Failed'] },
    errno: { type: 'string' },
  },
} as const;

function routeSchema(endpoint: YeastarEndpoint) {
  return {
    summary: `Yeastar S-Series compatible: ${endpoint.mode} to an extension's call`,
    description:
      `Starts monitoring in ${endpoint.mode} mode: the server calls the ${endpoint.monitor} ` +
      `extension's phone (auto-answer) and attaches it to ${endpoint.target}'s call. ` +
      'Always HTTP 200: {"status":"Success"} or {"status":"Failed","errno":"100xx"} ' +
      '(10004 blank parameter, 10006 no such extension, 10007 no such call, 10008 ' +
      'extension not idle, 10009 not allowed to be monitored, 10010 mode does not match, ' +
      '20004 no such token, 20005 token is blank).',
    tags: ['yeastar'],
    querystring: {
      type: 'object',
      properties: { token: { type: 'string', description: 'An API token (or use Bearer)' } },
    },
    body: {
      type: 'object',
      required: [endpoint.monitor, endpoint.target],
      properties: {
        [endpoint.monitor]: { type: 'string', description: 'The monitoring extension' },
        [endpoint.target]: { type: 'string', description: 'The monitored extension' },
      },
    },
    response: { 200: replySchema },
  };
}

export async function registerYeastarRoutes(
  app: FastifyInstance,
  deps: YeastarRoutesDeps,
): Promise<void> {
  await app.register(async (scope) => {
    // Yeastar clients are not always careful with Content-Type: take any body and read it
    // as JSON here; what does not parse is a blank parameter (the body schema refuses it).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
      done(null, parseJsonLoosely(body as string));
    });
    // The body schema is for the OpenAPI document; the handler checks the fields itself
    // (a schema failure would only say 10004 too).
    scope.setValidatorCompiler(() => () => true);
    scope.setErrorHandler((err, request: FastifyRequest, reply: FastifyReply) => {
      // A locked-out address is told so in HTTP terms (429, Retry-After), like everywhere;
      // so is a cluster whose shared state or owning instance cannot be reached (503,
      // Retry-After: Yeastar has no errno for "try again").
      if (err instanceof ApiError && (err.status === 429 || err.code === 'cluster-unavailable')) {
        return reply.code(429).headers(err.headers).type('application/json').send(err.toJSON());
      }
      const errno = yeastarErrnoOfError(err, (presentedToken(request) ?? '') !== '');
      if (errno === undefined) {
        request.log.error({ err, url: request.url }, 'Yeastar request failed');
        return reply.code(500).type('application/json').send(failed(ERRNO.unsupportedRequest));
      }
      return reply.code(200).type('application/json').send(failed(errno));
    });

    for (const endpoint of YEASTAR_ENDPOINTS) {
      scope.post(
        `${YEASTAR_PREFIX}/${endpoint.path}`,
        {
          config: { scopes: ['admin', 'supervisor'], tokenInQuery: true },
          schema: routeSchema(endpoint),
        },
        async (request): Promise<YeastarReply> => {
          const parsed = parseYeastarBody(endpoint, request.body);
          if (parsed === undefined) return failed(ERRNO.blankParameter);
          const principal = principalOf(request);
          if (principal.scope !== 'admin' && parsed.supervisor !== principal.extension) {
            return failed(ERRNO.notAllowed);
          }
          await deps.monitoring.start({
            supervisor: parsed.supervisor,
            agent: parsed.agent,
            mode: endpoint.mode,
            trigger: 'yeastar',
            actor: principal.name,
          });
          return SUCCESS;
        },
      );
    }
  });
}
