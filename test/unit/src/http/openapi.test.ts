import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { EventBus } from '../../../../src/events/eventBus.js';
import { errorResponses } from '../../../../src/http/api/errors.js';
import { apiApp, call, listen } from './apiApp.js';

interface Operation {
  security?: Record<string, string[]>[];
  description?: string;
  responses: Record<string, unknown>;
}
interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
}

describe('GET /openapi.json', () => {
  let app: FastifyInstance;
  let doc: OpenApiDoc;

  beforeAll(async () => {
    app = await apiApp({ events: new EventBus() });
    app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));
    app.get(
      '/v1/things/:id',
      {
        config: { scopes: ['admin', 'supervisor'] },
        schema: {
          summary: 'One thing',
          params: { type: 'object', properties: { id: { type: 'string' } } },
          response: {
            200: { type: 'object', properties: { id: { type: 'string' } } },
            ...errorResponses(401, 403, 404),
          },
        },
      },
      async () => ({ id: 'x' }),
    );
    const port = await listen(app);
    const r = await call(port, { url: '/openapi.json' });
    expect(r.status).toBe(200);
    doc = r.json() as OpenApiDoc;
  });
  afterAll(async () => {
    await app.close();
  });

  it('is an OpenAPI 3 document with the bearer scheme', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearerAuth).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
  });

  it('describes routes from their schemas, with security and scopes', () => {
    const op = doc.paths['/v1/things/{id}']?.get;
    expect(op).toBeDefined();
    expect(op?.security).toEqual([{ bearerAuth: [] }]);
    expect(op?.description).toMatch(/Scopes: admin, supervisor/);
    expect(Object.keys(op?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '401', '403', '404']),
    );
    expect(doc.components.schemas.ApiError).toBeDefined();
  });

  it('marks public routes as needing no token and leaves itself out', () => {
    expect(doc.paths['/healthz']?.get?.security).toEqual([]);
    expect(doc.paths['/openapi.json']).toBeUndefined();
  });

  it('documents the event stream', () => {
    expect(doc.paths['/v1/events']?.get?.description).toMatch(/WebSocket/);
  });
});
