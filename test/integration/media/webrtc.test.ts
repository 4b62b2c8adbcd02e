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
  /** Our ICE credentials on the browser's leg. */
  ice: { ufrag: string; pwd: string };
}

/**
 * A call between a browser (werift peer, offering `codecs`) and a plain PCMU phone: our
 * leg answers the browser's offer with answerOffer (ICE-lite, passive), the legs relay
 * each other.
 */
async function browserCall(
  codecs: PeerCodec[],
  group = 'call-1',
  forgeFingerprint = false,
  peerAccepts = true,
): Promise<BrowserCall> {
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
  if (forgeFingerprint) {
    // The peer's certificate will not match what "its SDP" said: DTLS must fail.
    const fp = answer.leg.webrtc!.remote.fingerprints[0]!;
    fp.value = fp.value.replace(/^[0-9A-F]/i, (d) => (d === '0' ? '1' : '0'));
  }
  await applyLegMedia(legW, answer.leg, { ice, identity });
  if (peerAccepts) {
    await peer.accept(
      buildSdp({
        ...answer.description,
        origin: { username: '-', sessionId: 1, sessionVersion: 1 },
      }),
    );
  }
  // As a call does (src/calls/callMedia.ts): a room, so Opus ↔ PCMU is transcoded.
  const room = await engine.createRoom({ group });
  await room.setRoutes(
    roomRoutes([
      { id: legW, role: 'customer' },
      { id: legP, role: 'agent' },
    ]),
  );
  return { peer, phone, legW, legP, media: answer.leg, secure, ice };
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

async function legStats(leg: Leg) {
  const stats = (await engine!.getStats()).flatMap((r) => r.legs).find((l) => l.legId === leg.id);
  return stats!;
}

async function secureLive() {
  return (await engine!.getStats())[0]!.worker.secureLive!;
}

/** Audio both ways for `packets` frames; what each side heard. */
async function talk(c: BrowserCall, packets: number) {
  const before = { peer: c.peer.heard.length, phone: c.phone.rtp.length };
  c.peer.startTone(BROWSER_HZ);
  await phoneTalks(c, packets);
  await sleep(200);
  c.peer.stopTone();
  return {
    browser: Int16Array.from(c.peer.heard.slice(before.peer)),
    phone: decode(c.phone.rtp.slice(before.phone), 'PCMU'),
  };
}

describe('WebRTC leg: bad input and clean-up', () => {
  it('drops garbage, a stranger’s ICE check and DTLS/SRTP, and SRTP with a bad tag; the call goes on', async () => {
    const c = await browserCall(['PCMU']);
    await waitFor(() => c.secure.some((e) => e.state === 'connected'), 'DTLS connected', 8000);
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', r));
    stops.push(() => stranger.close());
    const to = (buf: Buffer) => stranger.send(buf, c.legW.localPort, '127.0.0.1');
    // Garbage (RFC 7983: neither STUN, DTLS nor RTP), a DTLS record and SRTP from a stranger.
    to(Buffer.from('hello, this is not media at all'));
    to(Buffer.concat([Buffer.from([22, 0xfe, 0xfd]), Buffer.alloc(40, 7)]));
    to(Buffer.concat([Buffer.from([0x80, 0]), Buffer.alloc(60, 9)]));
    // Binding requests: our ufrag with the wrong password (integrity fails), and a
    // stranger's ufrag; neither is answered nor latches.
    const w = await import('werift');
    for (const [username, pwd] of [
      [`${c.ice.ufrag}:stranger`, 'not-the-password-at-all'],
      ['someone:stranger', c.ice.pwd],
    ] as const) {
      const check = new w.Message(w.methods.BINDING, w.classes.REQUEST)
        .setAttribute('USERNAME', username)
        .addMessageIntegrity(Buffer.from(pwd))
        .addFingerprint();
      to(check.bytes);
    }
    const answered: Buffer[] = [];
    stranger.on('message', (m) => answered.push(m));
    // SRTP from the peer itself with a tag that does not authenticate.
    const forged = Buffer.concat([
      Buffer.from([0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]),
      Buffer.alloc(170, 0x55),
    ]);
    for (let i = 0; i < 5; i++) c.peer.sendRaw(forged);
    await sleep(300);
    const s = (await legStats(c.legW)).secure!;
    expect(s.state).toBe('connected');
    expect(s.garbage).toBeGreaterThanOrEqual(1);
    expect(s.notFromPeer).toBeGreaterThanOrEqual(2);
    expect(s.stunRefused).toBe(2);
    expect(answered).toEqual([]);
    expect(s.srtpAuthFailed).toBeGreaterThanOrEqual(5);
    // The call still carries audio both ways.
    const heard = await talk(c, 75);
    expect(hasTone(heard.browser, PHONE_HZ)).toBe(true);
    expect(hasTone(heard.phone, BROWSER_HZ)).toBe(true);
    expect(c.secure.filter((e) => e.state === 'failed')).toEqual([]);
  });

  it('a DTLS peer whose certificate does not match its fingerprint fails only its own leg', async () => {
    const good = await browserCall(['PCMU'], 'call-good');
    await waitFor(() => good.secure.some((e) => e.state === 'connected'), 'DTLS connected', 8000);
    const bad = await browserCall(['PCMU'], 'call-bad', true);
    await waitFor(() => bad.secure.some((e) => e.state === 'failed'), 'DTLS failed', 8000);
    expect(bad.secure[0]!.reason).toMatch(/fingerprint/);
    expect((await legStats(bad.legW)).secure!.state).toBe('failed');
    // Nothing reaches the phone of the failed call; the good call carries audio both ways.
    bad.peer.startTone(BROWSER_HZ);
    stops.push(() => bad.peer.stopTone());
    const heard = await talk(good, 75);
    bad.peer.stopTone();
    expect(hasTone(heard.browser, PHONE_HZ)).toBe(true);
    expect(hasTone(heard.phone, BROWSER_HZ)).toBe(true);
    expect(bad.phone.rtp.length).toBe(0);
    expect(good.secure.filter((e) => e.state === 'failed')).toEqual([]);
  });

  it('a forged plaintext DTLS alert from the peer’s address does not end the leg', async () => {
    const c = await browserCall(['PCMU']);
    await waitFor(() => c.secure.some((e) => e.state === 'connected'), 'DTLS connected', 8000);
    // A fatal handshake_failure alert in an epoch-0 (unprotected) record: after the
    // handshake every record of the real peer is protected (RFC 6347 §4.1), so anyone who
    // can send from its address could otherwise tear the session down.
    const alert = Buffer.from([21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 2, 2, 40]);
    const dtlsBefore = (await legStats(c.legW)).secure!.dtlsIn;
    for (let i = 0; i < 3; i++) c.peer.sendRaw(alert);
    await sleep(300);
    const after = (await legStats(c.legW)).secure!;
    expect(after.dtlsIn - dtlsBefore).toBe(3); // it reached the DTLS socket
    expect(after.state).toBe('connected');
    const heard = await talk(c, 60);
    expect(hasTone(heard.browser, PHONE_HZ)).toBe(true);
    expect(hasTone(heard.phone, BROWSER_HZ)).toBe(true);
    expect(c.secure.filter((e) => e.state === 'failed')).toEqual([]);
  });

  it('a browser that never connects is ended by the media timeout', async () => {
    engine = (await startEngine({ statsIntervalMs: 0, rtpTimeoutMs: 1500 }, 8)).engine;
    const c = await browserCall(['PCMU'], 'call-silent', false, false);
    const timedOut: string[] = [];
    c.legW.on('rtpTimeout', (e) => timedOut.push(e.reason));
    await waitFor(() => timedOut.length > 0, 'rtpTimeout on the WebRTC leg', 6000);
    expect(timedOut).toEqual(['no-media']);
    expect((await legStats(c.legW)).secure!.state).toBe('connecting');
  });

  it('closing WebRTC legs releases every werift object and the ports', async () => {
    const c1 = await browserCall(['opus'], 'call-1');
    const c2 = await browserCall(['PCMU'], 'call-2');
    await waitFor(
      () => [c1, c2].every((c) => c.secure.some((e) => e.state === 'connected')),
      'both connected',
      8000,
    );
    expect(await secureLive()).toEqual({ pairs: 2, dtls: 2, srtp: 2 });
    await Promise.all([c1.legW.close(), c1.legP.close(), c2.legW.close(), c2.legP.close()]);
    expect(await secureLive()).toEqual({ pairs: 0, dtls: 0, srtp: 0 });
    expect((await engine!.getStats())[0]!.worker.legs).toBe(0);
  });
});
