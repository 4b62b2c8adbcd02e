/**
 * Registrar and digest details checked with a raw SIP client (test/helpers/sipClient.ts),
 * with the default algorithms: one challenge per algorithm, SHA-256 first (RFC 8760),
 * either answer accepted; Expires limits from the config (423 / capping).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startServer, type ServerHandle } from '../helpers/server.js';
import {
  buildRequest,
  parseDigestChallenge,
  registerWithAuth,
  SipClient,
} from '../helpers/sipClient.js';

const EXT = {
  number: '2001',
  password: 'pw2001',
  displayName: 'Digest test',
  role: 'agent' as const,
};

let server: ServerHandle;
let client: SipClient;

beforeAll(async () => {
  server = await startServer(
    {
      auth: { algorithms: ['SHA-256', 'MD5'] },
      registrar: { minExpires: 60, maxExpires: 3600, defaultExpires: 3600 },
    },
    { extensions: [EXT] },
  );
  client = await SipClient.udp();
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

const contact = (tag: string): string => `<sip:2001-${tag}@127.0.0.1:${client.localPort}>`;

describe('digest REGISTER (default algorithms)', () => {
  it('answers a retransmitted REGISTER with the very same 401, from its transaction', async () => {
    // RFC 3261 §17.2.2: the challenge's transaction resends its response. A challenge made
    // anew (stateless, §8.2.7) would carry another nonce, and SIPp, which keeps no client
    // transaction, aborts a registration that gets a second, different 401 after it sent
    // its authenticated REGISTER (docs/architecture.md §8.7).
    const req = buildRequest({
      method: 'REGISTER',
      target: `127.0.0.1:${server.sipPort}`,
      transport: 'UDP',
      localPort: client.localPort,
      fromUser: '2001',
      headers: [`Contact: ${contact('retransmitted')}`, 'Expires: 60'],
    });
    client.send(req.text, server.sipPort);
    const a = await client.waitForResponse(req.callId, 'REGISTER');
    client.send(req.text, server.sipPort);
    const b = (await client.waitFor((m) => m.isResponse && m.callId === req.callId && m !== a))
      .message;
    expect(a.status).toBe(401);
    expect(b.raw).toBe(a.raw);
  });

  it('challenges with one WWW-Authenticate per algorithm, SHA-256 first, same realm', async () => {
    const { challenge } = await registerWithAuth(client, {
      user: '2001',
      password: EXT.password,
      port: server.sipPort,
      contacts: [contact('probe')],
      algorithm: 'SHA-256',
    });
    expect(challenge.status).toBe(401);
    const offers = challenge.headerAll('www-authenticate').map(parseDigestChallenge);
    expect(offers.map((o) => (o.algorithm ?? 'MD5').toUpperCase())).toEqual(['SHA-256', 'MD5']);
    for (const o of offers) {
      expect(o.realm).toBe('callwatch');
      expect(o.nonce).toBeTruthy();
    }
    expect(challenge.header('to')).toMatch(/;\s*tag=/);
  });

  it.each(['SHA-256', 'MD5'] as const)('accepts %s credentials', async (algorithm) => {
    const { final } = await registerWithAuth(client, {
      user: '2001',
      password: EXT.password,
      port: server.sipPort,
      contacts: [contact(algorithm)],
      expires: 120,
      algorithm,
    });
    expect(final?.status).toBe(200);
    const uris = (final?.headerValues('contact') ?? []).map((c) => /<([^>]+)>/.exec(c)?.[1]);
    expect(uris).toContain(`sip:2001-${algorithm}@127.0.0.1:${client.localPort}`);
  });

  it('refuses a wrong password', async () => {
    const { final } = await registerWithAuth(client, {
      user: '2001',
      password: 'wrong',
      port: server.sipPort,
      contacts: [contact('wrong')],
    });
    expect([401, 403]).toContain(final?.status);
    const reg = (await server.registrations()).find((r) => r.extension === '2001');
    expect(reg?.contacts.map((c) => c.uri)).not.toContain(
      `sip:2001-wrong@127.0.0.1:${client.localPort}`,
    );
  });

  it('answers 423 with Min-Expires to an interval below minExpires', async () => {
    const { final } = await registerWithAuth(client, {
      user: '2001',
      password: EXT.password,
      port: server.sipPort,
      contacts: [contact('brief')],
      expires: 30,
    });
    expect(final?.status).toBe(423);
    expect(final?.header('min-expires')).toBe('60');
  });

  it('shortens an interval above maxExpires and honours ;expires= over the header', async () => {
    const { final } = await registerWithAuth(client, {
      user: '2001',
      password: EXT.password,
      port: server.sipPort,
      contacts: [contact('long'), `${contact('param')};expires=90`],
      expires: 7200,
    });
    expect(final?.status).toBe(200);
    const granted = new Map(
      (final?.headerValues('contact') ?? []).map((c) => [
        /<sip:2001-([^@]+)@/.exec(c)?.[1],
        Number(/;\s*expires=(\d+)/i.exec(c)?.[1]),
      ]),
    );
    expect(granted.get('long')).toBeLessThanOrEqual(3600);
    expect(granted.get('long')).toBeGreaterThan(3500);
    expect(granted.get('param')).toBeLessThanOrEqual(90);
    expect(granted.get('param')).toBeGreaterThan(80);
  });
});
