/**
 * Web sign-in: POST /v1/session with an extension's SIP password (or its webPassword
 * when set) gives an HttpOnly, SameSite=Strict session cookie (Secure under TLS) that
 * authenticates the REST API and the event stream's upgrade as that extension with its
 * role as the scope; wrong passwords are limited per address like wrong tokens; sign-out
 * ends the session; bearer tokens keep working. And the web app's static serving: its
 * page at its own paths, never in place of the server's other routes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import WebSocket from 'ws';
import { makeTempDir, removeTempDir } from '../helpers/processes.js';
import {
  readHttpResult,
  startServer,
  TEST_ADMIN_TOKEN,
  type ExtensionSpec,
  type HttpResult,
  type ServerHandle,
} from '../helpers/server.js';
import { selfSignedCertificate } from '../helpers/tlsCert.js';

const EXTENSIONS: ExtensionSpec[] = [
  { number: '1001', password: 'pw1001', displayName: 'Alice', role: 'agent' },
  { number: '1002', password: 'pw1002', role: 'agent', webPassword: 'web-secret-1002' },
  { number: '1005', password: 'pw1005', displayName: 'Sam', role: 'supervisor' },
  { number: '1009', password: 'pw1009', displayName: 'Ada', role: 'admin' },
];
const MAX_FAILURES = 3;

interface Req {
  from?: string;
  cookie?: string;
  origin?: string;
  token?: string;
  body?: unknown;
}

function request(
  server: ServerHandle,
  method: string,
  urlPath: string,
  opts: Req = {},
): Promise<HttpResult> {
  const text = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers: Record<string, string> = { connection: 'close' };
  if (opts.cookie !== undefined) headers.cookie = opts.cookie;
  if (opts.origin !== undefined) headers.origin = opts.origin;
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (text !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.httpPort,
        method,
        path: urlPath,
        agent: false,
        headers,
        ...(opts.from ? { localAddress: opts.from } : {}),
      },
      (res) => readHttpResult(res).then(resolve, reject),
    );
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${urlPath}: timeout`)));
    req.on('error', reject);
    req.end(text);
  });
}

/** The Set-Cookie line of the session cookie. */
function sessionCookieOf(r: HttpResult): string {
  const line = (r.headers['set-cookie'] ?? []).find((c) => c.startsWith('callwatch_session='));
  if (line === undefined) throw new Error(`no session cookie in ${JSON.stringify(r.headers)}`);
  return line;
}

/** `callwatch_session=ID` for a Cookie header. */
const cookieOf = (setCookie: string) => setCookie.split(';')[0]!;

async function signIn(server: ServerHandle, extension: string, password: string, from?: string) {
  const r = await request(server, 'POST', '/v1/session', {
    body: { extension, password },
    ...(from ? { from } : {}),
  });
  return { r, cookie: r.status === 200 ? cookieOf(sessionCookieOf(r)) : undefined };
}

/** How an event-stream upgrade ends: 'open' (still open after a moment) or its close code. */
function upgrade(server: ServerHandle, cookie: string | undefined, origin?: string) {
  return new Promise<{ open: boolean; code?: number }>((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (cookie) headers.cookie = cookie;
    const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/v1/events`, {
      headers,
      ...(origin ? { origin } : {}),
    });
    let timer: NodeJS.Timeout | undefined;
    ws.on('open', () => {
      timer = setTimeout(() => {
        ws.close();
        resolve({ open: true });
      }, 400);
    });
    ws.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ open: false, code });
    });
    ws.on('error', reject);
  });
}

describe('web sign-in sessions', () => {
  let server: ServerHandle;

  beforeAll(async () => {
    server = await startServer(
      {
        sip: { overload: { enabled: false } },
        monitoring: { enabled: true },
        api: { authLockout: { maxFailures: MAX_FAILURES, windowSec: 60, lockSec: 2 } },
      },
      { extensions: EXTENSIONS },
    );
  }, 30000);

  afterAll(async () => {
    await server?.stop();
  });

  it('signs in with the SIP password: the body says who, the cookie is HttpOnly, SameSite=Strict, Path=/', async () => {
    const { r } = await signIn(server, '1005', 'pw1005');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ extension: '1005', displayName: 'Sam', scope: 'supervisor' });
    const cookie = sessionCookieOf(r);
    expect(cookie).toMatch(/^callwatch_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Secure/); // plain HTTP
  });

  it('the cookie authenticates the API with the role as the scope', async () => {
    const sup = (await signIn(server, '1005', 'pw1005')).cookie;
    const agent = (await signIn(server, '1001', 'pw1001')).cookie;
    const admin = (await signIn(server, '1009', 'pw1009')).cookie;
    expect((await request(server, 'GET', '/v1/session', { cookie: sup })).json).toEqual({
      extension: '1005',
      displayName: 'Sam',
      scope: 'supervisor',
    });
    expect((await request(server, 'GET', '/v1/session', { cookie: admin })).json).toMatchObject({
      scope: 'admin',
    });
    expect((await request(server, 'GET', '/v1/calls', { cookie: sup })).status).toBe(200);
    // /v1/extensions is for supervisors and admins: an agent's session is refused as its token would be.
    expect((await request(server, 'GET', '/v1/extensions', { cookie: sup })).status).toBe(200);
    const refused = await request(server, 'GET', '/v1/extensions', { cookie: agent });
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ error: { code: 'forbidden' } });
    // A supervisor session reads only its own audit entries; an admin session may read the log.
    expect((await request(server, 'GET', '/v1/audit', { cookie: admin })).status).toBe(200);
    expect((await request(server, 'GET', '/v1/registrations', { cookie: agent })).status).toBe(403);
    expect((await request(server, 'GET', '/v1/registrations', { cookie: admin })).status).toBe(200);
  });

  it('webPassword replaces the SIP password for sign-in', async () => {
    expect((await signIn(server, '1002', 'pw1002', '127.0.0.21')).r.status).toBe(401);
    const { r } = await signIn(server, '1002', 'web-secret-1002', '127.0.0.21');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ extension: '1002', scope: 'agent' });
  });

  it('refuses a wrong password and an unknown extension alike, without a cookie', async () => {
    for (const [ext, pw] of [
      ['1005', 'wrong'],
      ['7777', 'pw1005'],
    ] as const) {
      const { r } = await signIn(server, ext, pw, '127.0.0.22');
      expect(r.status).toBe(401);
      expect(r.json).toEqual({
        error: { code: 'bad-credentials', message: 'wrong extension or password' },
      });
      expect(r.headers['set-cookie']).toBeUndefined();
    }
  });

  it('locks an address out after too many wrong passwords (429, Retry-After), the right one included', async () => {
    const from = '127.0.0.23';
    for (let i = 1; i < MAX_FAILURES; i++) {
      expect((await signIn(server, '1005', `wrong${i}`, from)).r.status).toBe(401);
    }
    const locking = (await signIn(server, '1005', 'wrong-last', from)).r;
    expect(locking.status).toBe(429);
    expect(locking.json).toMatchObject({ error: { code: 'too-many-auth-failures' } });
    expect(Number(locking.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const right = (await signIn(server, '1005', 'pw1005', from)).r;
    expect(right.status).toBe(429);
    expect(right.headers['set-cookie']).toBeUndefined();
    // Another address is not affected.
    expect((await signIn(server, '1005', 'pw1005', '127.0.0.24')).r.status).toBe(200);
    // After lockSec the address may sign in again.
    await new Promise((r) => setTimeout(r, 2100));
    expect((await signIn(server, '1005', 'pw1005', from)).r.status).toBe(200);
  });

  it('signs out: 204, the cookie cleared, the session gone', async () => {
    const { cookie } = await signIn(server, '1005', 'pw1005');
    const out = await request(server, 'DELETE', '/v1/session', { cookie });
    expect(out.status).toBe(204);
    expect(sessionCookieOf(out)).toMatch(/^callwatch_session=;.*Max-Age=0/);
    expect((await request(server, 'GET', '/v1/session', { cookie })).status).toBe(401);
    const calls = await request(server, 'GET', '/v1/calls', { cookie });
    expect(calls.status).toBe(401);
    expect(calls.json).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('ignores the cookie on a request from another origin', async () => {
    const { cookie } = await signIn(server, '1005', 'pw1005');
    const own = `http://127.0.0.1:${server.httpPort}`;
    expect((await request(server, 'GET', '/v1/calls', { cookie, origin: own })).status).toBe(200);
    const foreign = await request(server, 'GET', '/v1/calls', {
      cookie,
      origin: 'http://evil.example',
    });
    expect(foreign.status).toBe(401);
  });

  it('authenticates the event stream upgrade with the cookie; none or another origin is closed 4401', async () => {
    const { cookie } = await signIn(server, '1001', 'pw1001');
    expect(await upgrade(server, cookie)).toEqual({ open: true });
    expect(await upgrade(server, undefined)).toEqual({ open: false, code: 4401 });
    expect(await upgrade(server, cookie, 'http://evil.example')).toEqual({
      open: false,
      code: 4401,
    });
  });

  it('a bearer token still works, and wins over a cookie', async () => {
    const agent = (await signIn(server, '1001', 'pw1001')).cookie;
    const r = await request(server, 'GET', '/v1/registrations', {
      cookie: agent,
      token: TEST_ADMIN_TOKEN.token,
    });
    expect(r.status).toBe(200);
  });
});

describe('the web app at /', () => {
  let server: ServerHandle;

  beforeAll(async () => {
    server = await startServer({ sip: { overload: { enabled: false } } });
  }, 30000);

  afterAll(async () => {
    await server?.stop();
  });

  it('serves the page at its own paths, with a strict content security policy', async () => {
    for (const p of ['/', '/signin', '/monitor', '/monitor/calls/abc', '/agent', '/admin']) {
      const r = await request(server, 'GET', p);
      expect({ p, status: r.status }).toEqual({ p, status: 200 });
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(r.body).toContain('<div id="app">');
      expect(r.headers['content-security-policy']).toContain("default-src 'self'");
      expect(r.headers['cache-control']).toBe('no-cache');
    }
    const page = (await request(server, 'GET', '/')).body;
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page)?.[1];
    expect(script).toBeDefined();
    const js = await request(server, 'GET', script!);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toMatch(/immutable/);
  });

  it('never falls back to the page for the server’s own routes or unknown paths', async () => {
    const json = await request(server, 'GET', '/openapi.json');
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect((await request(server, 'GET', '/healthz')).json).toEqual({ status: 'ok' });
    expect((await request(server, 'GET', '/metrics')).body).toContain('# HELP');
    expect((await request(server, 'GET', '/phone')).body).toContain('phone');
    for (const p of ['/v1/nothing', '/nothing', '/assets/missing.js', '/assets/../package.json']) {
      const r = await request(server, 'GET', p);
      expect({ p, status: r.status }).toEqual({ p, status: 404 });
      expect(r.body).not.toContain('<div id="app">');
    }
    expect((await request(server, 'GET', '/v1/calls')).status).toBe(401);
  });

  it('the build-time OpenAPI document (dist/openapi.json) lists the running server’s paths', async () => {
    const built = JSON.parse(readFileSync(path.resolve('dist/openapi.json'), 'utf8')) as {
      paths: Record<string, unknown>;
    };
    const live = (await request(server, 'GET', '/openapi.json')).json as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(built.paths).sort()).toEqual(Object.keys(live.paths).sort());
    expect(Object.keys(live.paths)).toContain('/v1/session');
  });
});

describe('the session cookie under TLS', () => {
  let server: ServerHandle;
  let dir: string;
  let ca: Buffer;

  beforeAll(async () => {
    dir = makeTempDir('session-tls');
    const { certFile, keyFile, cert: pem } = selfSignedCertificate(dir);
    ca = pem;
    server = await startServer(
      { http: { tls: { cert: certFile, key: keyFile } }, sip: { overload: { enabled: false } } },
      { extensions: [{ number: '1005', password: 'pw1005', role: 'supervisor' }] },
    );
  }, 30000);

  afterAll(async () => {
    await server?.stop();
    removeTempDir(dir);
  });

  it('is Secure', async () => {
    const body = JSON.stringify({ extension: '1005', password: 'pw1005' });
    const r = await new Promise<HttpResult>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: server.httpPort,
          method: 'POST',
          path: '/v1/session',
          ca,
          agent: false,
          headers: { 'content-type': 'application/json', connection: 'close' },
        },
        (res) => readHttpResult(res).then(resolve, reject),
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(r.status).toBe(200);
    expect(sessionCookieOf(r)).toMatch(/; Secure/);
  });
});
