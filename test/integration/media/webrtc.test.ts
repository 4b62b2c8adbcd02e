/**
 * WebRTC legs (docs/architecture.md §3.2.2) against a real WebRTC peer: werift's
 * RTCPeerConnection plays the browser on 127.0.0.1 (full ICE, controlling; DTLS client;
 * SRTP), our leg answers it ICE-lite / DTLS server, and a plain RTP phone is the other
 * party. Audio is checked by tone detection on what each side actually received and
 * decrypted/decoded. Bad input (garbage, a stranger's ICE check, SRTP with a bad tag, a
 * DTLS peer with the wrong certificate) is dropped and counted, and ends only its own leg.
 * Real sockets and the compiled worker (`npm run build`).
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Leg } from '../../../media/engine/leg.js';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import { newIceCredentials } from '../../../media/engine/index.js';
import type { SecureEvent } from '../../../media/engine/leg.js';
import { buildSdp, parseSdp, type LegMedia } from '../../../sip/sdp/index.js';
import { answerOffer } from '../../../sip/sdp/localAnswer.js';
import { applyLegMedia } from '../../../src/calls/callMedia.js';
import { roomRoutes } from '../../../src/monitoring/routeMatrix.js';
import { describeTone, analyzeTone, hasTone, lacksTone } from '../../helpers/goertzel.js';
import { WebRtcPeer } from '../../helpers/webrtcPeer.js';
import type { PeerCodec } from '../../helpers/webrtcPeer.js';
import { startEngine } from './engineFixture.js';
import { FakePhone, sleep, Tone, waitFor } from './fakePhone.js';
import { decode } from './streamChecks.js';

const BROWSER_HZ = 1000;
const PHONE_HZ = 440;

let engine: MediaEngine | undefined;
const phones: FakePhone[] = [];
const peers: WebRtcPeer[] = [];
const stops: Array<() => void> = [];

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await engine?.close();
  engine = undefined;
  await Promise.all(phones.splice(0).map((p) => p.close()));
});

interface BrowserCall {
  peer: WebRtcPeer;
  phone: FakePhone;
  legW: Leg;
  legP: Leg;
  media: LegMedia;
  secure: SecureEvent[];
}

/**
 * A call between a browser (werift peer, offering `codecs`) and a plain PCMU phone: our
 * leg answers the browser's offer with answerOffer (ICE-lite, passive), the legs relay
 * each other.
 */
async function browserCall(codecs: PeerCodec[], group = 'call-1'): Promise<BrowserCall> {
  engine ??= (await startEngine({ statsIntervalMs: 0 }, 8)).engine;
  const phone = await FakePhone.open();
  phones.push(phone);
  const peer = await WebRtcPeer.create(codecs);
  peers.push(peer);
  const legW = await engine.createLeg({
    codecs: [
      { name: 'opus', payloadType: 111 },
      { name: 'PCMU', payloadType: 0 },
    ],
    group,
  });
  const legP = await engine.createLeg({
    codecs: [{ name: 'PCMU', payloadType: 0 }],
    remote: { address: '127.0.0.1', port: phone.port },
    group,
  });
  const secure: SecureEvent[] = [];
  legW.on('secure', (e) => secure.push(e));
  const identity = await engine.dtlsIdentity();
  const ice = newIceCredentials();
  const offer = parseSdp(await peer.offer());
  if (!offer.ok) throw new Error(offer.reason);
  const answer = answerOffer(
    offer.session,
    {
      address: '127.0.0.1',
      port: legW.localPort,
      webrtc: {
        ice,
        fingerprint: identity.fingerprint,
        candidates: [{ address: '127.0.0.1', port: legW.localPort }],
        ssrc: legW.ssrc,
      },
    },
    { supported: ['opus', 'PCMU', 'PCMA'], ptime: 20 },
  );
  if (!answer.ok) throw new Error(answer.reason);
  await legW.secure(ice, null, null);
  await applyLegMedia(legW, answer.leg, { ice, identity });
  await peer.accept(
    buildSdp({ ...answer.description, origin: { username: '-', sessionId: 1, sessionVersion: 1 } }),
  );
  // As a call does (src/calls/callMedia.ts): a room, so Opus ↔ PCMU is transcoded.
  const room = await engine.createRoom({ group });
  await room.setRoutes(
    roomRoutes([
      { id: legW, role: 'customer' },
      { id: legP, role: 'agent' },
    ]),
  );
  return { peer, phone, legW, legP, media: answer.leg, secure };
}

/** The phone talks PCMU (440 Hz) to its leg for `packets` frames. */
function phoneTalks(c: BrowserCall, packets: number): Promise<void> {
  return c.phone.stream(c.legP.localPort, { pt: 0, tone: new Tone('PCMU', PHONE_HZ), packets });
}

describe('WebRTC leg against a werift peer', () => {
  it.each([
    ['opus', ['opus', 'PCMU'] as PeerCodec[]],
    ['PCMU', ['PCMU'] as PeerCodec[]],
  ])(
    'carries a %s browser ↔ PCMU phone call both ways through ICE-lite, DTLS and SRTP',
    async (_name, codecs) => {
      const c = await browserCall(codecs);
      expect(c.media.codec.name).toBe(codecs[0] === 'opus' ? 'opus' : 'PCMU');
      await waitFor(() => c.secure.some((e) => e.state === 'connected'), 'DTLS connected', 8000);
      await waitFor(() => c.peer.connected, 'the browser connected', 8000);
      c.peer.startTone(BROWSER_HZ);
      stops.push(() => c.peer.stopTone());
      await phoneTalks(c, 100);
      await sleep(200);
      c.peer.stopTone();

      // The browser heard the phone's 440 Hz (through SRTP, transcoded to Opus for Opus).
      const heard = { samples: Int16Array.from(c.peer.heard), sampleRate: c.peer.heardRate };
      expect(c.peer.packetsIn).toBeGreaterThan(50);
      expect({
        tone: hasTone(heard, PHONE_HZ),
        report: describeTone(analyzeTone(heard, PHONE_HZ)),
      }).toMatchObject({ tone: true });
      expect(lacksTone(heard, BROWSER_HZ)).toBe(true);
      // The phone heard the browser's 1000 Hz, decrypted (and decoded from Opus) by us.
      const fromBrowser = decode(c.phone.rtp, 'PCMU');
      expect(hasTone(fromBrowser, BROWSER_HZ)).toBe(true);
      expect(lacksTone(fromBrowser, PHONE_HZ)).toBe(true);
      expect(c.secure.filter((e) => e.state === 'failed')).toEqual([]);
    },
  );
});
