/**
 * `GET /phone`: the browser phone page (web/phone/, bundled by `npm run build` into
 * dist/phone/). A fixed list of files, read from disk per request (they are small and
 * change only with a build), open to everyone: the page holds no secret, and registering
 * needs the extension's digest password over `/sip`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { ApiError } from './api/errors.js';

/** dist/phone/, beside dist/src/ where this module runs from. */
export const DEFAULT_PHONE_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../phone',
);

const FILES: Record<string, { file: string; type: string }> = {
  '/phone': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/phone/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/phone/phone.js': { file: 'phone.js', type: 'text/javascript; charset=utf-8' },
  '/phone/phone.js.map': { file: 'phone.js.map', type: 'application/json' },
  '/phone/phone.css': { file: 'phone.css', type: 'text/css; charset=utf-8' },
};

export function registerPhoneRoutes(app: FastifyInstance, dir = DEFAULT_PHONE_DIR): void {
  for (const [url, { file, type }] of Object.entries(FILES)) {
    app.get(url, { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
      let body: Buffer;
      try {
        body = await readFile(path.join(dir, file));
      } catch {
        throw new ApiError(404, 'not-found', 'the phone page is not built (npm run build)');
      }
      return reply
        .header('Content-Type', type)
        .header('Cache-Control', 'no-cache')
        .header('X-Content-Type-Options', 'nosniff')
        .send(body);
    });
  }
}
