/**
 * The REST API's infrastructure on the real server: bearer tokens and scopes on the
 * existing endpoints, JSON errors, the OpenAPI document, and the event stream carrying
 * registration changes from real REGISTERs, in order, filtered by scope, resumable.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventStreamClient, type StreamEvent } from '../helpers/eventStream.js';
import { startServer, TEST_ADMIN_TOKEN, type ServerHandle } from '../helpers/server.js';
import { registerWithAuth, SipClient } from '../helpers/sipClient.js';

const SUPERVISOR_TOKEN = 'supervisor-token-2005-abcdef';
const AGENT_TOKEN = 'agent-token-2001-abcdefghij';

const extensions = [
  { number: '2001', password: 'pw2001', role: 'agent' as const },
  { number: '2002', password: 'pw2002', role: 'agent' as const },
  { number: '2003', password: 'pw2003', role: 'agent' as const },
  { number: '2005', password: 'pw2005', role: 'supervisor' as const },
];

let server: ServerHandle;
let sip: SipClient;
const streams: EventStreamClient[] = [];

async function stream(opts: Parameters<typeof EventStreamClient.connect>[1]) {
  const s = await EventStreamClient.connect(server.httpPort, opts);
  streams.push(s);
  return s;
}

async function register(user: string, expires = 600): Promise<void> {
  const r = await registerWithAuth(sip, {
    user,
    password: `pw${user}`,
    port: server.sipPort,
    contacts: [`<sip:${user}@127.0.0.1:5999>`],
    expires,
  });
  expect(r.final?.status).toBe(200);
}

const registration =
  (extension: string, registered = true) =>
  (e: StreamEvent) =>
    e.type === 'registration.changed' && e.extension === extension && e.registered === registered;

beforeAll(async () => {
  server = await startServer(
    {
      auth: { algorithms: ['MD5'] },
      api: {
        tokens: [
          { name: 'sam', token: SUPERVISOR_TOKEN, scope: 'supervisor', extension: '2005' },
          { name: 'alice', token: AGENT_TOKEN, scope: 'agent', extension: '2001' },
        ],
      },
    },
    { extensions },
  );
  sip = await SipClient.udp();
});

afterAll(async () => {
  await Promise.all(streams.map((s) => s.close()));
  await sip?.close();
  await server?.stop();
});

describe('API tokens', () => {
  it('keeps /healthz and /metrics open', async () => {
    expect((await server.httpGet('/healthz', { token: null })).status).toBe(200);
    expect((await server.httpGet('/metrics', { token: null })).status).toBe(200);
  });

  it('answers 401 JSON with WWW-Authenticate without a token or with an unknown one', async () => {
    for (const path of ['/v1/registrations', '/v1/calls']) {
      for (const token of [null, 'no-such-token-anywhere']) {
        const r = await server.httpGet(path, { token });
        expect(r.status).toBe(401);
        expect(r.headers['www-authenticate']).toBe('Bearer');
        expect(r.json).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      }
    }
  });

  it('answers 403 forbidden to a scope the endpoint does not allow', async () => {
    const r = await server.httpGet('/v1/extensions', { token: AGENT_TOKEN });
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('serves admin and supervisor tokens', async () => {
    expect((await server.httpGet('/v1/calls')).json).toEqual({ calls: [] });
    expect((await server.httpGet('/v1/registrations', { token: SUPERVISOR_TOKEN })).status).toBe(
      200,
    );
  });

  it('answers unknown paths 404 not-found', async () => {
    const r = await server.httpGet('/v1/nothing-here');
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ error: { code: 'not-found' } });
  });
});

describe('GET /openapi.json', () => {
  it('is open and describes the API', async () => {
    const r = await server.httpGet('/openapi.json', { token: null });
    expect(r.status).toBe(200);
    const doc = r.json as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/healthz', '/v1/registrations', '/v1/calls', '/v1/events']),
    );
    expect(doc.paths['/v1/calls']?.get?.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ scheme: 'bearer' });
  });
});

describe('GET /v1/events', () => {
  it('streams registration changes in order, filtered by scope, and resumes with ?since=', async () => {
    const admin = await stream({ token: TEST_ADMIN_TOKEN.token });
    const supervisor = await stream({ token: SUPERVISOR_TOKEN });
    const agent = await stream({ token: AGENT_TOKEN, tokenInQuery: true });

    await register('2001');
    await register('2002');
    await register('2005');
    await register('2001', 0); // unregister

    const first = await admin.next(registration('2001'));
    const second = await admin.next(registration('2002'));
    const third = await admin.next(registration('2005'));
    const fourth = await admin.next(registration('2001', false));
    const seqs = [first, second, third, fourth].map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(4);
    expect(first).toMatchObject({ registered: true, contacts: 1 });
    expect(fourth).toMatchObject({ registered: false, contacts: 0 });
    expect(Date.parse(first.time)).not.toBeNaN();
    // Everything the admin got, in increasing seq.
    const all = admin.received.map((e) => e.seq);
    expect(all).toEqual([...all].sort((a, b) => a - b));

    // The supervisor sees its group's members and itself; the agent sees itself only.
    await supervisor.next(registration('2001', false));
    expect(supervisor.received.map((e) => e.extension)).toEqual(['2001', '2002', '2005', '2001']);
    await agent.next(registration('2001', false));
    expect(agent.received.map((e) => e.extension)).toEqual(['2001', '2001']);

    // A client that saw `first` resumes after it and gets the rest again, in order.
    const resumed = await stream({ token: TEST_ADMIN_TOKEN.token, since: first.seq });
    const replay = await resumed.waitForCount(3);
    expect(replay.map((e) => e.seq)).toEqual([second.seq, third.seq, fourth.seq]);
  });

  it('refuses a bad token with close code 4401', async () => {
    const bad = await stream({ token: 'not-a-valid-token-123' });
    expect(await bad.closed).toEqual({ code: 4401, reason: 'unauthorized' });
    const none = await stream({});
    expect((await none.closed).code).toBe(4401);
  });
});
