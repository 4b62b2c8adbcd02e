/**
 * `GET /v1/events`: the event stream as a WebSocket (docs/architecture.md §11.3). The client presents a
 * token as `Authorization: Bearer` or, from a browser, `?token=`; each event it may see
 * (visibility.ts) arrives as one JSON text message, in seq order. `?since=N` first
 * replays the buffered events with seq > N, then continues live with no gap and no
 * duplicate. Close codes: 4401 no or unknown token, 4403 scope not allowed, 1013 the
 * client reads too slowly (its unsent backlog passed MAX_BUFFERED_BYTES). Messages from
 * the client are ignored. A plain GET (no upgrade) is answered 426.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { EventBus } from '../../events/eventBus.js';
import type { ApiEvent } from '../../events/eventTypes.js';
import { adminOnly, type CanSee } from '../../events/visibility.js';
import { ALL_SCOPES, presentedToken, type Principal, type TokenStore } from './auth.js';
import { ApiError, errorResponses } from './errors.js';

export const EVENTS_PATH = '/v1/events';

/** WebSocket close codes of the stream (4000-4999: application codes, RFC 6455 §7.4.2). */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_TOO_SLOW = 1013;

/** A client whose unsent messages exceed this is disconnected rather than buffered. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface EventsRouteDeps {
  bus: EventBus;
  tokens: TokenStore;
  /** Which events a principal sees (default: admin tokens see all, others nothing). */
  canSee?: CanSee;
}

interface EventsQuery {
  since?: number;
  token?: string;
}

const querystring = {
  type: 'object',
  properties: {
    since: {
      type: 'integer',
      minimum: 0,
      description: 'Replay the buffered events with a greater seq first',
    },
    token: { type: 'string', description: 'The bearer token (for browsers)' },
  },
  additionalProperties: false,
} as const;

export function registerEventsRoute(app: FastifyInstance, deps: EventsRouteDeps): void {
  const canSee = deps.canSee ?? adminOnly;
  app.route<{ Querystring: EventsQuery }>({
    method: 'GET',
    url: EVENTS_PATH,
    config: { scopes: ALL_SCOPES, tokenInQuery: true },
    schema: {
      summary: 'The event stream (WebSocket)',
      description:
        'Upgrade to a WebSocket: each event the token may see arrives as one JSON text ' +
        'message {seq, time, type, ...} in seq order. Close codes: 4401 bad token, ' +
        '4403 scope not allowed, 1013 client too slow.',
      tags: ['events'],
      querystring,
      response: { ...errorResponses(400, 401, 403), 426: { $ref: 'ApiError#' } },
    },
    handler: async () => {
      throw new ApiError(426, 'upgrade-required', 'GET /v1/events is a WebSocket: upgrade');
    },
    wsHandler: (socket, request) => {
      const principal = request.principal;
      if (principal === null) {
        refuse(socket, request, deps.tokens);
        return;
      }
      stream(socket, request, principal, deps.bus, canSee);
    },
  });
}

/** Closes an upgrade the auth hook let through without a principal. */
function refuse(socket: WebSocket, request: FastifyRequest, tokens: TokenStore): void {
  const known = tokens.authenticate(presentedToken(request)) !== undefined;
  if (known) socket.close(CLOSE_FORBIDDEN, 'forbidden');
  else socket.close(CLOSE_UNAUTHORIZED, 'unauthorized');
}

function stream(
  socket: WebSocket,
  request: FastifyRequest<{ Querystring: EventsQuery }>,
  principal: Principal,
  bus: EventBus,
  canSee: CanSee,
): void {
  const log = request.log.child({ module: 'events', token: principal.name });
  const filter = (e: ApiEvent): boolean => canSee(principal, e);
  let unsubscribe: (() => void) | undefined;
  const stop = (): void => {
    unsubscribe?.();
    unsubscribe = undefined;
  };
  const send = (e: ApiEvent): void => {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      log.warn({ buffered: socket.bufferedAmount }, 'event client too slow: closing');
      stop();
      socket.close(CLOSE_TOO_SLOW, 'too slow');
      return;
    }
    socket.send(JSON.stringify(e));
  };
  socket.on('close', stop);
  socket.on('error', (err) => log.debug({ err }, 'event socket error'));
  socket.on('message', () => {}); // the stream is one-way; client messages are ignored

  // Replay and subscribe in the same tick: nothing is missed or sent twice.
  const since = request.query.since;
  if (since !== undefined) for (const e of bus.since(since, filter)) send(e);
  if (socket.readyState === socket.OPEN) unsubscribe = bus.subscribe(filter, send);
  log.debug({ since, scope: principal.scope }, 'event client connected');
}
