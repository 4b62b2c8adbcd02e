/**
 * INVITEs the B2BUA must refuse before any call exists: unusable SDP (RFC 3261
 * §21.4.26: 488), and callers that are neither a trunk nor authenticated (407 with a
 * Proxy-Authenticate challenge, RFC 3261 §22.3). The client is a raw UDP socket; as the
 * trunk (its source port is the trunk's) it needs no credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { allocatePort, allocateRtpRange } from '../helpers/ports.js';
import { sdpOffer } from '../helpers/sdp.js';
import { PEER_AUTH, startServer, type ServerHandle } from '../helpers/server.js';
import { SipClient, buildRequest } from '../helpers/sipClient.js';

let server: ServerHandle;
let trunkPort: number;
const clients: SipClient[] = [];

beforeAll(async () => {
  trunkPort = await allocatePort();
  server = await startServer(
    {
      ...PEER_AUTH,
      media: { workers: 1, portRange: await allocateRtpRange() },
      trunks: [
        {
          name: 'carrier',
          host: '127.0.0.1',
          port: trunkPort,
          sourcePort: trunkPort,
          dids: { '5550101': '1001' },
        },
      ],
    },
    { extensions: [{ number: '1001', password: 'pw1001' }] },
  );
}, 30000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
});

async function invite(client: SipClient, body: string, toUser = '5550101') {
  const { response } = await client.request(
    {
      method: 'INVITE',
      target: `127.0.0.1:${server.sipPort}`,
      uri: `sip:${toUser}@127.0.0.1:${server.sipPort}`,
      fromUser: 'customer',
      toUser,
      headers: [`Contact: <sip:customer@127.0.0.1:${trunkPort}>`, 'Content-Type: application/sdp'],
      body,
    },
    server.sipPort,
  );
  return response;
}

describe('INVITEs refused before a call exists', () => {
  let trunk: SipClient;
  beforeAll(async () => {
    trunk = await SipClient.udp(trunkPort);
    clients.push(trunk);
  });

  it('answers 488 to malformed SDP', async () => {
    const r = await invite(trunk, 'v=0\r\nthis is not SDP\r\n');
    expect(r.status).toBe(488);
  });

  it('answers 488 when no offered codec is supported (only G.729, PT 18)', async () => {
    const r = await invite(trunk, sdpOffer('m=audio 40000 RTP/AVP 18', ['a=rtpmap:18 G729/8000']));
    expect(r.status).toBe(488);
  });

  it('does not refuse an INVITE without SDP (a late offer): it is routed (480, 1001 is away)', async () => {
    const r = await invite(trunk, '');
    expect(r.status).toBe(480);
  });

  it('challenges an unauthenticated caller that is not a trunk with 407', async () => {
    const phone = await SipClient.udp();
    clients.push(phone);
    const r = await invite(phone, sdpOffer('m=audio 40000 RTP/AVP 0'), '1001');
    expect(r.status).toBe(407);
    expect(r.header('Proxy-Authenticate')).toMatch(/^Digest /);
  });

  it('answers 483 to an INVITE whose Max-Forwards ran out (it would be relayed)', async () => {
    const req = buildRequest({
      method: 'INVITE',
      target: `127.0.0.1:${server.sipPort}`,
      uri: `sip:5550101@127.0.0.1:${server.sipPort}`,
      transport: 'UDP',
      localPort: trunkPort,
      fromUser: 'customer',
      toUser: '5550101',
      headers: [`Contact: <sip:customer@127.0.0.1:${trunkPort}>`, 'Content-Type: application/sdp'],
      body: sdpOffer('m=audio 40000 RTP/AVP 0'),
    });
    trunk.send(req.text.replace('Max-Forwards: 70', 'Max-Forwards: 0'), server.sipPort);
    expect((await trunk.waitForResponse(req.callId, 'INVITE')).status).toBe(483);
  });

  it('leaves no call behind', async () => {
    const r = await server.httpGet('/v1/calls');
    expect(r.json).toEqual({ calls: [] });
  });
});
