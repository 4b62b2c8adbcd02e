/**
 * Every error of the REST API is JSON with a stable code and a human message (docs/architecture.md §11.1):
 *
 *   { "error": { "code": "not-found", "message": "…", "details": … } }
 *
 * Codes (the one place they are listed, like fastify's lib/errors.js):
 *   bad-request             400  malformed body, query or parameters (details: what failed)
 *   unauthorized            401  no token, or an unknown one (with WWW-Authenticate: Bearer)
 *   forbidden               403  the token's scope may not use the endpoint
 *   not-found               404  no such route (routes use it for missing resources too)
 *   payload-too-large       413, unsupported-media-type 415 (fastify's body checks)
 *   too-many-auth-failures  429  the source address sent too many wrong tokens (Retry-After)
 *   internal                500  anything unexpected (logged; no stack reaches the client)
 *   cluster-unavailable     503  several instances: the shared state (Redis) or the owning
 *                                instance cannot be reached (Retry-After)
 *   <RefusalCode>           403/404/409  a monitoring refusal, see monitoring/refusals.ts
 * Routes throw `ApiError` (or a `MonitorRefusal`); one handler answers them all.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { httpStatusOf, MonitorRefusal } from '../../monitoring/refusals.js';

export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export class ApiError extends Error {
  readonly details: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    opts: { details?: unknown; headers?: Readonly<Record<string, string>> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.details = opts.details;
    this.headers = opts.headers ?? {};
  }

  toJSON(): ApiErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details !== undefined ? { details: this.details } : {}),
      },
    };
  }
}

/** The API error for a refused monitoring action: its HTTP status, the refusal's code. */
export function refusalToApiError(refusal: MonitorRefusal): ApiError {
  return new ApiError(httpStatusOf(refusal.code), refusal.code, refusal.message);
}

export function notFound(message = 'not found'): ApiError {
  return new ApiError(404, 'not-found', message);
}

export function badRequest(message: string, details?: unknown): ApiError {
  return new ApiError(400, 'bad-request', message, { details });
}

/** The JSON schema of an error reply, registered as `ApiError#` (OpenAPI component). */
export const API_ERROR_SCHEMA = {
  $id: 'ApiError',
  type: 'object',
  description: 'An error: a stable code and a human message',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: {},
      },
    },
  },
} as const;

/** Response schemas of the error replies a route may give, e.g. `errorResponses(400, 404)`
 * (401 and 403 come with every authenticated route; list them too to document them). */
export function errorResponses(...statuses: number[]): Record<number, { $ref: string }> {
  return Object.fromEntries(statuses.map((s) => [s, { $ref: 'ApiError#' }]));
}

const CLIENT_ERROR_CODES: Record<number, string> = {
  400: 'bad-request',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
};

/** Maps anything a handler or fastify threw to the ApiError to answer (undefined: 500). */
export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof MonitorRefusal) return refusalToApiError(err);
  const fe = err as Partial<FastifyError> | undefined;
  if (fe?.validation !== undefined) {
    return badRequest(fe.message ?? 'invalid request', fe.validation);
  }
  const status = fe?.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new ApiError(status, CLIENT_ERROR_CODES[status] ?? 'bad-request', fe?.message ?? '');
  }
  return undefined;
}

/** One error handler and the not-found handler, on the root instance. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.addSchema(API_ERROR_SCHEMA);
  app.setErrorHandler((err, request, reply) => {
    const apiError = toApiError(err);
    if (apiError === undefined) {
      request.log.error({ err, url: request.url, method: request.method }, 'request failed');
      return reply
        .code(500)
        .type('application/json')
        .send({ error: { code: 'internal', message: 'internal error' } });
    }
    return reply
      .code(apiError.status)
      .headers(apiError.headers)
      .type('application/json')
      .send(apiError.toJSON());
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type('application/json')
      .send(notFound(`no route ${request.method} ${request.url.split('?')[0]}`).toJSON()),
  );
}
