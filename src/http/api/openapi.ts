/**
 * The OpenAPI 3 document of the HTTP API, generated from the routes' JSON schemas by
 * @fastify/swagger (dynamic mode) and served at `GET /openapi.json` without a token.
 * Routes that need a token get the bearer security requirement and their scopes in the
 * description; shared schemas (`$id`) become components named by their `$id`.
 * Register before any route: the plugin collects routes as they are added.
 */
import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

export const BEARER_SCHEME = 'bearerAuth';

function withSecurity(schema: FastifySchema | undefined, route: RouteOptions): FastifySchema {
  const s: FastifySchema = { ...schema };
  const config = route.config ?? {};
  if (config.public === true) return { ...s, security: [] };
  const scopes = (config.scopes ?? []).join(', ');
  const note = config.tokenInQuery === true ? ' The token may also be given as ?token=.' : '';
  return {
    ...s,
    security: [{ [BEARER_SCHEME]: [] }],
    description: `${s.description ?? ''}${s.description ? '\n\n' : ''}Scopes: ${scopes}.${note}`,
  };
}

export async function registerOpenApi(app: FastifyInstance, info: OpenApiInfo): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info,
      components: {
        securitySchemes: {
          [BEARER_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description: 'A token of config api.tokens: Authorization: Bearer TOKEN',
          },
        },
      },
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    transform: ({ schema, url, route }) => ({ schema: withSecurity(schema, route), url }),
  });
  app.get(
    '/openapi.json',
    { config: { public: true }, schema: { hide: true } },
    async (_request, reply) => reply.type('application/json').send(app.swagger()),
  );
}
