/**
 * Codecs beyond G.711 through the real server, raw SIP on both sides (calls-rawRig.ts)
 * and raw RTP phones: a G.722 offer (static payload type 9, RFC 3551 §4.5.2) answered
 * G.722 by the callee is G.722 on both legs, and its packets are relayed unchanged both
 * ways; an offer of codecs we lack is refused with 488 and `Warning: 305`
 * (RFC 3261 §20.43, §21.4.26) without ringing anyone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakePhone, waitFor } from './media/fakePhone.js';
import { audioFormats, audioPort, responseTo, startRig, type Rig } from './calls-rawRig.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
}, 30000);

afterAll(async () => {
  await rig?.close();
});

/** An SDP body from 127.0.0.1: audio at `port`, `m` the formats, `attrs` the a= lines. */
function body(port: number, formats: string, attrs: string[]): string {
  return [
    'v=0',
    `o=- ${port} 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP ${formats}`,
    ...attrs,
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** A G.722-first desk phone (Polycom-style): G.722, then G.711, telephone-event/8000. */
function hdPhoneOffer(port: number): string {
  return body(port, '9 0 8 127', [
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:127 telephone-event/8000',
    'a=fmtp:127 0-15',
  ]);
}

/** 20 ms G.722 payloads (160 bytes); any bytes will do: the relay must not touch them. */
function frames(seed: number): Buffer[] {
  return Array.from({ length: 25 }, (_, i) =>
    Buffer.from(Array.from({ length: 160 }, (_, j) => (seed + i * 31 + j * 7) & 0xff)),
  );
}

async function stream(from: FakePhone, port: number, payloads: Buffer[], pt = 9): Promise<void> {
  for (const [i, p] of payloads.entries()) {
    from.sendRtp(port, pt, p, i === 0);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The server answers the caller while the media engine is still applying the negotiated
 * codecs and routes (a few ms, longer on a loaded machine): packets sent in that window
 * are not relayed yet. Sends one packet at a time until the far side gets one, so what
 * the test then checks starts on an established path.
 */
async function prime(from: FakePhone, port: number, to: FakePhone, pt = 9): Promise<void> {
  const payload = Buffer.alloc(160, 0x55);
  const until = performance.now() + 5000;
  while (to.rtp.length === 0) {
    if (performance.now() > until) throw new Error('timed out priming the media path');
    from.sendRtp(port, pt, payload);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 50)); // a late priming packet lands before the check
  to.rtp.length = 0;
}

describe('G.722 end to end', () => {
  it('a G.722 offer answered G.722 is G.722 on both legs, relayed unchanged both ways', async () => {
    const [phoneA, phoneB] = [await rig.phone(), await rig.phone()];
    const call = await rig.placeCall({
      offer: hdPhoneOffer(phoneA.port),
      answer: () =>
        body(phoneB.port, '9 101', [
          'a=rtpmap:9 G722/8000',
          'a=rtpmap:101 telephone-event/8000',
          'a=fmtp:101 0-16',
        ]),
    });
    // Our offer to the callee keeps the caller's order, G.722 first, with the G.711
    // fallback and Opus; our answer to the caller is G.722 with the caller's telephone-event.
    expect(audioFormats(call.sdpToB).slice(0, 3)).toEqual([9, 0, 8]);
    expect(call.sdpToB).toMatch(/a=rtpmap:9 G722\/8000/);
    // telephone-event at each codec clock rate (RFC 4733 §2.1), the caller's number kept.
    expect(call.sdpToB).toMatch(/a=rtpmap:127 telephone-event\/8000/);
    expect(call.sdpToB).toMatch(/a=rtpmap:111 opus\/48000\/2/);
    expect(call.sdpToB).toMatch(/a=rtpmap:110 telephone-event\/48000/);
    expect(audioFormats(call.sdpToA)).toEqual([9, 127]);
    expect(call.sdpToA).toMatch(/a=rtpmap:9 G722\/8000/);
    expect(call.sdpToA).toMatch(/a=rtpmap:127 telephone-event\/8000/);

    const [toB, toA] = [frames(1), frames(99)];
    await prime(phoneA, audioPort(call.sdpToA), phoneB);
    await prime(phoneB, audioPort(call.sdpToB), phoneA);
    await stream(phoneA, audioPort(call.sdpToA), toB);
    await stream(phoneB, audioPort(call.sdpToB), toA);
    await waitFor(
      () => phoneB.rtp.length === toB.length && phoneA.rtp.length === toA.length,
      'every G.722 packet at the far side',
      5000,
    );
    for (const [heard, sent] of [
      [phoneB.rtp, toB],
      [phoneA.rtp, toA],
    ] as const) {
      expect(heard.map((p) => p.pt)).toEqual(sent.map(() => 9));
      expect(heard.map((p) => p.payload)).toEqual(sent);
      expect(new Set(heard.slice(1).map((p, i) => (p.seq - heard[i]!.seq) & 0xffff))).toEqual(
        new Set([1]),
      );
    }

    // A re-INVITE moves the call to PCMU (RFC 3264 §8): both legs' codecs follow.
    const relayed = rig.calleeGets(call, 'INVITE');
    const pcmuA = body(phoneA.port, '0 127', [
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:127 telephone-event/8000',
    ]).replace(/^o=- (\d+) 1 /m, 'o=- $1 2 ');
    const cseq = call.a.send('INVITE', { body: pcmuA });
    const inv = await relayed;
    expect(audioFormats(inv.body)[0]).toBe(0);
    rig.callee.send(
      responseTo(inv, 200, {
        body: body(phoneB.port, '0 101', ['a=rtpmap:0 PCMU/8000']).replace(
          /^o=- (\d+) 1 /m,
          'o=- $1 2 ',
        ),
        contactPort: rig.callee.localPort,
      }),
      rig.server.sipPort,
    );
    const ok = await rig.trunk.waitForResponse(call.a.callId, 'INVITE', 5000, cseq);
    expect(ok.status).toBe(200);
    expect(audioFormats(ok.body)).toEqual([0, 127]);
    call.a.send('ACK', { cseq });
    const before = phoneB.rtp.length;
    const pcmu = frames(7);
    await stream(phoneA, audioPort(call.sdpToA), pcmu, 0);
    await waitFor(() => phoneB.rtp.length === before + pcmu.length, 'the PCMU packets at B', 5000);
    const after = phoneB.rtp.slice(before);
    expect(after.map((p) => p.pt)).toEqual(pcmu.map(() => 0));
    expect(after.map((p) => p.payload)).toEqual(pcmu);
    await rig.hangUp(call);
  });
});

describe('an offer of codecs we lack', () => {
  it('is refused with 488 and Warning: 305 "Incompatible media format"', async () => {
    const offer = body(40000, '18 4', ['a=rtpmap:18 G729/8000', 'a=rtpmap:4 G723/8000']);
    const seen = rig.callee.received.length;
    const { response } = await rig.trunk.request(
      {
        method: 'INVITE',
        target: `127.0.0.1:${rig.server.sipPort}`,
        uri: `sip:5550102@127.0.0.1:${rig.server.sipPort}`,
        fromUser: 'customer',
        toUser: '5550102',
        headers: [
          `Contact: <sip:customer@127.0.0.1:${rig.trunk.localPort}>`,
          'Content-Type: application/sdp',
        ],
        body: offer,
      },
      rig.server.sipPort,
    );
    expect(response.status).toBe(488);
    expect(response.header('Warning')).toBe('305 127.0.0.1 "Incompatible media format"');
    // Nobody was rung.
    expect(
      rig.callee.received
        .slice(seen)
        .some((r) => !r.message.isResponse && r.message.method === 'INVITE'),
    ).toBe(false);
  });
});
