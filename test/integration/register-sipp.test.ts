/**
 * The registrar driven by SIPp (3.6.1) over real sockets: digest REGISTER, refusals,
 * un-REGISTER, query REGISTER and 200 registrations in parallel. Scenarios are in
 * test/fixtures/sipp/. SIPp can only answer an MD5 challenge offered first, so the
 * server runs with auth.algorithms: [MD5] (PEER_AUTH).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { allocatePort } from '../helpers/ports.js';
import {
  makeExtensions,
  PEER_AUTH,
  startServer,
  type Registration,
  type ServerHandle,
} from '../helpers/server.js';
import { registerWithAuth, SipClient } from '../helpers/sipClient.js';
import { SIP_IO } from '../helpers/sipIo.js';
import { assertSippExit, authRow, runSipp } from '../helpers/sipp.js';

const EXTENSIONS = makeExtensions(1000, 300); // 1000-1299, password pw<number>

let server: ServerHandle;
let sippPort: number;

beforeAll(async () => {
  server = await startServer({ ...PEER_AUTH }, { extensions: EXTENSIONS });
  sippPort = await allocatePort();
});

afterAll(async () => {
  await server?.stop();
});

const remote = (): string => `127.0.0.1:${server.sipPort}`;
const contactOf = (user: string, tag = ''): string => `sip:${user}${tag}@127.0.0.1:${sippPort}`;
const pw = (user: string): string => `pw${user}`;

async function registration(ext: string): Promise<Registration | undefined> {
  return (await server.registrations()).find((r) => r.extension === ext);
}

function expectExpiresIn(expiresAt: string, seconds: number): void {
  const left = (Date.parse(expiresAt) - Date.now()) / 1000;
  expect(left).toBeGreaterThan(seconds - 15);
  expect(left).toBeLessThanOrEqual(seconds + 1);
}

async function register(rows: string[][], transport: 'u1' | 't1' = 'u1'): Promise<void> {
  const r = await runSipp({
    scenario: 'reg_auth.xml',
    remote: remote(),
    localPort: sippPort,
    transport,
    calls: rows.length,
    injection: { rows },
    traceLogs: true,
  });
  assertSippExit(r, 0);
  expect(r.successful).toBe(rows.length);
}

describe('REGISTER with SIPp', () => {
  it('runs SIP over UDP on the socket CALLWATCH_SIP_IO names (sip.io)', () => {
    const listening = server.logs().find((e) => e.msg === 'listening');
    expect(listening?.sipUdpIo).toBe(SIP_IO);
  });

  it('accepts the right password: 401 challenge, then 200 listing the binding', async () => {
    const r = await runSipp({
      scenario: 'reg_auth.xml',
      remote: remote(),
      localPort: sippPort,
      calls: 1,
      injection: { rows: [authRow('1001', pw('1001'), contactOf('1001'), '300')] },
      traceLogs: true,
    });
    assertSippExit(r, 0);
    expect(r.successful).toBe(1);
    expect(r.logs).toContain(`1001 200 contacts:`);
    expect(r.logs).toMatch(new RegExp(`<${contactOf('1001').replace(/\./g, '\\.')}>;expires=\\d+`));

    const reg = await registration('1001');
    expect(reg?.contacts).toHaveLength(1);
    const c = reg?.contacts[0];
    expect(c?.uri).toBe(contactOf('1001'));
    expect(c?.source).toBe(`udp:127.0.0.1:${sippPort}`);
    expectExpiresIn(c?.expiresAt ?? '', 300);
  });

  it('accepts a registration over TCP', async () => {
    const tcpPort = await allocatePort();
    const contact = `sip:1010@127.0.0.1:${tcpPort}`; // (a ; cannot go in a SIPp CSV field)
    const r = await runSipp({
      scenario: 'reg_auth.xml',
      remote: remote(),
      localPort: tcpPort,
      transport: 't1',
      calls: 1,
      injection: { rows: [authRow('1010', pw('1010'), contact, '300')] },
    });
    assertSippExit(r, 0);
    const reg = await registration('1010');
    expect(reg?.contacts.map((c) => c.uri)).toEqual([contact]);
    expect(reg?.contacts[0]?.source).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
  });

  it('refuses a wrong password and an unknown user (401/403/404), binding nothing', async () => {
    const r = await runSipp({
      scenario: 'reg_bad_auth.xml',
      remote: remote(),
      localPort: sippPort,
      calls: 2,
      injection: {
        rows: [
          authRow('1002', 'not-the-password', contactOf('1002')),
          authRow('9999', 'pw9999', contactOf('9999')),
        ],
      },
      traceLogs: true,
    });
    assertSippExit(r, 0);
    expect(r.logs).toMatch(/1002 refused: (401|403)/);
    expect(r.logs).toMatch(/9999 refused: (401|403|404)/);
    expect(await registration('1002')).toBeUndefined();
    expect(await registration('9999')).toBeUndefined();
  });

  it('removes one binding with Expires: 0, then all with Contact: *', async () => {
    const a = contactOf('1003', '-a');
    const b = contactOf('1003', '-b');
    await register([authRow('1003', pw('1003'), a, '300'), authRow('1003', pw('1003'), b, '300')]);
    expect((await registration('1003'))?.contacts.map((c) => c.uri).sort()).toEqual([a, b].sort());

    const one = await runSipp({
      scenario: 'unreg.xml',
      remote: remote(),
      localPort: sippPort,
      calls: 1,
      injection: { rows: [authRow('1003', pw('1003'), `<${a}>`)] },
    });
    assertSippExit(one, 0);
    expect((await registration('1003'))?.contacts.map((c) => c.uri)).toEqual([b]);

    const all = await runSipp({
      scenario: 'unreg.xml',
      remote: remote(),
      localPort: sippPort,
      calls: 1,
      injection: { rows: [authRow('1003', pw('1003'), '*')] },
    });
    assertSippExit(all, 0);
    const left = await registration('1003');
    expect(left === undefined || left.contacts.length === 0).toBe(true);
  });

  it('answers a query REGISTER (no Contact) with the bindings, changing nothing', async () => {
    const a = contactOf('1004', '-a');
    const b = contactOf('1004', '-b');
    await register([authRow('1004', pw('1004'), a, '300'), authRow('1004', pw('1004'), b, '600')]);
    const before = await registration('1004');

    const q = await runSipp({
      scenario: 'reg_query.xml',
      remote: remote(),
      localPort: sippPort,
      calls: 1,
      injection: { rows: [authRow('1004', pw('1004'))] },
      traceLogs: true,
    });
    assertSippExit(q, 0);
    expect(q.logs).toMatch(/1004 bindings: .*sip:1004-[ab]@127\.0\.0\.1:\d+.*expires=\d+/);

    // Every binding, with its remaining time, via a raw client (SIPp sees one header line).
    const client = await SipClient.udp();
    try {
      const { final } = await registerWithAuth(client, {
        user: '1004',
        password: pw('1004'),
        port: server.sipPort,
      });
      expect(final?.status).toBe(200);
      const contacts = final?.headerValues('contact') ?? [];
      const byUri = new Map(
        contacts.map((c) => [/<([^>]+)>/.exec(c)?.[1], Number(/;\s*expires=(\d+)/i.exec(c)?.[1])]),
      );
      expect([...byUri.keys()].sort()).toEqual([a, b].sort());
      expect(byUri.get(a)).toBeGreaterThan(280);
      expect(byUri.get(a)).toBeLessThanOrEqual(300);
      expect(byUri.get(b)).toBeGreaterThan(580);
      expect(byUri.get(b)).toBeLessThanOrEqual(600);
    } finally {
      await client.close();
    }
    const after = await registration('1004');
    expect(after?.contacts.map((c) => c.uri).sort()).toEqual(
      before?.contacts.map((c) => c.uri).sort(),
    );

    const clean = await runSipp({
      scenario: 'unreg.xml',
      remote: remote(),
      localPort: sippPort,
      calls: 1,
      injection: { rows: [authRow('1004', pw('1004'), '*')] },
    });
    assertSippExit(clean, 0);
  });

  it('registers 200 extensions in parallel, and lists all 200', async () => {
    const users = EXTENSIONS.slice(100, 300).map((e) => e.number); // 1100-1299
    const r = await runSipp({
      scenario: 'reg_auth.xml',
      remote: remote(),
      localPort: sippPort,
      calls: 200,
      rate: 200,
      ratePeriodMs: 1000,
      limit: 200,
      injection: { rows: users.map((u) => authRow(u, pw(u), contactOf(u), '300')) },
      timeoutSec: 60,
    });
    assertSippExit(r, 0);
    expect(r.successful).toBe(200);
    expect(r.failed).toBe(0);

    const regs = await server.registrations();
    const listed = new Map(regs.map((g) => [g.extension, g]));
    const missing = users.filter((u) => !listed.has(u));
    expect(missing).toEqual([]);
    for (const u of users) {
      expect(listed.get(u)?.contacts.map((c) => c.uri)).toEqual([contactOf(u)]);
    }
    // Every extension registered so far in this file has exactly one contact, so the
    // gauge equals the listing whether it counts extensions or contacts.
    expect(regs.every((g) => g.contacts.length <= 1)).toBe(true);
    expect(await server.metric('callwatch_registrations_active')).toBe(
      regs.filter((g) => g.contacts.length > 0).length,
    );
  });
});
