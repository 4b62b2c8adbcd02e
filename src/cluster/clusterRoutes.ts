/**
 * `GET /v1/cluster/calls`: every instance's live calls with their owner, from the shared
 * index (admin and supervisor tokens). Redis unavailable: 503 `cluster-unavailable`.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, errorResponses } from '../http/api/errors.js';
import type { CallIndex } from './callIndex.js';
import { ClusterUnavailableError } from './redisConnection.js';

const indexedCallSchema = {
  type: 'object',
  required: ['id', 'instance', 'caller', 'callee', 'direction', 'state', 'startedAt'],
  properties: {
    id: { type: 'string' },
    instance: { type: 'string' },
    caller: { type: 'string' },
    callee: { type: 'string' },
    direction: { type: 'string' },
    state: { type: 'string' },
    startedAt: { type: 'string' },
    answeredAt: { type: 'string' },
  },
} as const;

export function registerClusterRoutes(
  app: FastifyInstance,
  deps: { index: CallIndex; instanceId: string },
): void {
  app.get(
    '/v1/cluster/calls',
    {
      config: { scopes: ['admin', 'supervisor'] },
      schema: {
        summary: 'Live calls of every instance, with the instance that owns each',
        response: {
          200: {
            type: 'object',
            properties: {
              instance: { type: 'string' },
              calls: { type: 'array', items: indexedCallSchema },
            },
          },
          ...errorResponses(401, 403, 503),
        },
      },
    },
    async () => {
      try {
        return { instance: deps.instanceId, calls: await deps.index.list() };
      } catch (err) {
        if (err instanceof ClusterUnavailableError) {
          throw new ApiError(503, 'cluster-unavailable', err.message, {
            headers: { 'Retry-After': '1' },
          });
        }
        throw err;
      }
    },
  );
}
