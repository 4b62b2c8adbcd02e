/**
 * The web app (web/app/, built by `npm run build` into dist/app/) at `/`: its hashed
 * assets under `/assets/`, and its page for each of the app's own paths (the app routes
 * in the browser), so a reload of /monitor still opens the Call Monitor. Nothing else
 * falls back to the page: /v1, /sip, /phone, /metrics, /healthz and /openapi.json keep
 * their own routes, and an unknown path is a JSON 404. Open to everyone: the page holds
 * no secret, its data comes from the API after sign-in. Files are sent by
 * @fastify/static (ETag, Last-Modified, ranges, no path escapes the folder).
 */
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from './api/errors.js';

/** dist/app/, beside dist/src/ where this module runs from. */
export const DEFAULT_APP_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../app',
);

/** The paths the app routes itself (web/app/src/routes.ts): each is answered with its page. */
export const APP_PATHS = ['/', '/signin', '/monitor', '/monitor/*', '/agent', '/admin'];

/** The page allows only its own scripts, styles and connections (no inline code). */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob: mediastream:",
  "frame-ancestors 'none'",
].join('; ');

export async function registerAppRoutes(
  app: FastifyInstance,
  dir = DEFAULT_APP_DIR,
): Promise<void> {
  // serve: false: only reply.sendFile; the routes below say what is served (and that
  // they are open, which every route must).
  await app.register(fastifyStatic, { root: dir, serve: false });

  const notBuilt = () => new ApiError(404, 'not-found', 'the web app is not built (npm run build)');
  const page = async (_request: unknown, reply: FastifyReply) => {
    if (!existsSync(path.join(dir, 'index.html'))) throw notBuilt();
    return reply
      .header('Cache-Control', 'no-cache')
      .header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Referrer-Policy', 'same-origin')
      .sendFile('index.html', { cacheControl: false });
  };
  for (const url of APP_PATHS) {
    app.get(url, { config: { public: true }, schema: { hide: true } }, page);
  }
  app.get(
    '/assets/*',
    { config: { public: true }, schema: { hide: true } },
    async (request, reply) => {
      const file = (request.params as { '*': string })['*'];
      // Hashed names: a file never changes under its name.
      return reply
        .header('X-Content-Type-Options', 'nosniff')
        .sendFile(path.posix.join('assets', file), { maxAge: '365d', immutable: true });
    },
  );
}
