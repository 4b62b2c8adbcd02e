/**
 * Prometheus metrics on /metrics and /healthz, driven by real SIP traffic: requests and
 * responses by method and status class, registrations, authentication failures and
 * lock-outs (403), parse errors answered and dropped, transactions.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  makeExtensions,
  startServer,
  type MetricSample,
  type ServerHandle,
} from '../helpers/server.js';
import { buildRequest, registerWithAuth, SipClient } from '../helpers/sipClient.js';

let server: ServerHandle;
let client: SipClient;

beforeAll(async () => {
  server = await startServer(
    { auth: { algorithms: ['MD5'], lockout: { maxFailures: 3, windowSec: 60, lockSec: 60 } } },
    { extensions: makeExtensions(1000, 5) },
  );
  client = await SipClient.udp();
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

function value(samples: MetricSample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('metrics', () => {
  it('serves /healthz', async () => {
    const res = await server.httpGet('/healthz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
  });

  it('counts requests, responses, registrations and auth failures from real traffic', async () => {
    const before = await server.metrics();
    const ok = await registerWithAuth(client, {
      user: '1001',
      password: 'pw1001',
      port: server.sipPort,
      contacts: ['<sip:1001@127.0.0.1:5999>'],
    });
    expect(ok.final?.status).toBe(200);
    const bad = await registerWithAuth(client, {
      user: '1002',
      password: 'wrong',
      port: server.sipPort,
      contacts: ['<sip:1002@127.0.0.1:5999>'],
    });
    expect(bad.final?.status).toBe(401);
    const after = await server.metrics();

    const delta = (name: string, labels: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels);
    expect(delta('callwatch_sip_requests_total', { direction: 'in', method: 'REGISTER' })).toBe(4);
    expect(
      delta('callwatch_sip_responses_total', {
        direction: 'out',
        method: 'REGISTER',
        class: '4xx',
      }),
    ).toBe(3);
    expect(
      delta('callwatch_sip_responses_total', {
        direction: 'out',
        method: 'REGISTER',
        class: '2xx',
      }),
    ).toBe(1);
    expect(delta('callwatch_sip_auth_failures_total', { reason: 'bad-credentials' })).toBe(1);
    expect(value(after, 'callwatch_registrations_active')).toBe(1);
    expect(value(after, 'callwatch_registered_extensions')).toBe(1);
    expect(after.some((s) => s.name === 'callwatch_sip_transactions_active')).toBe(true);
    expect(after.some((s) => s.name === 'callwatch_process_cpu_seconds_total')).toBe(true);
  });

  it('locks a user out with 403 after repeated failures and counts it', async () => {
    const statuses: Array<number | undefined> = [];
    for (let i = 0; i < 4; i++) {
      const r = await registerWithAuth(client, {
        user: '1003',
        password: 'wrong',
        port: server.sipPort,
        contacts: ['<sip:1003@127.0.0.1:5999>'],
      });
      statuses.push(r.final?.status ?? r.challenge.status);
    }
    // maxFailures 3 (the source already failed once above): a lock-out is a 403.
    expect(statuses).toContain(403);
    expect(statuses.at(-1)).toBe(403);
    const samples = await server.metrics();
    expect(
      value(samples, 'callwatch_sip_responses_total', { method: 'REGISTER', class: '4xx' }),
    ).toBeGreaterThanOrEqual(8);
    expect(value(samples, 'callwatch_sip_auth_failures_total')).toBeGreaterThanOrEqual(3);
  });

  it('counts parse errors, answered (400) and dropped, and keeps serving', async () => {
    const before = await server.metrics();
    const req = buildRequest({
      method: 'OPTIONS',
      target: `127.0.0.1:${server.sipPort}`,
      transport: 'UDP',
      localPort: client.localPort,
    });
    // Answerable but malformed: Via, From, To, Call-ID and CSeq are fine, Max-Forwards is not.
    const broken = req.text.replace(/Max-Forwards: \d+/, 'Max-Forwards: many');
    expect(broken).not.toBe(req.text);
    client.send(broken, server.sipPort);
    const answered = await client.waitForResponse(req.callId, 'OPTIONS');
    expect(answered.status).toBe(400);
    // Not answerable at all.
    client.send(Buffer.from('\x00\x01garbage that is not SIP\r\n\r\n'), server.sipPort);
    const after = await server.metrics();
    const delta = (labels: Record<string, string>) =>
      value(after, 'callwatch_sip_parse_errors_total', labels) -
      value(before, 'callwatch_sip_parse_errors_total', labels);
    expect(delta({ transport: 'udp', answered: 'yes' })).toBe(1);
    expect(delta({ transport: 'udp', answered: 'no' })).toBe(1);

    const { response } = await client.request(
      { method: 'OPTIONS', target: `127.0.0.1:${server.sipPort}` },
      server.sipPort,
    );
    expect(response.status).toBe(200);
  });
});
