/**
 * An offer whose every codec the server lacks is refused before any call exists: 488 Not
 * Acceptable Here (RFC 3261 §21.4.26) with a Warning header (RFC 3261 §20.43) saying why,
 * so the far end's logs name the cause. Offers tried: GSM only, AMR only, and G.722 only
 * to a server whose `media.codecs` lists G.711 alone (G.722 is known but not enabled).
 * The client is a raw UDP socket from the trunk's source port (no credentials needed).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hdCodecConfig } from '../helpers/baresipHd.js';
import { allocatePort, allocateRtpRange } from '../helpers/ports.js';
import { sdpOffer } from '../helpers/sdp.js';
import { PEER_AUTH, mergeConfig, startServer, type ServerHandle } from '../helpers/server.js';
import { SipClient } from '../helpers/sipClient.js';

let server: ServerHandle;
let trunkPort: number;
let trunk: SipClient;

beforeAll(async () => {
  trunkPort = await allocatePort();
  server = await startServer(
    mergeConfig(hdCodecConfig(['PCMU', 'PCMA']), {
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
    }),
    { extensions: [{ number: '1001', password: 'pw1001' }] },
  );
  trunk = await SipClient.udp(trunkPort);
}, 30000);

afterAll(async () => {
  await trunk?.close();
  await server?.stop();
});

async function invite(body: string) {
  const { response } = await trunk.request(
    {
      method: 'INVITE',
      target: `127.0.0.1:${server.sipPort}`,
      uri: `sip:5550101@127.0.0.1:${server.sipPort}`,
      fromUser: 'customer',
      toUser: '5550101',
      headers: [`Contact: <sip:customer@127.0.0.1:${trunkPort}>`, 'Content-Type: application/sdp'],
      body,
    },
    server.sipPort,
  );
  return response;
}

const OFFERS: Array<[string, string]> = [
  ['GSM only (static PT 3)', sdpOffer('m=audio 40000 RTP/AVP 3', ['a=rtpmap:3 GSM/8000'])],
  [
    'AMR only (dynamic PT 96) with telephone-event',
    sdpOffer('m=audio 40000 RTP/AVP 96 101', [
      'a=rtpmap:96 AMR/8000',
      'a=fmtp:96 octet-align=1',
      'a=rtpmap:101 telephone-event/8000',
    ]),
  ],
  [
    'G.722 only, to a server configured for G.711 alone',
    sdpOffer('m=audio 40000 RTP/AVP 9', ['a=rtpmap:9 G722/8000']),
  ],
];

describe('offers with no codec the server has', () => {
  for (const [label, body] of OFFERS) {
    it(`${label}: 488 with a Warning`, async () => {
      const r = await invite(body);
      expect(r.status).toBe(488);
      // warn-code SP warn-agent SP "warn-text" (RFC 3261 §20.43); 3xx codes are SDP's.
      expect(r.header('Warning')).toMatch(/^3\d\d \S+ ".+"$/);
      const calls = await server.httpGet('/v1/calls');
      expect((calls.json as { calls: unknown[] }).calls).toEqual([]);
    });
  }
});
