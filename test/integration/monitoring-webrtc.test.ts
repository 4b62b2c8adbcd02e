/**
 * A browser supervisor (werift's RTCPeerConnection playing the browser, raw SIP with
 * digest for the feature code, monitoring-rig.ts) dials *90 1002 offering
 * UDP/TLS/RTP/SAVPF: it gets a WebRTC answer (ICE-lite, DTLS, SRTP) and hears the
 * customer and the agent, who never hear it in listen. Tones on what each side received.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hasTone, lacksTone } from '../helpers/goertzel.js';
import { WebRtcPeer } from '../helpers/webrtcPeer.js';
import { audioPort, sdp } from './calls-rawRig.js';
import { sleep, waitFor } from './media/fakePhone.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  SUPERVISOR_HZ,
  heardBetween,
  startMonitorRig,
  talk,
  type MonitorRig,
} from './monitoring-rig.js';
import { performance } from 'node:perf_hooks';

let rig: MonitorRig;
const peers: WebRtcPeer[] = [];

beforeAll(async () => {
  // Overload shedding off: DTLS handshakes and a werift peer on a shared 2-core box can
  // lag the server's loop past its 503 threshold, which is not what is tested here.
  rig = await startMonitorRig({ sip: { overload: { enabled: false } } });
}, 30000);

afterAll(async () => {
  await Promise.all(peers.map((p) => p.close()));
  await rig?.close();
}, 20000);

describe('a browser supervisor', () => {
  it('listens over WebRTC: hears customer and agent, neither hears it', async () => {
    const [customer, agent] = [await rig.phone(), await rig.phone()];
    const call = await rig.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
    const talkers = [
      talk(customer, audioPort(call.sdpToA), CUSTOMER_HZ),
      talk(agent, audioPort(call.sdpToB), AGENT_HZ),
    ];
    const peer = await WebRtcPeer.create(['PCMU']);
    peers.push(peer);
    const sup = await rig.extension('1005');
    const m = await sup.invite('*901002', await peer.offer());
    expect(m.final.status).toBe(200);
    expect(m.final.body).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0/);
    expect(m.final.body).toMatch(/a=ice-lite/);
    await peer.accept(m.final.body);
    await waitFor(() => peer.connected, 'the browser connected', 10000);
    peer.startTone(SUPERVISOR_HZ);
    const from = performance.now() + 500;
    const heardFrom = peer.heard.length;
    await sleep(2500);
    const to = performance.now();
    peer.stopTone();
    await Promise.all(talkers.map((t) => t.stop()));

    const supHeard = Int16Array.from(peer.heard.slice(heardFrom + 4000)); // after 0.5 s
    expect(hasTone(supHeard, CUSTOMER_HZ)).toBe(true);
    expect(hasTone(supHeard, AGENT_HZ)).toBe(true);
    for (const phone of [customer, agent]) {
      expect(lacksTone(heardBetween(phone, from, to), SUPERVISOR_HZ)).toBe(true);
    }
    expect(hasTone(heardBetween(customer, from, to), AGENT_HZ)).toBe(true);
    expect(hasTone(heardBetween(agent, from, to), CUSTOMER_HZ)).toBe(true);
    await rig.hangUp(call);
  }, 40000);
});
