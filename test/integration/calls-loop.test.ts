/**
 * Loop detection (RFC 3261 §16.3 step 4 / §8.2.2.2): a call that comes back to the
 * server that sent it is refused with 482. The loop is real: a trunk whose address is
 * the server itself, dialled by an authenticated extension.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { allocatePort, allocateRtpRange } from '../helpers/ports.js';
import { sdpOffer } from '../helpers/sdp.js';
import { PEER_AUTH, startServer, type ServerHandle } from '../helpers/server.js';
import {
  SipClient,
  buildRequest,
  digestAuthorization,
  parseDigestChallenge,
} from '../helpers/sipClient.js';

let server: ServerHandle;
let phone: SipClient;

beforeAll(async () => {
  const sipPort = await allocatePort();
  server = await startServer(
    {
      ...PEER_AUTH,
      sip: { listen: { udpPort: sipPort, tcpPort: sipPort } },
      media: { workers: 1, portRange: await allocateRtpRange() },
      // Numbers starting with 9 go to 127.0.0.1:<the server's own port>.
      trunks: [
        {
          name: 'self',
          host: '127.0.0.1',
          port: sipPort,
          sourcePort: sipPort,
          prefixes: ['9'],
          dids: {},
        },
      ],
    },
    { extensions: [{ number: '1001', password: 'pw1001' }] },
  );
  phone = await SipClient.udp();
}, 30000);

afterAll(async () => {
  await phone?.close();
  await server?.stop();
});

const SDP = sdpOffer();

describe('a call that loops back to the server', () => {
  it('is refused with 482, and no call is left behind', async () => {
    const uri = `sip:95551234@127.0.0.1:${server.sipPort}`;
    const spec = {
      method: 'INVITE',
      target: `127.0.0.1:${server.sipPort}`,
      uri,
      fromUser: '1001',
      toUser: '95551234',
      headers: [
        `Contact: <sip:1001@127.0.0.1:${phone.localPort}>`,
        'Content-Type: application/sdp',
      ],
      body: SDP,
    };
    const first = await phone.request(spec, server.sipPort);
    expect(first.response.status).toBe(407);
    const challenge = parseDigestChallenge(first.response.header('Proxy-Authenticate') ?? '');
    const authorization = digestAuthorization(
      challenge,
      { username: '1001', password: 'pw1001' },
      'INVITE',
      uri,
    );
    const second = buildRequest({
      ...spec,
      transport: 'UDP',
      localPort: phone.localPort,
      callId: first.request.callId,
      fromTag: first.request.fromTag,
      cseq: 2,
      headers: [...spec.headers, `Proxy-Authorization: ${authorization}`],
    });
    phone.send(second.text, server.sipPort);
    const final = await phone.waitForResponse(second.callId, 'INVITE', 10000, 2);
    expect(final.status).toBe(482);
    expect((await server.httpGet('/v1/calls')).json).toEqual({ calls: [] });
  });
});
