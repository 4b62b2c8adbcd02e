/**
 * Browser tickets over a real WebSocket (docs/architecture.md §8.9): `POST
 * /v1/sip-tickets` gives a token's extension a single-use ticket; `/sip?ticket=…` opens a
 * connection bound to that extension, whose REGISTER and INVITE as that extension need no
 * digest, while any other identity on it is still challenged. A reused or unknown ticket
 * refuses the upgrade with 401. (Expiry is the unit test's, with a fake clock.)
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient, summary, type ApiClient } from '../helpers/api.js';
import type { ExtensionSpec } from '../helpers/server.js';
import { plainAudioSdp, WsSipClient } from '../helpers/wsSipClient.js';
import { responseTo } from './calls-rawRig.js';
import { startMonitorRig, type MonitorRig } from './monitoring-rig.js';

const AGENT = 'sip-tickets-agent-1002-token-000';
const EXTENSIONS = [
  { number: '1002', password: 'pw1002' },
  { number: '1003', password: 'pw1003' },
] as unknown as ExtensionSpec[];

let rig: MonitorRig;
let api: ApiClient;

beforeAll(async () => {
  rig = await startMonitorRig(
    { api: { tokens: [{ name: 'alice', token: AGENT, scope: 'agent', extension: '1002' }] } },
    EXTENSIONS,
  );
  api = apiClient(rig.server.httpPort);
}, 30000);

afterAll(async () => {
  await rig?.close();
});

interface Ticket {
  ticket: string;
  expiresAt: string;
  url: string;
}

async function newTicket(): Promise<Ticket> {
  const r = await api.post('/v1/sip-tickets', undefined, AGENT);
  expect(r.status).toBe(201);
  return r.json as Ticket;
}

/** REGISTER for `user` with no credentials: its final response. */
function registerPlain(ws: WsSipClient, user: string) {
  return ws.request({
    method: 'REGISTER',
    uri: 'sip:127.0.0.1',
    fromUser: user,
    headers: [`Contact: ${ws.contact(user)};expires=600`],
  });
}

describe('SIP tickets', () => {
  it('are issued to a token with an extension, short-lived', async () => {
    const before = Date.now();
    const t = await newTicket();
    expect(t.url).toBe(`/sip?ticket=${t.ticket}`);
    const expires = Date.parse(t.expiresAt);
    expect(expires - before).toBeGreaterThan(25_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(30_000);
    // The test admin token acts as no extension.
    expect(summary(await api.post('/v1/sip-tickets'))).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    expect((await api.post('/v1/sip-tickets', undefined, null)).status).toBe(401);
  });

  it('bind a WebSocket to the extension: REGISTER and INVITE as it need no digest', async () => {
    const t = await newTicket();
    const ws = await WsSipClient.connect(rig.server.httpPort, ['sip'], t.url);
    const callee = await rig.extension('1003');
    await callee.register();
    try {
      const reg = await registerPlain(ws, '1002');
      expect(reg.status).toBe(200);
      const listed = (await api.get('/v1/registrations')).json as unknown;
      expect(JSON.stringify(listed)).toContain(ws.host);
      // Another identity on the same connection is challenged as usual.
      expect((await registerPlain(ws, '1003')).status).toBe(401);

      // INVITE as 1002, no Proxy-Authorization: 1003's phone rings.
      const rtp = await rig.phone();
      const after = callee.client.received.length;
      const invite = ws.build({
        method: 'INVITE',
        uri: 'sip:1003@127.0.0.1',
        fromUser: '1002',
        toUser: '1003',
        headers: [`Contact: ${ws.contact('1002')}`, 'Content-Type: application/sdp'],
        body: plainAudioSdp(rtp.port),
      });
      ws.send(invite.text);
      const ringing = await callee.client.nextNewRequest('INVITE', after);
      expect(ringing.header('From')).toContain('sip:1002@');
      callee.client.send(responseTo(ringing, 486), callee.serverPort);
      const final = await ws.waitFor(
        (m) => m.isResponse && m.callId === invite.callId && (m.status ?? 0) >= 200,
      );
      expect(final.status).toBe(486);
      ws.send(ws.ack(final, 'sip:1003@127.0.0.1', 1));

      // An INVITE from another identity on the flow is challenged (407).
      const other = ws.build({
        method: 'INVITE',
        uri: 'sip:1002@127.0.0.1',
        fromUser: '1003',
        toUser: '1002',
        headers: [`Contact: ${ws.contact('1003')}`, 'Content-Type: application/sdp'],
        body: plainAudioSdp(rtp.port),
      });
      ws.send(other.text);
      const challenged = await ws.waitFor(
        (m) => m.isResponse && m.callId === other.callId && (m.status ?? 0) >= 200,
      );
      expect(challenged.status).toBe(407);
      ws.send(ws.ack(challenged, 'sip:1002@127.0.0.1', 1));
    } finally {
      await ws.close();
    }
    // A plain connection (no ticket) is challenged for the same extension.
    const plain = await WsSipClient.connect(rig.server.httpPort);
    try {
      expect((await registerPlain(plain, '1002')).status).toBe(401);
    } finally {
      await plain.close();
    }
  });

  it('refuse the upgrade (401) for a used or unknown ticket', async () => {
    const t = await newTicket();
    const ws = await WsSipClient.connect(rig.server.httpPort, ['sip'], t.url);
    await ws.close();
    expect(await WsSipClient.refusal(rig.server.httpPort, ['sip'], t.url)).toBe(401);
    expect(
      await WsSipClient.refusal(rig.server.httpPort, ['sip'], '/sip?ticket=not-a-ticket'),
    ).toBe(401);
    expect(await WsSipClient.refusal(rig.server.httpPort, ['sip'], '/sip?ticket=')).toBe(401);
  });
});
