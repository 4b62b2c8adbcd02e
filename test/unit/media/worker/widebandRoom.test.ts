/**
 * The wideband frame path without sockets: a WorkerRoom with G.711 legs whose RTP socket
 * only records what it is asked to send. A 16 kHz room (forced) must send a G.711
 * listener the in-band part of the mix and nothing of a 6 kHz tone — no alias at 2 kHz
 * (a plain 2:1 decimation would put it there at full level) — and stamp its frames in
 * the listener's RTP clock.
 */
import { describe, expect, it } from '@jest/globals';
import type { PortPair } from '../../../../media/io/packetIo.js';
import { ULAW_DECODE } from '../../../../media/codecs/g711.js';
import { rtpPayloadOffset, rtpTimestamp } from '../../../../media/rtp/rtpHeader.js';
import type { LegConfig } from '../../../../media/worker/protocol.js';
import { WorkerLeg } from '../../../../media/worker/workerLeg.js';
import { WorkerRoom } from '../../../../media/worker/workerRoom.js';
import { goertzelPower, relativeTonePower } from '../../../helpers/goertzel.js';

function leg(id: number, sent: Buffer[]): WorkerLeg {
  const config: LegConfig = {
    legId: id,
    port: 40000 + 2 * id,
    codecs: [{ name: 'PCMU', payloadType: 0 }],
    telephoneEvent: null,
    remote: { address: '127.0.0.1', port: 50000 + 2 * id },
    direction: 'sendrecv',
    forwardDtmf: false,
    label: null,
  };
  const pair = {
    send(_channel: number, buf: Buffer, offset: number, length: number): void {
      sent.push(Buffer.from(buf.subarray(offset, offset + length)));
    },
    holds: (): boolean => false,
  } as unknown as PortPair;
  return new WorkerLeg(config, pair, 0, 1000);
}

function host(minMixRate: number) {
  return {
    relay: (): void => {},
    jitterOptions: { minDepthMs: 40, maxDepthMs: 200 },
    retireJitter: (): void => {},
    retireRecording: (): void => {},
    minMixRate,
  };
}

/** Runs a room where the customer hears the (silent) agent and a tone; returns what it got. */
function run(minMixRate: number, frequencies: number[]): { pcm: Int16Array; packets: Buffer[] } {
  const sent: Buffer[] = [];
  const customer = leg(1, sent);
  const agent = leg(2, []);
  const room = new WorkerRoom(1, host(minMixRate));
  room.setMembers(
    [
      { leg: customer, hears: [{ leg: agent, gain: 1 }] },
      { leg: agent, hears: [{ leg: customer, gain: 1 }] },
    ],
    [[customer], [agent]],
  );
  room.playTone([customer], { frequencies, levelDbm0: -10, onMs: 2000, offMs: 0, repeat: 1 });
  expect(room.rate).toBe(minMixRate);
  for (let i = 1; i <= 50; i++) room.frame(i, i * 20);
  const pcm: number[] = [];
  for (const p of sent) {
    for (let i = rtpPayloadOffset(p, p.length); i < p.length; i++) pcm.push(ULAW_DECODE[p[i]!]!);
  }
  return { pcm: Int16Array.from(pcm), packets: sent };
}

const power = (pcm: Int16Array, hz: number): number =>
  goertzelPower(pcm, 8000, hz, 800, pcm.length - 800);

describe('WorkerRoom at 16 kHz, G.711 listener', () => {
  it('mixes at 16 kHz and sends 20 ms G.711 frames stamped 160 apart', () => {
    const { packets } = run(16000, [1000]);
    expect(packets.length).toBe(50);
    for (const p of packets) expect(p.length - rtpPayloadOffset(p, p.length)).toBe(160);
    const steps = packets
      .slice(1)
      .map((p, i) => (rtpTimestamp(p) - rtpTimestamp(packets[i]!)) >>> 0);
    expect(new Set(steps)).toEqual(new Set([160]));
  });

  it('passes a 1 kHz tone and keeps a 6 kHz one ≥ 40 dB out (no alias at 2 kHz)', () => {
    const { pcm } = run(16000, [1000, 6000]);
    expect(relativeTonePower(pcm, 8000, 1000, 800, pcm.length - 800)).toBeGreaterThan(0.9);
    const alias = 10 * Math.log10(power(pcm, 2000) / power(pcm, 1000));
    expect(alias).toBeLessThan(-40);
  });

  it('the same tone at 8 kHz and through the 16 kHz room matches (level within 0.5 dB)', () => {
    const narrow = run(8000, [1000]).pcm;
    const wide = run(16000, [1000]).pcm;
    const ratio = 10 * Math.log10(power(wide, 1000) / power(narrow, 1000));
    expect(Math.abs(ratio)).toBeLessThan(0.5);
  });
});
