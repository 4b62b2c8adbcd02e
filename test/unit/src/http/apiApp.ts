/** A bare fastify app with the API infrastructure, for the http unit tests. */
import http from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino from 'pino';
import type { ApiTokenConfig } from '../../../../src/config/schema.js';
import type { EventBus } from '../../../../src/events/eventBus.js';
import type { CanSee } from '../../../../src/events/visibility.js';
import { registerApi } from '../../../../src/http/api/index.js';

export const TOKENS: ApiTokenConfig[] = [
  { name: 'root', token: 'admin-token-0000000001', scope: 'admin', extension: null },
  { name: 'sam', token: 'supervisor-token-00001', scope: 'supervisor', extension: '1005' },
  { name: 'alice', token: 'agent-token-0000000001', scope: 'agent', extension: '1001' },
];

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function apiApp(
  opts: { events?: EventBus; canSee?: CanSee; logs?: string[] } = {},
): Promise<FastifyInstance> {
  const logs = opts.logs;
  const logger = pino(
    { level: logs ? 'info' : 'silent' },
    { write: (line: string) => void logs?.push(line) },
  );
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
  await registerApi(app, {
    tokens: TOKENS,
    ...(opts.events ? { events: opts.events } : {}),
    ...(opts.canSee ? { canSee: opts.canSee } : {}),
  });
  return app;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): unknown;
}

/** Listens on 127.0.0.1, port 0; returns the port (app.inject cannot load under jest's
 * ESM mode: light-my-request requires the ESM-only cookie package). */
export async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return address.port;
}

/** One HTTP request without keep-alive (no socket outlives it). */
export function call(
  port: number,
  opts: {
    method?: string;
    url: string;
    headers?: Record<string, string>;
    /** Sent as JSON; `rawJson` is sent as is (with the JSON content type). */
    payload?: unknown;
    rawJson?: string;
  },
): Promise<Reply> {
  const body =
    opts.rawJson ?? (opts.payload === undefined ? undefined : JSON.stringify(opts.payload));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.url,
        agent: false,
        headers: {
          connection: 'close',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
            json: () => JSON.parse(text) as unknown,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
