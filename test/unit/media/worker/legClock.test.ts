/**
 * A leg's RTP clocks follow its codecs: the outbound stream runs on the send codec's
 * clock (48 kHz for Opus), and reception statistics on the clock of the payload type
 * received. On a fixed 8 kHz clock an Opus leg read every packet's 960-tick step as six
 * times its 20 ms (interarrival jitter near 100 ms on a perfect stream), and timestamps
 * continued after a pause or a source switch fell six times short of the wall clock.
 */
import { describe, expect, it } from '@jest/globals';
import type { PortPair } from '../../../../media/io/packetIo.js';
import { OutboundStream } from '../../../../media/rtp/outboundStream.js';
import { PayloadMap } from '../../../../media/worker/payloadMap.js';
import type { CodecSpec, LegConfig } from '../../../../media/worker/protocol.js';
import { WorkerLeg } from '../../../../media/worker/workerLeg.js';
import { rtp } from '../rtpFixture.js';

function leg(codecs: CodecSpec[]): WorkerLeg {
  const config: LegConfig = {
    legId: 1,
    port: 40000,
    codecs,
    telephoneEvent: null,
    remote: { address: '127.0.0.1', port: 50000 },
    direction: 'sendrecv',
    forwardDtmf: false,
    label: null,
  };
  const pair = { send(): void {}, holds: (): boolean => false } as unknown as PortPair;
  return new WorkerLeg(config, pair, 0, 1000);
}

const OPUS: CodecSpec = { name: 'opus', payloadType: 111 };
const PCMU: CodecSpec = { name: 'PCMU', payloadType: 0 };

/** `count` packets of payload type `pt`, 20 ms apart, `step` ticks apart. */
function stream(l: WorkerLeg, pt: number, step: number, count: number): void {
  for (let i = 0; i < count; i++) {
    l.observe(rtp({ pt, seq: 100 + i, ts: 5000 + i * step, ssrc: 0x1234 }), 1000 + i * 20);
  }
}

describe('a leg on the RTP clock of its codecs', () => {
  it('PayloadMap knows each payload type’s clock and the send codec’s', () => {
    const map = new PayloadMap([OPUS, PCMU], { payloadType: 110, clockRate: 48000 });
    expect(map.clockRateOf[111]).toBe(48000);
    expect(map.clockRateOf[0]).toBe(8000);
    expect(map.clockRateOf[110]).toBe(48000);
    expect(map.clockRateOf[9]).toBe(0);
    expect(map.sendClockRate).toBe(48000);
    expect(new PayloadMap([PCMU, OPUS], null).sendClockRate).toBe(8000);
  });

  it('an Opus leg’s outbound stream runs at 48 kHz; a codec change moves it', () => {
    const l = leg([OPUS]);
    expect(l.outbound.clockRate).toBe(48000);
    expect(l.outbound.frameSamples).toBe(960);
    l.setPayloads(new PayloadMap([PCMU], null));
    expect(l.outbound.clockRate).toBe(8000);
    expect(l.outbound.frameSamples).toBe(160);
  });

  it('a perfect Opus stream has no jitter (on 8 kHz it read as about 100 ms)', () => {
    const l = leg([OPUS]);
    stream(l, 111, 960, 200);
    const inbound = l.stats(5000).inbound!;
    expect(inbound.jitterMs).toBeLessThan(1);
    expect(inbound.lost).toBe(0);
  });

  it('a perfect PCMU stream has no jitter either', () => {
    const l = leg([PCMU]);
    stream(l, 0, 160, 200);
    expect(l.stats(5000).inbound!.jitterMs).toBeLessThan(1);
  });

  it('after a pause, the next segment’s timestamp follows the wall clock at 48 kHz', () => {
    const s = new OutboundStream({ ssrc: 1, sequence: 0, timestamp: 0 });
    s.setClock(48000);
    expect(s.next(1, 0xaa, 10, 1000, false, 0)).toBe(true);
    const first = s.timestamp;
    s.interrupt();
    // 500 ms later a new segment: 24 000 ticks on, not 4 000.
    expect(s.next(2, 0xbb, 77, 999_999, false, 500)).toBe(true);
    expect((s.timestamp - first) >>> 0).toBe(24000);
    expect(s.marker).toBe(true);
  });

  it('a clock change starts a new segment at the next packet', () => {
    const s = new OutboundStream({ ssrc: 1, sequence: 0, timestamp: 0 });
    expect(s.next(1, 0xaa, 10, 1000, false, 0)).toBe(true);
    expect(s.next(1, 0xaa, 11, 1160, false, 20)).toBe(true);
    s.setClock(48000);
    expect(s.next(1, 0xaa, 12, 1320, false, 40)).toBe(true);
    expect(s.marker).toBe(true);
    expect(s.sequence).toBe(2);
    // 20 ms after the last timestamp on the new clock: at least one 48 kHz frame.
    expect((s.timestamp - 160) >>> 0).toBe(960);
  });
});
