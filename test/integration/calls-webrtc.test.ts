/**
 * Calls with a WebRTC leg through the real server (docs/architecture.md §3.2.2): a browser
 * (werift's RTCPeerConnection on 127.0.0.1) offers UDP/TLS/RTP/SAVPF and gets a SAVPF
 * answer (ICE-lite, passive, only the codecs it offered), and a callee whose contact is a
 * browser's (`;transport=ws`) is offered SAVPF (actpass, Opus first). The other party is
 * a plain RTP/AVP phone; audio is checked by tone on what each side received. SIP is raw
 * UDP here (calls-rawRig.ts): SIP over WebSocket is tested on its own.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { hasTone, lacksTone } from '../helpers/goertzel.js';
import { WebRtcPeer } from '../helpers/webrtcPeer.js';
import { audioPort, sdp, startRig, type Rig } from './calls-rawRig.js';
import { Tone, sleep, waitFor } from './media/fakePhone.js';
import { decode } from './media/streamChecks.js';

const BROWSER_HZ = 1000;
const PHONE_HZ = 440;

/**
 * Overload shedding off: a call's werift peer and DTLS handshakes on a shared 2-core box
 * can lag the server's loop past its 503 threshold, which is not what is tested here.
 */
const CONFIG = { sip: { overload: { enabled: false } } };

let rig: Rig | undefined;
const peers: WebRtcPeer[] = [];

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await rig?.close();
  rig = undefined;
}, 20000);

/** A plain PCMU phone's SDP at `port`. */
function pcmuBody(port: number): string {
  return sdp(port);
}

describe('calls with a WebRTC leg', () => {
  it('a browser calling a desk phone gets a SAVPF answer and both hear each other', async () => {
    rig = await startRig(CONFIG);
    const phone = await rig.phone();
    const peer = await WebRtcPeer.create(['opus', 'PCMU']);
    peers.push(peer);
    const call = await rig.placeCall({
      offer: await peer.offer(),
      answer: () => pcmuBody(phone.port),
    });
    // The desk phone's leg stays RTP/AVP; the browser's answer is WebRTC, ICE-lite.
    expect(call.sdpToB).toMatch(/m=audio \d+ RTP\/AVP /);
    expect(call.sdpToB).not.toMatch(/fingerprint|ice-/);
    // werift offers no telephone-event: the answer is its Opus alone.
    expect(call.sdpToA).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF 111\r\n/);
    expect(call.sdpToA).toMatch(/a=ice-lite/);
    expect(call.sdpToA).toMatch(/a=setup:passive/);
    expect(call.sdpToA).toMatch(/a=fingerprint:sha-256 [0-9A-F:]{95}/);
    expect(call.sdpToA).toMatch(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
    await peer.accept(call.sdpToA);
    await waitFor(() => peer.connected, 'the browser connected', 10000);

    peer.startTone(BROWSER_HZ);
    const before = peer.heard.length;
    await phone.stream(audioPort(call.sdpToB), {
      pt: 0,
      tone: new Tone('PCMU', PHONE_HZ),
      packets: 100,
    });
    await sleep(200);
    peer.stopTone();
    // Its Opus leg is transcoded to and from the phone's PCMU.
    expect(peer.heardOpus).toBe(true);
    const browserHeard = Int16Array.from(peer.heard.slice(before));
    expect(hasTone({ samples: browserHeard, sampleRate: peer.heardRate }, PHONE_HZ)).toBe(true);
    const phoneHeard = decode(phone.rtp, 'PCMU');
    expect(hasTone(phoneHeard, BROWSER_HZ)).toBe(true);
    expect(lacksTone(phoneHeard, PHONE_HZ)).toBe(true);
    await rig.hangUp(call);
  }, 40000);

  it('a callee registered from a browser is offered SAVPF, Opus first, and hears the caller', async () => {
    rig = await startRig(CONFIG, undefined, {}, ';transport=ws');
    const phone = await rig.phone();
    const peer = await WebRtcPeer.create(['opus', 'PCMU']);
    peers.push(peer);
    const call = await rig.placeCall({
      offer: pcmuBody(phone.port),
      answer: (offer) => peer.answer(offer),
    });
    expect(call.sdpToB).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF 111 0 8 /);
    expect(call.sdpToB).toMatch(/a=setup:actpass/);
    expect(call.sdpToB).toMatch(/a=group:BUNDLE 0/);
    // The caller's answer is plain RTP/AVP PCMU.
    expect(call.sdpToA).toMatch(/m=audio \d+ RTP\/AVP 0 /);
    await waitFor(() => peer.connected, 'the browser connected', 10000);

    peer.startTone(BROWSER_HZ);
    const before = peer.heard.length;
    await phone.stream(audioPort(call.sdpToA), {
      pt: 0,
      tone: new Tone('PCMU', PHONE_HZ),
      packets: 100,
    });
    await sleep(200);
    peer.stopTone();
    // The browser took PCMU too: the caller's PCMU is relayed to it as is, no transcoding.
    expect(peer.heardOpus).toBe(false);
    const browserHeard = Int16Array.from(peer.heard.slice(before));
    expect(hasTone({ samples: browserHeard, sampleRate: peer.heardRate }, PHONE_HZ)).toBe(true);
    expect(hasTone(decode(phone.rtp, 'PCMU'), BROWSER_HZ)).toBe(true);
    await rig.hangUp(call);
  }, 40000);
});
