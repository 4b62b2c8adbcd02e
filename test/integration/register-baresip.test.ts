/**
 * A real softphone (baresip 1.0.0) registers with digest auth, is listed with its Contact
 * exactly as it sent it, and is unlisted after it quits (it un-registers with
 * `;expires=0` on quit). baresip fails on any non-MD5 challenge, hence PEER_AUTH.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.js';
import { PEER_AUTH, startServer, type ServerHandle } from '../helpers/server.js';

const EXTENSIONS = [
  { number: '1001', password: 'secret1001', displayName: 'Alice', role: 'agent' as const },
  { number: '1002', password: 'secret1002', displayName: 'Bob', role: 'agent' as const },
];

let server: ServerHandle;
const phones: BaresipPhone[] = [];

beforeAll(async () => {
  server = await startServer({ ...PEER_AUTH }, { extensions: EXTENSIONS });
});

afterAll(async () => {
  await Promise.all(phones.map((p) => p.kill()));
  await server?.stop();
});

/** The URI inside <…> of a Contact header value. */
function contactUri(value: string): string {
  return /<([^>]+)>/.exec(value)?.[1] ?? value.split(';')[0]!.trim();
}

describe('baresip registration', () => {
  it('registers with digest auth and is listed with its Contact as sent; quitting unregisters', async () => {
    const phone = await startBaresip({
      user: '1001',
      password: 'secret1001',
      serverPort: server.sipPort,
    });
    phones.push(phone);
    await phone.waitForRegistration(10000);

    const sent = phone.sentRequests('REGISTER');
    const authed = sent.filter((m) => m.header('authorization') !== undefined);
    expect(authed.length).toBeGreaterThan(0);
    const contactHeader = authed[authed.length - 1]!.header('contact') ?? '';
    const uri = contactUri(contactHeader);
    expect(uri).toMatch(/^sip:1001-0x[0-9a-f]+@127\.0\.0\.1:\d+$/);
    expect(contactHeader).toMatch(/;expires=60\b/);

    const reg = (await server.registrations()).find((r) => r.extension === '1001');
    expect(reg).toBeDefined();
    expect(reg?.contacts).toHaveLength(1);
    const c = reg!.contacts[0]!;
    expect(c.uri).toBe(uri);
    expect(c.source).toBe(`udp:${phone.address}`);
    const left = (Date.parse(c.expiresAt) - Date.now()) / 1000;
    expect(left).toBeGreaterThan(40);
    expect(left).toBeLessThanOrEqual(61);

    expect(await phone.quit()).toBe(0);
    const unreg = phone
      .sentRequests('REGISTER')
      .filter((m) => /;expires=0\b/.test(m.header('contact') ?? ''));
    expect(unreg.length).toBeGreaterThan(0);
    const after = (await server.registrations()).find((r) => r.extension === '1001');
    expect(after === undefined || after.contacts.length === 0).toBe(true);
  });

  it('fails to register with a wrong password and is not listed', async () => {
    const phone = await startBaresip({
      user: '1002',
      password: 'wrong',
      serverPort: server.sipPort,
    });
    phones.push(phone);
    const fail = await phone.waitForEvent('REGISTER_FAIL', 10000);
    expect(fail.accountaor).toContain('sip:1002@');
    expect(phone.ctrl.events.some((e) => e.type === 'REGISTER_OK')).toBe(false);
    const reg = (await server.registrations()).find((r) => r.extension === '1002');
    expect(reg === undefined || reg.contacts.length === 0).toBe(true);
    await phone.kill();
  });
});
