/**
 * `POST /v1/sip-tickets` (docs/architecture.md §8.9): a single-use, short-lived ticket
 * with which a browser opens SIP over WebSocket as the token's extension without its
 * SIP password (`/sip?ticket=…`; src/http/sipTickets.ts). Any token acting as an
 * extension may ask; one acting as none gets 403.
 */
import type { FastifyInstance } from 'fastify';
import type { SipTickets } from '../sipTickets.js';
import { SIP_WEBSOCKET_PATH } from '../sipWebSocketRoute.js';
import { principalOf } from './auth.js';
import { ApiError, errorResponses } from './errors.js';

export interface SipTicketRoutesDeps {
  tickets: SipTickets;
  /** A wall-clock time for `expiresAt` (the store's clock ms). */
  toWall(ms: number): Date;
}

const ticketSchema = {
  type: 'object',
  required: ['ticket', 'expiresAt', 'url'],
  properties: {
    ticket: { type: 'string', description: 'Single use; the upgrade redeems it' },
    expiresAt: { type: 'string', format: 'date-time' },
    url: {
      type: 'string',
      description: 'The path to open the SIP WebSocket with (subprotocol "sip")',
    },
  },
} as const;

export function registerSipTicketRoutes(app: FastifyInstance, deps: SipTicketRoutesDeps): void {
  app.post(
    '/v1/sip-tickets',
    {
      config: { scopes: ['admin', 'supervisor', 'agent'] },
      schema: {
        summary: "A ticket to open SIP over WebSocket as the token's extension (30 s, single use)",
        response: { 201: ticketSchema, ...errorResponses(401, 403) },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      if (p.extension === null)
        throw new ApiError(403, 'forbidden', 'this token acts as no extension');
      const issued = deps.tickets.issue(p.extension);
      request.log.info({ extension: p.extension }, 'SIP ticket issued');
      return reply.code(201).send({
        ticket: issued.ticket,
        expiresAt: deps.toWall(issued.expiresAt).toISOString(),
        url: `${SIP_WEBSOCKET_PATH}?ticket=${issued.ticket}`,
      });
    },
  );
}
