/**
 * Media capacity: when the RTP port range is used up, a new call is refused with 503
 * and Retry-After (RFC 3261 §21.5.4), not a 500, and the calls in progress are untouched.
 * The range here holds exactly one call (two legs, two ports each). The same when
 * another process holds the range's ports (every bind attempt finds them in use).
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { allocatePort, allocatePortBlock } from '../helpers/ports.js';
import { sdpOffer } from '../helpers/sdp.js';
import { PEER_AUTH, startServer, type ServerHandle } from '../helpers/server.js';
import { SipClient, buildRequest, registerWithAuth } from '../helpers/sipClient.js';

let server: ServerHandle;
let trunkPort: number;
let trunk: SipClient;
let phone: SipClient;

/** The first even port of a fresh block: a range of two port pairs starts there. */
async function evenBlock(): Promise<number> {
  const base = await allocatePortBlock(6);
  return base % 2 === 0 ? base : base + 1;
}

/** A server whose media range is the two pairs from `min`: room for exactly one call. */
function serverWithRange(min: number): Promise<ServerHandle> {
  return startServer(
    {
      ...PEER_AUTH,
      media: { workers: 1, portRange: { min, max: min + 3 } },
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
}

beforeAll(async () => {
  trunkPort = await allocatePort();
  server = await serverWithRange(await evenBlock());
  trunk = await SipClient.udp(trunkPort);
  phone = await SipClient.udp();
}, 30000);

afterAll(async () => {
  await trunk?.close();
  await phone?.close();
  await server?.stop();
});

const SDP = sdpOffer();

/** Extension 1001 registered on `to` from the phone. */
async function registerPhone(to: ServerHandle): Promise<void> {
  const reg = await registerWithAuth(phone, {
    user: '1001',
    password: 'pw1001',
    port: to.sipPort,
    contacts: [`<sip:1001@127.0.0.1:${phone.localPort}>`],
    expires: 300,
  });
  expect(reg.final?.status).toBe(200);
}

function invite(to: ServerHandle = server) {
  return buildRequest({
    method: 'INVITE',
    target: `127.0.0.1:${to.sipPort}`,
    uri: `sip:5550101@127.0.0.1:${to.sipPort}`,
    transport: 'UDP',
    localPort: trunkPort,
    fromUser: 'customer',
    toUser: '5550101',
    headers: [`Contact: <sip:customer@127.0.0.1:${trunkPort}>`, 'Content-Type: application/sdp'],
    body: SDP,
  });
}

describe('when the media ports run out', () => {
  it('refuses a new call with 503 and Retry-After while the first one rings on', async () => {
    await registerPhone(server);

    // The first call takes both port pairs and rings the phone, which never answers.
    const first = invite();
    trunk.send(first.text, server.sipPort);
    await phone.waitFor((m) => m.method === 'INVITE');

    const second = invite();
    trunk.send(second.text, server.sipPort);
    const refused = await trunk.waitForResponse(second.callId, 'INVITE');
    expect(refused.status).toBe(503);
    expect(refused.header('Retry-After')).toBe('5');

    const calls = (await server.httpGet('/v1/calls')).json as { calls: Array<{ id: string }> };
    expect(calls.calls).toHaveLength(1);
  });
});

describe('when other processes hold the media ports', () => {
  it('refuses a new call with 503 and Retry-After, not 500', async () => {
    // Another server whose whole range another process holds: the engine's pairs are
    // free, every bind finds them in use.
    const from = await evenBlock();
    const blockers: Socket[] = [];
    for (let port = from; port <= from + 3; port++) {
      const s = createSocket('udp4');
      await new Promise<void>((resolve) => s.bind(port, '127.0.0.1', resolve));
      blockers.push(s);
    }
    const crowded = await serverWithRange(from);
    try {
      await registerPhone(crowded);
      const call = invite(crowded);
      trunk.send(call.text, crowded.sipPort);
      const refused = await trunk.waitForResponse(call.callId, 'INVITE');
      expect(refused.status).toBe(503);
      expect(refused.header('Retry-After')).toBe('5');
    } finally {
      await crowded.stop();
      await Promise.all(blockers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    }
  }, 30000);
});
