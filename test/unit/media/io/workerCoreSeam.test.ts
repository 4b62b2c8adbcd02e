/**
 * The packet I/O seam carries the whole worker: WorkerCore driven over an in-memory
 * PacketIo (memoryPacketIo.ts), no socket anywhere — two legs relaying RTP (the packet
 * path, fed batches of many datagrams), and a room whose supervisor is fed from the
 * clocked mix while customer and agent relay. Relay and mixer code are reached only
 * through the interface.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { LegConfig, WorkerConfig } from '../../../../media/worker/protocol.js';
import { CONFIG as HARNESS_CONFIG, WorkerDriver } from '../worker/workerHarness.js';
import { rtp } from '../rtpFixture.js';
import { MemoryPacketIo } from './memoryPacketIo.js';
import type { MemoryPhone } from './memoryPacketIo.js';

/** The fast path's harness timings are for sockets; these tests sweep and report slower. */
const CONFIG: WorkerConfig = { ...HARNESS_CONFIG, rtcpIntervalMs: 5000, sweepIntervalMs: 1000 };

class Harness extends WorkerDriver {
  readonly io: MemoryPacketIo;

  constructor(config: WorkerConfig = CONFIG) {
    const io = new MemoryPacketIo(() => performance.now());
    super(io, undefined, config);
    this.io = io;
  }

  async leg(legId: number, port: number, phone: MemoryPhone): Promise<number> {
    const leg: LegConfig = {
      legId,
      port,
      codecs: [{ name: 'PCMU', payloadType: 0 }],
      telephoneEvent: null,
      remote: { address: phone.address, port: phone.port },
      direction: 'sendrecv',
      forwardDtmf: true,
      label: null,
    };
    const { ssrc } = (await this.run({ type: 'createLeg', leg })) as { ssrc: number };
    return ssrc;
  }
}

function packet(seq: number, byte: number, ssrc = 0x1234): Buffer {
  return rtp({ pt: 0, seq, ts: seq * 160, ssrc, payload: new Array<number>(160).fill(byte) });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('WorkerCore over an in-memory PacketIo', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.core.close();
    expect(h?.io.openPairs ?? 0).toBe(0); // the core closed every pair it bound
    h = null;
  });

  it('relays RTP between two legs, batches of many datagrams, without a socket', async () => {
    h = new Harness();
    const pa = h.io.phone('127.0.0.2', 5000);
    const pb = h.io.phone('127.0.0.3', 6000);
    const ssrcA = await h.leg(1, 1000, pa);
    const ssrcB = await h.leg(2, 1002, pb);
    await h.run({ type: 'setSources', legId: 2, sources: [1] });
    await h.run({ type: 'setSources', legId: 1, sources: [2] });

    for (let i = 0; i < 10; i++) pa.send(packet(100 + i, 0x10 + i), 1000);
    for (let i = 0; i < 3; i++) pb.send(packet(7 + i, 0x50, 0x9999), 1002);
    h.io.flush();

    expect(h.io.largestBatch).toBe(10);
    const atB = pb.received.map(({ bytes, fromPort }) => ({
      fromPort,
      pt: bytes[1]! & 0x7f,
      ssrc: bytes.readUInt32BE(8),
      payload: bytes[12],
      length: bytes.length,
    }));
    expect(atB).toEqual(
      Array.from({ length: 10 }, (_, i) => ({
        fromPort: 1002,
        pt: 0,
        ssrc: ssrcB,
        payload: 0x10 + i,
        length: 172,
      })),
    );
    const seqs = pb.received.map(({ bytes }) => bytes.readUInt16BE(2));
    expect(seqs.slice(1).map((s, i) => (s - seqs[i]! + 0x10000) & 0xffff)).toEqual(
      new Array<number>(9).fill(1),
    );
    expect(pa.received.map(({ bytes }) => [bytes.readUInt32BE(8), bytes[12]])).toEqual(
      new Array(3).fill([ssrcA, 0x50]),
    );
    expect(h.events.filter((e) => e.type === 'latched').length).toBe(2);

    const stats = await h.stats();
    expect(stats.worker.io).toBe('memory');
    expect(stats.worker.ioCounters).toMatchObject({
      datagramsIn: 13,
      bytesIn: 13 * 172,
      datagramsOut: 13,
      bytesOut: 13 * 172,
    });
    expect(stats.worker.counters).toMatchObject({ packetsIn: 13, rtpIn: 13, packetsOut: 13 });

    // A port pair already held by a leg is refused through the seam; nothing leaks.
    await expect(h.leg(3, 1002, pb)).rejects.toThrow('ERR_PORT_IN_USE');
    expect(h.io.openPairs).toBe(2);
    await h.run({ type: 'closeLeg', legId: 1 });
    expect(h.io.openPairs).toBe(1);
  });

  it('feeds a supervisor from the mix while customer and agent relay', async () => {
    h = new Harness();
    const pc = h.io.phone('127.0.0.2', 5000);
    const pa = h.io.phone('127.0.0.3', 6000);
    const ps = h.io.phone('127.0.0.4', 7000);
    await h.leg(1, 1000, pc);
    const ssrcAgent = await h.leg(2, 1002, pa);
    await h.leg(3, 1004, ps);
    // A supervisor listening: customer and agent hear each other, the supervisor both.
    await h.listenedRoom();
    // 0x9e: a mid-level µ-law sample from the customer; 0xff: silence from the agent.
    for (let i = 0; i < 25; i++) {
      pc.send(packet(200 + i, 0x9e, 0xc0), 1000);
      pa.send(packet(300 + i, 0xff, 0xa0), 1002);
      h.io.flush();
      await sleep(20);
      h.io.flush();
    }
    // The agent hears the customer on the packet path (relayed, agent's SSRC, as sent).
    expect(pa.received.length).toBe(25);
    expect(new Set(pa.received.map(({ bytes }) => bytes.readUInt32BE(8)))).toEqual(
      new Set([ssrcAgent]),
    );
    expect(pa.received.every(({ bytes }) => bytes[12] === 0x9e)).toBe(true);
    // The supervisor hears the mixer's frames: one stream from its own port, and the
    // customer's level in it once the jitter buffer has filled.
    const mixed = ps.received;
    expect(mixed.length).toBeGreaterThan(10);
    expect(new Set(mixed.map(({ fromPort }) => fromPort))).toEqual(new Set([1004]));
    expect(new Set(mixed.map(({ bytes }) => bytes.readUInt32BE(8))).size).toBe(1);
    const heard = mixed.filter(({ bytes }) => bytes.subarray(12).every((b) => b === 0x9e));
    expect(heard.length).toBeGreaterThan(5);
    const stats = await h.stats();
    expect(stats.mixer.framesMixed).toBeGreaterThan(10);
    expect(h.io.lost).toBe(0);
  });

  it('rooms ticked in slices (one room per turn) keep every mixed stream whole', async () => {
    // A budget below any room's frame: each room's part of a frame takes a turn of its
    // own (slicedRun.ts), with the packet path free to run in between.
    h = new Harness({ ...CONFIG, roomSliceMs: 1e-6 });
    const ROOMS = 6;
    const supervisors: MemoryPhone[] = [];
    const customers: MemoryPhone[] = [];
    for (let r = 1; r <= ROOMS; r++) {
      const pc = h.io.phone('127.0.0.2', 5000 + r * 10);
      const pa = h.io.phone('127.0.0.3', 5000 + r * 10);
      const ps = h.io.phone('127.0.0.4', 5000 + r * 10);
      await h.leg(r * 10 + 1, 1000 + r * 10, pc);
      await h.leg(r * 10 + 2, 1002 + r * 10, pa);
      await h.leg(r * 10 + 3, 1004 + r * 10, ps);
      await h.run({ type: 'createRoom', roomId: r });
      await h.run({
        type: 'setRoutes',
        roomId: r,
        members: [
          { legId: r * 10 + 1, hears: [{ legId: r * 10 + 2, gain: 1 }] },
          { legId: r * 10 + 2, hears: [{ legId: r * 10 + 1, gain: 1 }] },
          {
            legId: r * 10 + 3,
            hears: [
              { legId: r * 10 + 1, gain: 1 },
              { legId: r * 10 + 2, gain: 1 },
            ],
          },
        ],
        recordingTracks: [[r * 10 + 1], [r * 10 + 2]],
      });
      customers.push(pc);
      supervisors.push(ps);
    }
    for (let i = 0; i < 20; i++) {
      for (let r = 1; r <= ROOMS; r++) {
        customers[r - 1]!.send(packet(200 + i, 0x9e, 0xc0 + r), 1000 + r * 10);
      }
      h.io.flush();
      await sleep(20);
      h.io.flush();
    }
    const { ticksSkipped } = (await h.stats()).mixer;
    for (const ps of supervisors) {
      const got = ps.received.map(({ bytes }) => ({
        seq: bytes.readUInt16BE(2),
        ts: bytes.readUInt32BE(4),
      }));
      expect(got.length).toBeGreaterThan(10);
      // One packet per frame the room ran: sequence +1, timestamp +160 per frame (§6.6);
      // a frame the clock skipped (a stalled loop, §6.3) is a gap in time only.
      let extra = 0;
      for (let k = 1; k < got.length; k++) {
        expect((got[k]!.seq - got[k - 1]!.seq + 0x10000) & 0xffff).toBe(1);
        const step = (got[k]!.ts - got[k - 1]!.ts) >>> 0;
        expect(step > 0 && step % 160 === 0).toBe(true);
        extra += step / 160 - 1;
      }
      expect(extra).toBeLessThanOrEqual(ticksSkipped);
      expect(ps.received.some(({ bytes }) => bytes.subarray(12).every((b) => b === 0x9e))).toBe(
        true,
      );
    }
    expect(h.io.lost).toBe(0);
  });
});
