/**
 * The SIP warm-up (docs/architecture.md §8.5) on a real server: it runs before the
 * sockets open, leaves no trace (no registration, no SIP request or auth failure counted,
 * no log line of its own), and the server then answers a real REGISTER as usual and
 * shuts down cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startServer, type ServerHandle } from '../helpers/server.js';
import { registerWithAuth, SipClient } from '../helpers/sipClient.js';

const EXT = { number: '2101', password: 'pw2101', displayName: 'Warm', role: 'agent' as const };
const BUDGET_MS = 300;

let server: ServerHandle;
let client: SipClient;

beforeAll(async () => {
  server = await startServer(
    { auth: { algorithms: ['MD5'] }, sip: { warmup: { budgetMs: BUDGET_MS } } },
    { extensions: [EXT] },
  );
  client = await SipClient.udp();
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

const sum = (samples: Awaited<ReturnType<ServerHandle['metrics']>>, name: string): number =>
  samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);

describe('SIP warm-up', () => {
  it('ran within its budget before the server listened, and left nothing behind', async () => {
    const listening = server.logs().find((l) => l.msg === 'listening');
    const warmup = listening?.warmup as { rounds: number; ms: number } | undefined;
    expect(warmup?.rounds).toBeGreaterThan(0);
    // A wall-clock budget, checked between rounds: one round past it at most (the first
    // rounds run cold; on a loaded machine one takes a few hundred ms).
    expect(warmup?.ms).toBeGreaterThanOrEqual(BUDGET_MS);
    expect(warmup?.ms).toBeLessThan(BUDGET_MS + 1000);

    expect(await server.registrations()).toEqual([]);
    const metrics = await server.metrics();
    expect(sum(metrics, 'callwatch_registrations_active')).toBe(0);
    expect(sum(metrics, 'callwatch_sip_requests_total')).toBe(0);
    expect(sum(metrics, 'callwatch_sip_responses_total')).toBe(0);
    expect(sum(metrics, 'callwatch_sip_auth_failures_total')).toBe(0);
    expect(sum(metrics, 'callwatch_sip_transactions_active')).toBe(0);
    // None of the synthetic users (warm0…) or their traffic reached a log line.
    expect(server.output()).not.toMatch(/warm\d|warm-up|192\.0\.2\.10/);
  });

  it('answers a REGISTER as usual afterwards', async () => {
    const { challenge, final } = await registerWithAuth(client, {
      user: EXT.number,
      password: EXT.password,
      port: server.sipPort,
      contacts: [`<sip:${EXT.number}@127.0.0.1:${client.localPort}>`],
      expires: 120,
    });
    expect(challenge.status).toBe(401);
    expect(final?.status).toBe(200);
    const regs = await server.registrations();
    expect(regs.map((r) => r.extension)).toEqual([EXT.number]);
    expect(sum(await server.metrics(), 'callwatch_registrations_active')).toBe(1);
  });

  it('shuts down cleanly', async () => {
    expect(await server.stop()).toBe(0);
  });
});
