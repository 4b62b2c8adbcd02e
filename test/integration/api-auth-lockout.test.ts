/**
 * Wrong API tokens are limited per source address, like SIP digest failures: after
 * api.authLockout.maxFailures wrong tokens the address gets 429 with Retry-After and a
 * JSON error on the REST API, the event stream's upgrade and the Yeastar endpoints, the
 * right token included, until lockSec has passed; logged and counted. Each case comes
 * from its own loopback address (127.0.0.x), so one lock-out does not touch another.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import WebSocket from 'ws';
import {
  readHttpResult,
  startServer,
  TEST_ADMIN_TOKEN,
  type HttpResult,
  type ServerHandle,
} from '../helpers/server.js';

const RIGHT = TEST_ADMIN_TOKEN.token;
const WRONG = 'wrong-token-guess-000000';
const LOCK_SEC = 2;

/** One HTTP request from `from` (a 127.0.0.x address), no keep-alive. */
function request(
  server: ServerHandle,
  from: string,
  method: string,
  urlPath: string,
  opts: { token?: string; body?: string } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { connection: 'close' };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.httpPort,
        method,
        path: urlPath,
        localAddress: from,
        agent: false,
        headers,
      },
      (res) => readHttpResult(res).then(resolve, reject),
    );
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${urlPath}: timeout`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The HTTP status of an events upgrade (101 when it was accepted) and its close code. */
function upgrade(
  server: ServerHandle,
  from: string,
  token: string,
): Promise<{ status: number; retryAfter?: string; body?: string; closeCode?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/v1/events?token=${token}`, {
      localAddress: from,
    });
    ws.on('unexpected-response', (_req, res) => {
      readHttpResult(res).then(
        (r) =>
          resolve({
            status: r.status,
            retryAfter: r.headers['retry-after'] as string | undefined,
            body: r.body,
          }),
        reject,
      );
    });
    ws.on('open', () => {
      ws.on('close', (code) => resolve({ status: 101, closeCode: code }));
      ws.close();
    });
    ws.on('close', (code) => resolve({ status: 101, closeCode: code }));
    ws.on('error', () => undefined); // unexpected-response or close says what happened
  });
}

const lockedOut = {
  error: { code: 'too-many-auth-failures', message: expect.stringMatching(/too many failed/) },
};

async function failures(server: ServerHandle, reason: string): Promise<number> {
  const samples = await server.metrics();
  return (
    samples.find(
      (s) => s.name === 'callwatch_api_auth_failures_total' && s.labels.reason === reason,
    )?.value ?? NaN
  );
}

describe('API authentication lock-out per source address', () => {
  let server: ServerHandle;

  beforeAll(async () => {
    server = await startServer({
      api: { authLockout: { maxFailures: 5, windowSec: 60, lockSec: LOCK_SEC } },
    });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('answers 429 with Retry-After after maxFailures wrong bearer tokens, the right one too, until the lock ends', async () => {
    const from = '127.0.0.2';
    for (let i = 1; i <= 4; i++) {
      expect((await request(server, from, 'GET', '/v1/calls', { token: WRONG })).status).toBe(401);
    }
    const fifth = await request(server, from, 'GET', '/v1/calls', { token: WRONG });
    expect(fifth.status).toBe(429);
    const right = await request(server, from, 'GET', '/v1/calls', { token: RIGHT });
    expect(right.status).toBe(429);
    expect(right.json).toEqual(lockedOut);
    const retryAfter = Number(right.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(LOCK_SEC);
    // Another address is not affected.
    expect((await request(server, '127.0.0.9', 'GET', '/v1/calls', { token: RIGHT })).status).toBe(
      200,
    );
    // Logged once when the lock started, and counted.
    const lockLog = await server.waitForLog((e) => /address locked out/.test(e.msg ?? ''));
    expect(lockLog).toMatchObject({ source: from });
    expect(await failures(server, 'bad-token')).toBeGreaterThanOrEqual(5);
    expect(await failures(server, 'locked')).toBeGreaterThanOrEqual(2);

    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
    expect((await request(server, from, 'GET', '/v1/calls', { token: RIGHT })).status).toBe(200);
  });

  it('counts requests without a token as no guess', async () => {
    const from = '127.0.0.3';
    for (let i = 0; i < 8; i++) {
      expect((await request(server, from, 'GET', '/v1/calls')).status).toBe(401);
    }
    expect((await request(server, from, 'GET', '/v1/calls', { token: RIGHT })).status).toBe(200);
  });

  it('limits ?token= guesses on the event stream: the upgrade gets 429', async () => {
    const from = '127.0.0.4';
    for (let i = 0; i < 4; i++) {
      expect(await upgrade(server, from, WRONG)).toMatchObject({ status: 101, closeCode: 4401 });
    }
    const locked = await upgrade(server, from, WRONG);
    expect(locked.status).toBe(429);
    const right = await upgrade(server, from, RIGHT);
    expect(right.status).toBe(429);
    expect(Number(right.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(right.body ?? '')).toEqual(lockedOut);
  });

  it('limits ?token= guesses on the Yeastar endpoints', async () => {
    const from = '127.0.0.5';
    const body = JSON.stringify({ listener: '1005', listenedext: '1001' });
    const listen = (token: string) =>
      request(server, from, 'POST', `/api/v1.1.0/extension/listen?token=${token}`, { body });
    for (let i = 0; i < 4; i++) {
      const r = await listen(WRONG);
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ status: 'Failed', errno: '20004' });
    }
    expect((await listen(WRONG)).status).toBe(429);
    const right = await listen(RIGHT);
    expect(right.status).toBe(429);
    expect(right.headers['retry-after']).toMatch(/^[12]$/);
    expect(right.json).toEqual(lockedOut);
  });
});

describe('API authentication lock-out with the default config', () => {
  let server: ServerHandle;

  beforeAll(async () => {
    server = await startServer({});
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('30 wrong bearer tokens in a row: locked after 10, and the right token is refused too', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      statuses.push(
        (await request(server, '127.0.0.6', 'GET', '/v1/calls', { token: WRONG })).status,
      );
    }
    expect(statuses).toEqual([...Array(9).fill(401), ...Array(21).fill(429)]);
    const right = await request(server, '127.0.0.6', 'GET', '/v1/calls', { token: RIGHT });
    expect(right.status).toBe(429);
    // Default lockSec 300: Retry-After says so (to the second).
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(290);
    expect(Number(right.headers['retry-after'])).toBeLessThanOrEqual(300);
  });
});
