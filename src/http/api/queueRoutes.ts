/**
 * Call queues over REST (docs/architecture.md §9.5, §11.1):
 *
 *   GET   /v1/queues                        every queue: waiting callers, member states
 *   GET   /v1/queues/{number}               one queue
 *   PATCH /v1/queues/{number}/members/{ext} { "paused": true | false }
 *
 * Admin tokens see and steer every queue; a supervisor or agent token pauses only its own
 * extension (403 forbidden otherwise) and sees the queues it is a member of, plus, for a
 * supervisor, the queues its monitoring groups name.
 */
import type { FastifyInstance } from 'fastify';
import type { QueueView } from '../../queues/queueRunner.js';
import { forbidden } from './auth.js';
import { errorResponses, notFound, principalOf, type Principal } from './index.js';

export interface QueueRoutesDeps {
  queues: {
    views(): QueueView[];
    view(number: string): QueueView | undefined;
    pause(queue: string, member: string, paused: boolean): 'ok' | 'no-queue' | 'not-member';
  };
  /** Whether a supervisor may monitor the calls of this queue (its groups name it). */
  monitorsQueue(supervisor: string, queue: string): boolean;
}

const number = { type: 'string', pattern: '^[0-9A-Za-z._-]{1,32}$' } as const;

const memberSchema = {
  type: 'object',
  required: ['extension', 'state', 'paused', 'available', 'idleSec'],
  properties: {
    extension: { type: 'string' },
    state: {
      type: 'string',
      enum: ['idle', 'ringing', 'in-call', 'wrap-up'],
      description: 'In this queue: idle, ringing for a caller, in a queue call, in wrap-up',
    },
    paused: { type: 'boolean' },
    available: { type: 'boolean', description: 'Registered and in no other call' },
    idleSec: { type: ['integer', 'null'], description: 'Seconds idle (null unless idle)' },
  },
} as const;

const queueSchema = {
  type: 'object',
  required: ['number', 'name', 'strategy', 'waiting', 'members'],
  properties: {
    number: { type: 'string' },
    name: { type: 'string' },
    strategy: { type: 'string', enum: ['ringall', 'roundrobin', 'longest-idle'] },
    waiting: {
      type: 'array',
      description: 'Callers waiting, first in line first',
      items: {
        type: 'object',
        required: ['callId', 'position', 'waitSec'],
        properties: {
          callId: { type: 'string' },
          position: { type: 'integer' },
          waitSec: { type: 'integer' },
        },
      },
    },
    members: { type: 'array', items: memberSchema },
  },
} as const;

function reply(view: QueueView) {
  return {
    number: view.number,
    name: view.name,
    strategy: view.strategy,
    waiting: view.waiting.map((w) => ({
      callId: w.callId,
      position: w.position,
      waitSec: Math.floor(w.waitingMs / 1000),
    })),
    members: view.members.map((m) => ({
      extension: m.extension,
      state: m.state,
      paused: m.paused,
      available: m.available,
      idleSec: m.idleMs === null ? null : Math.floor(m.idleMs / 1000),
    })),
  };
}

export function registerQueueRoutes(app: FastifyInstance, deps: QueueRoutesDeps): void {
  const maySee = (p: Principal, view: QueueView): boolean =>
    p.scope === 'admin' ||
    (p.extension !== null &&
      (view.members.some((m) => m.extension === p.extension) ||
        (p.scope === 'supervisor' && deps.monitorsQueue(p.extension, view.number))));

  app.get(
    '/v1/queues',
    {
      config: { scopes: ['admin', 'supervisor', 'agent'] },
      schema: {
        summary: 'Call queues: waiting callers and member states',
        response: {
          200: { type: 'object', properties: { queues: { type: 'array', items: queueSchema } } },
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      return {
        queues: deps.queues
          .views()
          .filter((v) => maySee(p, v))
          .map(reply),
      };
    },
  );

  app.get(
    '/v1/queues/:number',
    {
      config: { scopes: ['admin', 'supervisor', 'agent'] },
      schema: {
        summary: 'One call queue',
        params: {
          type: 'object',
          required: ['number'],
          additionalProperties: false,
          properties: { number },
        },
        response: { 200: queueSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { number: queue } = request.params as { number: string };
      const view = deps.queues.view(queue);
      if (view === undefined || !maySee(principalOf(request), view)) {
        throw notFound('no such queue');
      }
      return reply(view);
    },
  );

  app.patch(
    '/v1/queues/:number/members/:ext',
    {
      config: { scopes: ['admin', 'supervisor', 'agent'] },
      schema: {
        summary: 'Pause or unpause a queue member (a paused member is not rung)',
        params: {
          type: 'object',
          required: ['number', 'ext'],
          additionalProperties: false,
          properties: { number, ext: number },
        },
        body: {
          type: 'object',
          required: ['paused'],
          additionalProperties: false,
          properties: { paused: { type: 'boolean' } },
        },
        response: { 200: memberSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { number: queue, ext } = request.params as { number: string; ext: string };
      const { paused } = request.body as { paused: boolean };
      const p = principalOf(request);
      if (p.scope !== 'admin' && p.extension !== ext) {
        throw forbidden('only an admin token may pause another extension');
      }
      const done = deps.queues.pause(queue, ext, paused);
      if (done === 'no-queue') throw notFound('no such queue');
      if (done === 'not-member') throw notFound(`${ext} is not a member of queue ${queue}`);
      const view = deps.queues.view(queue) as QueueView;
      const member = reply(view).members.find((m) => m.extension === ext);
      return member;
    },
  );
}
