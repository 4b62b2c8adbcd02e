/**
 * The relay fast path (media/worker/fastRelay.ts, native/fast_relay.cc): WorkerCore on the
 * native io relays a plain call on the event thread, and the same traffic through
 * WorkerCore on node:dgram (no fast path) gives the same stream at the listener — same
 * sequence steps, timestamp steps and markers (RFC 3550 continuity across a direction
 * change, a source SSRC change and DTMF), the same counters and the same reception
 * statistics in the RTCP receiver report (RFC 3550 A.3, 6.4.2). Real UDP on 127.0.0.1.
 */
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { DgramPacketIo } from '../../../../media/io/dgramPacketIo.js';
import { NativePacketIo } from '../../../../media/io/nativePacketIo.js';
import type { PacketIo } from '../../../../media/io/packetIo.js';
import { createRecordingFile } from '../../../../media/recording/recordingFile.js';
import type { CreateRecordingFile } from '../../../../media/recording/recordingFile.js';
import { ulawDecode, ulawEncode } from '../../../../media/codecs/g711.js';
import { rtp } from '../rtpFixture.js';
import { CONFIG, HOST, Harness, evenPort } from './workerHarness.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Received {
  seq: number;
  ts: number;
  ssrc: number;
  marker: boolean;
  pt: number;
  payload: number;
}

class Phone {
  readonly rtp: Received[] = [];
  /** RTCP report blocks about the phone's own SSRC: [fraction lost, cumulative lost]. */
  readonly reports: [number, number][] = [];
  constructor(
    readonly socket: Socket,
    readonly rtcp: Socket,
    readonly ssrc: number,
  ) {
    socket.on('message', (b) => {
      if ((b[1]! & 0x7f) >= 64 && (b[1]! & 0x7f) <= 95) return;
      this.rtp.push({
        seq: b.readUInt16BE(2),
        ts: b.readUInt32BE(4),
        ssrc: b.readUInt32BE(8),
        marker: (b[1]! & 0x80) !== 0,
        pt: b[1]! & 0x7f,
        payload: b[12]!,
      });
    });
    rtcp.on('message', (b) => {
      // Compound RTCP: walk the packets, read the report blocks of SR (200) / RR (201).
      let o = 0;
      while (o + 4 <= b.length) {
        const count = b[o]! & 0x1f;
        const type = b[o + 1]!;
        const words = b.readUInt16BE(o + 2);
        if (type === 200 || type === 201) {
          const first = o + (type === 200 ? 28 : 8);
          for (let i = 0; i < count; i++) {
            const r = first + i * 24;
            if (b.readUInt32BE(r) === this.ssrc) {
              this.reports.push([b[r + 4]!, b.readUIntBE(r + 5, 3)]);
            }
          }
        }
        o += (words + 1) * 4;
      }
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(to: number, spec: Parameters<typeof rtp>[0]): void {
    this.socket.send(rtp({ ssrc: this.ssrc, ...spec }), to, HOST);
  }

  close(): Promise<void> {
    return Promise.all(
      [this.socket, this.rtcp].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    ).then(() => undefined);
  }
}

async function phone(ssrc: number): Promise<Phone> {
  const even = await evenPort();
  const bind = (port: number): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = dgram.createSocket('udp4');
      s.once('error', reject);
      s.bind(port, HOST, () => resolve(s));
    });
  return new Phone(await bind(even), await bind(even + 1), ssrc);
}

/**
 * One call's worth of traffic through `io`; what the listener got and the stats. The
 * two legs hear each other through setSources, or (`viaRoom`) as the two members of a
 * room, as the server connects every call.
 */
async function scenario(io: PacketIo, viaRoom = false) {
  const h = new Harness(io);
  const a = await phone(0xaaaa0001);
  const b = await phone(0xbbbb0001);
  try {
    const portA = await h.leg(1, a.port, 101);
    const portB = await h.leg(2, b.port, 96);
    if (viaRoom) {
      await h.roomOfTwo([[], []]);
    } else {
      await h.run({ type: 'setSources', legId: 2, sources: [1] });
      await h.run({ type: 'setSources', legId: 1, sources: [2] });
    }
    let seq = 1000;
    let ts = 50000;
    let ssrc = 0xaaaa0001;
    const audio = async (n: number, skip = -1): Promise<void> => {
      for (let i = 0; i < n; i++) {
        if (i !== skip)
          a.socket.send(
            rtp({ pt: 0, seq, ts, ssrc, payload: Array(160).fill(i & 0x7f) }),
            portA,
            HOST,
          );
        b.send(portB, { pt: 0, seq: seq + 7, ts, payload: Array(160).fill(0xff) });
        seq = (seq + 1) & 0xffff;
        ts = (ts + 160) >>> 0;
        await sleep(20);
      }
    };
    await audio(30, 12); // one packet lost upstream: mirrored, and counted in the RR
    await h.run({ type: 'setDirection', legId: 2, direction: 'recvonly' }); // B not sent to
    await audio(10);
    await h.run({ type: 'setDirection', legId: 2, direction: 'sendrecv' });
    await audio(20);
    // A digit (RFC 4733): three packets of one event, then its end.
    for (let i = 0; i < 4; i++) {
      const end = i === 3 ? 0x80 : 0;
      a.socket.send(
        rtp({ pt: 101, seq, ts, ssrc, marker: i === 0, payload: [5, end | 10, 0, 160 * (i + 1)] }),
        portA,
        HOST,
      );
      seq = (seq + 1) & 0xffff;
      await sleep(20);
    }
    ts = (ts + 640) >>> 0;
    await audio(10);
    ssrc = 0xaaaa0002; // the phone restarted its stream: a new segment
    await audio(20);
    await sleep(500);
    const stats = await h.stats();
    // What the io relayed itself (the worker took its routes' counts for the stats).
    const relayed = stats.worker.fastRelay?.packets ?? 0;
    // A close mid-flow: A keeps sending, nothing is sent to the closed leg, nothing breaks.
    await h.run({ type: 'closeLeg', legId: 2 });
    const atClose = b.rtp.length;
    await audio(5);
    await sleep(50);
    return {
      b: b.rtp,
      atClose,
      afterClose: b.rtp.length,
      reportsA: a.reports,
      reportsB: b.reports,
      stats,
      relayed,
      digits: h.events.filter((e) => e.type === 'dtmf' && e.ended).length,
    };
  } finally {
    await h.core.close();
    await a.close();
    await b.close();
  }
}

/** The stream as steps between packets: what must not depend on the io. */
function steps(rx: Received[]) {
  return rx.slice(1).map((p, i) => ({
    dseq: (p.seq - rx[i]!.seq + 0x10000) & 0xffff,
    // A segment's first timestamp follows the wall clock: compare within segments only.
    dts: p.marker ? 'new segment' : (p.ts - rx[i]!.ts) >>> 0,
    pt: p.pt,
    payload: p.payload,
  }));
}

describe('relay fast path (native io) against the JavaScript path (dgram)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  /** A folder for the test's recordings, removed after it. */
  const scratchDir = (): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'callwatch-fastrelay-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };

  it('relays natively with the same stream, counters and receiver reports', async () => {
    expectSame(await scenario(new NativePacketIo()), await scenario(new DgramPacketIo()));
  }, 30000);

  it('relays a room of two (an unmonitored call) natively, the same way', async () => {
    expectSame(
      await scenario(new NativePacketIo(), true),
      await scenario(new DgramPacketIo(), true),
    );
  }, 30000);

  it('relays the parties of a monitored call natively, and the supervisor still hears both', async () => {
    const dir = scratchDir();
    const native = await monitoredCall(new NativePacketIo(), path.join(dir, 'native.wav'));
    const js = await monitoredCall(new DgramPacketIo(), path.join(dir, 'dgram.wav'));
    expect(js.relayed).toBe(0);
    // Both parties' relays went through the event thread, tapped for the mix.
    expect(native.relayed).toBeGreaterThan(150); // of 200
    // The supervisor's stream (heard by nobody) is counted alike on both paths.
    expect(native.supervisor).toEqual(js.supervisor);
    expect(native.supervisor.counters.rtpIn).toBe(TALK_FRAMES);
    for (const run of [native, js]) {
      // Each party hears the other, relayed: every packet, one stream.
      for (const heard of [run.a, run.b]) {
        expect(heard.length).toBeGreaterThanOrEqual(TALK_FRAMES - 2);
        expect(steps(heard).filter((s) => s.dseq !== 1)).toEqual([]);
      }
      expect(new Set(run.b.map((p) => p.payload))).toEqual(new Set([A_TALKS]));
      expect(new Set(run.a.map((p) => p.payload))).toEqual(new Set([B_TALKS]));
      // The supervisor's frames once the jitter buffer filled: both parties, summed (a
      // frame concealed while this process was not scheduled repeats it, softer), never
      // one party alone. Frames that waited for a sweep to take the tap would be silence.
      const steady = run.c.slice(10, -10).map((p) => p.payload);
      expect(steady.length).toBeGreaterThan(TALK_FRAMES / 2);
      expect(steady.filter((p) => p === BOTH_TALK).length).toBeGreaterThan(0.8 * steady.length);
      expect(steady.filter((p) => p === A_TALKS || p === B_TALKS)).toEqual([]);
    }
    // The recording (kept by the native io, placed by the routes as they relay) holds
    // both parties throughout, each alone on its own track, as on dgram.
    expect(native.keptByIo).toBe(1);
    for (const run of [native, js]) {
      expect(run.left).toBeGreaterThanOrEqual((TALK_FRAMES - 5) * 160);
      expect(run.right).toBeGreaterThanOrEqual((TALK_FRAMES - 5) * 160);
      expect(run.channels).toEqual([ulawDecode(A_TALKS), ulawDecode(B_TALKS)]);
    }
  }, 30000);

  it('records a call it relays as the JavaScript path does, also when the file opened late', async () => {
    const dir = scratchDir();
    const native = await recordedCall(new NativePacketIo(), path.join(dir, 'native.wav'));
    const js = await recordedCall(new DgramPacketIo(), path.join(dir, 'dgram.wav'));
    expect(js.routedBeforeStart).toBe(0);
    expect(native.routedBeforeStart).toBe(2); // the race this test is about did happen
    expect(native.relayedWhileRecording).toBeGreaterThan(50); // of 100: routes that record
    // Both parties' audio after the start, as much of it as on dgram: a route kept past
    // the start without a tap would leave a channel silent.
    for (const run of [native, js]) {
      expect(run.frames).toBeGreaterThanOrEqual(50); // 20 ms frames
      expect(run.left).toBeGreaterThanOrEqual(45 * 160);
      expect(run.right).toBeGreaterThanOrEqual(45 * 160);
    }
    expect(Math.abs(native.left - js.left)).toBeLessThanOrEqual(2 * 160);
    expect(Math.abs(native.right - js.right)).toBeLessThanOrEqual(2 * 160);
  }, 30000);
});

/** μ-law payload bytes the parties send, and the μ-law of their sum the mix must send. */
const A_TALKS = 0x10;
const B_TALKS = 0x20;
const BOTH_TALK = ulawEncode(ulawDecode(A_TALKS) + ulawDecode(B_TALKS));
const TALK_FRAMES = 100;

/**
 * A monitored call: legs 1 and 2 (customer and agent) hear each other, leg 3 (a
 * supervisor listening) hears both from the room's mix. What each phone received, what
 * the fast path relayed, what the worker counted of the supervisor, and the recording.
 */
async function monitoredCall(io: PacketIo, recordingPath: string) {
  // Sweeps (which take the taps too) far apart: the frames must not wait for them.
  const h = new Harness(io, undefined, { ...CONFIG, sweepIntervalMs: 1000 });
  const a = await phone(0xaaaa0001);
  const b = await phone(0xbbbb0001);
  const c = await phone(0xcccc0001);
  try {
    const portA = await h.leg(1, a.port, 101);
    const portB = await h.leg(2, b.port, 101);
    const portC = await h.leg(3, c.port, 101);
    await h.listenedRoom();
    await h.run({
      type: 'startRecording',
      roomId: 1,
      recording: { path: recordingPath, channels: 2 },
    });
    const keptByIo = (await h.stats()).mixer.recordingsKeptByIo;
    let due = performance.now();
    for (let i = 0; i < TALK_FRAMES; i++) {
      const packet = { pt: 0, seq: 300 + i, ts: 16000 + 160 * i };
      a.send(portA, { ...packet, payload: Array(160).fill(A_TALKS) });
      b.send(portB, { ...packet, payload: Array(160).fill(B_TALKS) });
      c.send(portC, { ...packet, payload: Array(160).fill(0xff) }); // silence, heard by nobody
      due += 20;
      await sleep(Math.max(0, due - performance.now()));
    }
    await sleep(200); // the last packets' place in the file is before the stop
    const stats = await h.stats();
    await h.run({ type: 'stopRecording', roomId: 1 });
    const { left, right, values } = stereoWav(recordingPath);
    const supervisor = stats.legs.find((l) => l.legId === 3)!;
    return {
      // What the worker counted of the supervisor's stream. What it sent the supervisor
      // (the mix, by the clock until the stats were taken; RTCP, randomised) is left out.
      supervisor: {
        counters: {
          ...supervisor.counters,
          packetsOut: undefined,
          bytesOut: undefined,
          rtcpOut: undefined,
        },
        inbound: supervisor.inbound && { ...supervisor.inbound, jitterMs: undefined },
      },
      keptByIo,
      left,
      right,
      // Each track's one non-silent value (more than one: the parties mixed, or concealment).
      channels: values.map((v) => (v.size === 1 ? [...v][0] : [...v])),
      a: a.rtp,
      b: b.rtp,
      c: c.rtp,
      relayed: stats.worker.fastRelay?.packets ?? 0,
    };
  } finally {
    await h.core.close();
    await a.close();
    await b.close();
    await c.close();
  }
}

/**
 * A room of two recorded while the call goes on; the file opens only after some of the
 * call went by (the fast path's routes come back meanwhile, without a tap). What the
 * recording holds of each party, and what the fast path did.
 */
async function recordedCall(io: PacketIo, recordingPath: string) {
  // The file opens when the test says so: the call's packets go on meanwhile, and the
  // routes come back on the fast path after the command took them (no tap yet).
  let openFile = (): void => undefined;
  const gate = new Promise<void>((resolve) => (openFile = resolve));
  const slowCreate: CreateRecordingFile = async (file, mode) => {
    await gate;
    return createRecordingFile(file, mode);
  };
  const h = new Harness(io, slowCreate);
  const a = await phone(0xaaaa0001);
  const b = await phone(0xbbbb0001);
  try {
    const portA = await h.leg(1, a.port, 101);
    const portB = await h.leg(2, b.port, 96);
    await h.roomOfTwo([[1], [2]]);
    let seq = 100;
    let ts = 8000;
    // Paced on the clock, not by sleeping 20 ms after each (which drifts behind the RTP
    // timestamps until the recorder re-anchors and drops packets as late).
    let due = performance.now();
    const talk = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        a.send(portA, { pt: 0, seq, ts, payload: Array(160).fill(0x10) }); // loud μ-law
        b.send(portB, { pt: 0, seq, ts, payload: Array(160).fill(0x20) });
        seq++;
        ts += 160;
        due += 20;
        await sleep(Math.max(0, due - performance.now()));
      }
    };
    const started = h.run({
      type: 'startRecording',
      roomId: 1,
      recording: { path: recordingPath, channels: 2 },
    });
    // The file is opening: the routes come back on the fast path (a sender report takes
    // one back now and then, the next packet puts it back).
    let routedBeforeStart = 0;
    const native = io instanceof NativePacketIo;
    for (let i = 0; i < 100 && (i < 10 || (native && routedBeforeStart < 2)); i++) {
      await talk(1);
      routedBeforeStart = (await h.stats()).worker.fastRelay?.routes ?? 0;
    }
    openFile();
    await started;
    const relayedAtStart = (await h.stats()).worker.fastRelay?.packets ?? 0;
    await talk(50); // recorded; the routes come back, placing into the io's recording
    const relayedWhileRecording =
      ((await h.stats()).worker.fastRelay?.packets ?? 0) - relayedAtStart;
    await sleep(200); // the last packets' place in the file is before the stop
    const summary = (await h.run({ type: 'stopRecording', roomId: 1 })) as {
      frames: number;
    };
    const { left, right } = stereoWav(recordingPath);
    return { routedBeforeStart, relayedWhileRecording, frames: summary.frames, left, right };
  } finally {
    await h.core.close();
    await a.close();
    await b.close();
  }
}

/**
 * A stereo 16-bit WAV as the worker writes it (44-byte header): the non-silent samples of
 * each track, and the distinct values among them.
 */
function stereoWav(file: string) {
  const data = readFileSync(file).subarray(44);
  let left = 0;
  let right = 0;
  const values = [new Set<number>(), new Set<number>()];
  for (let o = 0; o + 4 <= data.length; o += 4) {
    const l = data.readInt16LE(o);
    const r = data.readInt16LE(o + 2);
    if (l !== 0) {
      left++;
      values[0]!.add(l);
    }
    if (r !== 0) {
      right++;
      values[1]!.add(r);
    }
  }
  return { left, right, values };
}

type Run = Awaited<ReturnType<typeof scenario>>;

/** The native run's stream, counters and reports are the dgram run's. */
function expectSame(native: Run, js: Run): void {
  // Most of A's audio went through the event thread, none on dgram.
  expect(js.relayed).toBe(0);
  expect(native.relayed).toBeGreaterThan(60);

  // One outbound stream: one SSRC, no sequence jump apart from the upstream loss.
  for (const run of [native, js]) {
    expect(new Set(run.b.map((p) => p.ssrc)).size).toBe(1);
    const dseq = steps(run.b).map((s) => s.dseq);
    expect(dseq.filter((d) => d !== 1)).toEqual([2]); // the lost packet, mirrored
    expect(run.b.filter((p) => p.pt === 96).length).toBe(4); // DTMF, B's payload type
    expect(run.digits).toBe(1);
    expect(run.afterClose).toBe(run.atClose);
  }
  expect(steps(native.b)).toEqual(steps(js.b));
  expect(native.b.map((p) => p.marker)).toEqual(js.b.map((p) => p.marker));

  // Counters: the legs', the worker's, the io's. RTCP is sent at randomised intervals
  // (RFC 3550 6.2), so its counts are left out; every RTP count must be equal.
  const noRtcp = <T extends { rtcpOut: number }>(c: T) => ({ ...c, rtcpOut: undefined });
  expect(noRtcp(native.stats.worker.counters)).toEqual(noRtcp(js.stats.worker.counters));
  const legStats = (r: Run) =>
    r.stats.legs.map((l) => ({
      counters: noRtcp(l.counters),
      inbound: l.inbound && { ...l.inbound, jitterMs: undefined },
    }));
  expect(legStats(native)).toEqual(legStats(js));
  const io = (r: Run) => {
    const { datagramsIn, bytesIn, datagramsOut, sendErrors } = r.stats.worker.ioCounters;
    const rtpOut = datagramsOut - r.stats.worker.counters.rtcpOut;
    return { datagramsIn, bytesIn, rtpOut, sendErrors };
  };
  expect(io(native)).toEqual(io(js));
  // Interarrival jitter is kept on the fast path too (loopback: small, but measured).
  const jitter = native.stats.legs.find((l) => l.legId === 1)!.inbound!.jitterMs;
  expect(Number.isFinite(jitter)).toBe(true);

  // RTCP (RFC 3550 6.4.2): the reports A gets about its stream count the one packet it
  // lost on its way (the fast-pathed packets were observed too); B's (relayed natively
  // too) lacks the 4 sequence numbers it skipped while A sent its digit.
  for (const run of [native, js]) {
    expect(run.reportsA.length).toBeGreaterThan(0);
    expect(run.reportsA.at(-1)![1]).toBe(1);
    expect(run.reportsB.length).toBeGreaterThan(0);
    expect(run.reportsB.at(-1)![1]).toBe(4);
  }
}
