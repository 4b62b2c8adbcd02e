/**
 * The media engine relaying real RTP between fake phones over 127.0.0.1, through a real
 * worker thread (the compiled one: run `npm run build` first; engineFixture.ts checks).
 * Audio is judged on what a phone received: one SSRC, contiguous sequence numbers,
 * timestamps on the media clock, and the other phone's tone.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { ULAW_TO_ALAW } from '../../../media/codecs/g711.js';
import type { Leg } from '../../../media/engine/leg.js';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import type { MediaEngineOptions } from '../../../media/engine/engineOptions.js';
import type { CodecSpec, DtmfEvent } from '../../../media/worker/protocol.js';
import { hasTone, lacksTone } from '../../helpers/goertzel.js';
import { createLegFor, twoPartyCall } from './callFixture.js';
import type { Call, Side } from './callFixture.js';
import { startEngine } from './engineFixture.js';
import { FakePhone, sleep, Tone, waitFor } from './fakePhone.js';
import { decode, pauses, seqSteps, ssrcsOf, tsSteps } from './streamChecks.js';

const PCMU = { law: 'PCMU', pt: 0 } as const;
const PCMA = { law: 'PCMA', pt: 8 } as const;

let engine: MediaEngine | undefined;
const phones: FakePhone[] = [];

async function engineWith(options: Partial<MediaEngineOptions> = {}): Promise<MediaEngine> {
  engine = (await startEngine(options)).engine;
  return engine;
}

async function phone(): Promise<FakePhone> {
  const p = await FakePhone.open();
  phones.push(p);
  return p;
}

async function call(a: Side, b: Side): Promise<Call> {
  const c = await twoPartyCall(engine!, a, b);
  phones.push(c.phoneA, c.phoneB);
  return c;
}

afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await Promise.all(phones.splice(0).map((p) => p.close()));
});

describe('relay', () => {
  it('carries a two-party call both ways as one continuous stream per direction', async () => {
    await engineWith();
    const { phoneA, phoneB, legA, legB } = await call(PCMU, PCMU);
    await Promise.all([
      phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 50 }),
      phoneB.stream(legB.localPort, { pt: 0, tone: new Tone('PCMU', 440), packets: 50 }),
    ]);
    await waitFor(() => phoneA.rtp.length === 50 && phoneB.rtp.length === 50, '50 packets each');

    for (const [heard, leg, tone, other] of [
      [phoneA.rtp, legA, 440, 1000],
      [phoneB.rtp, legB, 1000, 440],
    ] as const) {
      expect(ssrcsOf(heard)).toEqual([leg.ssrc]);
      expect(heard.every((p) => p.pt === 0)).toBe(true);
      expect(new Set(seqSteps(heard))).toEqual(new Set([1]));
      expect(new Set(tsSteps(heard))).toEqual(new Set([160]));
      expect(heard[0]!.marker).toBe(true);
      const audio = decode(heard, 'PCMU');
      expect(hasTone(audio, tone)).toBe(true);
      expect(lacksTone(audio, other)).toBe(true);
    }
    // Relayed untouched: the payload bytes are the sender's.
    const sent = new Tone('PCMU', 1000);
    expect(phoneB.rtp.map((p) => p.payload)).toEqual(phoneB.rtp.map(() => sent.frame()));
  });

  it('transcodes PCMU ↔ PCMA in place, with each side’s payload type', async () => {
    await engineWith();
    const { phoneA, phoneB, legA, legB } = await call(PCMU, { law: 'PCMA', pt: 8 });
    await Promise.all([
      phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 50 }),
      phoneB.stream(legB.localPort, { pt: 8, tone: new Tone('PCMA', 440), packets: 50 }),
    ]);
    await waitFor(() => phoneA.rtp.length === 50 && phoneB.rtp.length === 50, '50 packets each');

    expect(phoneB.rtp.every((p) => p.pt === 8)).toBe(true);
    expect(phoneA.rtp.every((p) => p.pt === 0)).toBe(true);
    expect(hasTone(decode(phoneB.rtp, 'PCMA'), 1000)).toBe(true);
    expect(hasTone(decode(phoneA.rtp, 'PCMU'), 440)).toBe(true);
    expect(lacksTone(decode(phoneA.rtp, 'PCMU'), 1000)).toBe(true);
    const sent = new Tone('PCMU', 1000);
    const expected = phoneB.rtp.map(() => Buffer.from(sent.frame().map((c) => ULAW_TO_ALAW[c]!)));
    expect(phoneB.rtp.map((p) => p.payload)).toEqual(expected);
    expect(new Set(seqSteps(phoneB.rtp))).toEqual(new Set([1]));
  });

  it('feeds two listeners from one source, each with its own stream and codec', async () => {
    const engine = await engineWith();
    const { phoneA, phoneB, legA, legB } = await call(PCMU, PCMU);
    const phoneC = await phone();
    const legC = await createLegFor(engine, phoneC, PCMA, legA.group);
    await legC.setSources([legA]);
    await phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 40 });
    await waitFor(() => phoneB.rtp.length === 40 && phoneC.rtp.length === 40, '40 packets each');

    const sent = new Tone('PCMU', 1000);
    const frames = phoneB.rtp.map(() => sent.frame());
    expect(phoneB.rtp.map((p) => p.payload)).toEqual(frames);
    expect(phoneC.rtp.map((p) => p.payload)).toEqual(
      frames.map((f) => Buffer.from(f.map((c) => ULAW_TO_ALAW[c]!))),
    );
    expect(ssrcsOf(phoneB.rtp)).toEqual([legB.ssrc]);
    expect(ssrcsOf(phoneC.rtp)).toEqual([legC.ssrc]);
    expect(new Set(seqSteps(phoneC.rtp))).toEqual(new Set([1]));
    expect(phoneC.rtp.every((p) => p.pt === 8)).toBe(true);
    expect(legC.sources).toEqual([legA]);
  });
});

describe('an answer applied in one command (applyMedia)', () => {
  it('sets codecs, remote and direction together; without a remote the leg keeps its own', async () => {
    const engine = await engineWith();
    const phoneA = await phone();
    const phoneB = await phone();
    const legA = await createLegFor(engine, phoneA, PCMU, 'answer');
    // The callee's leg as the B2BUA makes it before the answer: provisional codecs, no remote.
    const legB = await engine.createLeg({
      codecs: [
        { name: 'PCMU', payloadType: 0 },
        { name: 'PCMA', payloadType: 8 },
      ],
      group: 'answer',
    });
    await Promise.all([legA.setSources([legB]), legB.setSources([legA])]);
    await legB.applyMedia({
      codecs: [{ name: 'PCMA', payloadType: 8 }],
      telephoneEvent: null,
      remote: { address: '127.0.0.1', port: phoneB.port },
      direction: 'sendrecv',
    });
    expect(legB.remote).toEqual({ address: '127.0.0.1', port: phoneB.port });
    expect(legB.direction).toBe('sendrecv');
    await phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 40 });
    await waitFor(() => phoneB.rtp.length === 40, '40 packets at the answered address');
    // The answer's codec: transcoded to PCMA, with its payload type.
    expect(phoneB.rtp.every((p) => p.pt === 8)).toBe(true);
    expect(hasTone(decode(phoneB.rtp, 'PCMA'), 1000)).toBe(true);

    // A hold to 0.0.0.0 (no remote): the leg keeps its address and stops sending to it.
    await legB.applyMedia({ codecs: [{ name: 'PCMA', payloadType: 8 }], direction: 'inactive' });
    expect(legB.remote).toEqual({ address: '127.0.0.1', port: phoneB.port });
    expect(legB.direction).toBe('inactive');
    await phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 10 });
    await sleep(200);
    expect(phoneB.rtp).toHaveLength(40);
    // Resumed: the same address hears the other party again.
    await legB.applyMedia({ codecs: [{ name: 'PCMA', payloadType: 8 }], direction: 'sendrecv' });
    await phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 10 });
    await waitFor(() => phoneB.rtp.length === 50, '10 more packets after the resume');
  });

  it('checks its arguments before sending anything', async () => {
    const engine = await engineWith();
    const leg = await engine.createLeg({ codecs: [{ name: 'PCMU', payloadType: 0 }] });
    const codeOf = (p: Promise<unknown>): Promise<unknown> =>
      p.then(
        () => 'resolved',
        (e: { code?: string }) => e.code,
      );
    const ok = {
      codecs: [{ name: 'PCMU' as const, payloadType: 0 }],
      direction: 'sendrecv' as const,
    };
    expect(await codeOf(leg.applyMedia({ ...ok, codecs: [] }))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(leg.applyMedia({ ...ok, direction: 'hold' as 'inactive' }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(leg.applyMedia({ ...ok, remote: { address: '::1', port: 4000 } }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(leg.remote).toBeNull();
    await leg.close();
    await expect(leg.applyMedia(ok)).rejects.toThrow(/closed/);
  });
});

describe('codecs beyond G.711', () => {
  /** A leg for `phone` with these codecs (preferred first) in `group`. */
  function legWith(phone: FakePhone, codecs: CodecSpec[], group: string) {
    return engine!.createLeg({
      codecs,
      telephoneEvent: null,
      remote: { address: '127.0.0.1', port: phone.port },
      group,
      callId: group,
    });
  }

  /** Until `leg` accepted `n` RTP packets from its phone (the relay step ran for each). */
  async function receivedAll(leg: Leg, n: number): Promise<void> {
    const until = performance.now() + 3000;
    while ((await leg.getStats()).counters.rtpIn < n) {
      if (performance.now() > until) throw new Error(`leg ${leg.id} got fewer than ${n}`);
      await sleep(20);
    }
  }

  /** 20 ms frames that are not G.711 audio: the relay must carry them byte for byte. */
  const frames = Array.from({ length: 20 }, (_, i) => Buffer.alloc(160, (i * 7 + 3) & 0xff));

  it('relays G.722 (PT 9) and a dynamic Opus unchanged to a leg that negotiated them', async () => {
    await engineWith();
    const [phoneA, phoneB] = [await phone(), await phone()];
    const legA = await legWith(phoneA, [{ name: 'G722', payloadType: 9 }], 'hd');
    const legB = await legWith(
      phoneB,
      [
        { name: 'G722', payloadType: 9 },
        { name: 'opus', payloadType: 111 },
      ],
      'hd',
    );
    await engine!.connect(legA, legB);
    for (const [i, f] of frames.entries()) phoneA.sendRtp(legA.localPort, 9, f, i === 0);
    await waitFor(() => phoneB.rtp.length === frames.length, 'the G.722 frames at B');
    expect(phoneB.rtp.map((p) => p.pt)).toEqual(frames.map(() => 9));
    expect(phoneB.rtp.map((p) => p.payload)).toEqual(frames);
    expect(new Set(tsSteps(phoneB.rtp))).toEqual(new Set([160]));
    // B's Opus (as numbered on A's side: A lacks it) is not A's to hear: dropped, counted.
    for (const [i, f] of frames.entries()) phoneB.sendRtp(legB.localPort, 111, f, i === 0);
    await receivedAll(legB, frames.length);
    expect(phoneA.rtp).toHaveLength(0);
    const counters = (await legA.getStats()).counters;
    expect(counters.dropCodec).toBe(frames.length);
    expect(counters.packetsOut).toBe(0);
  });

  it('never forwards G.722 to a G.711-only listener: dropped and counted (dropCodec)', async () => {
    await engineWith();
    const [phoneA, phoneB] = [await phone(), await phone()];
    const legA = await legWith(phoneA, [{ name: 'G722', payloadType: 9 }], 'trunk');
    const legB = await legWith(phoneB, [{ name: 'PCMU', payloadType: 0 }], 'trunk');
    await engine!.connect(legA, legB);
    for (const [i, f] of frames.entries()) phoneA.sendRtp(legA.localPort, 9, f, i === 0);
    await receivedAll(legA, frames.length);
    expect(phoneB.rtp).toHaveLength(0);
    const b = (await legB.getStats()).counters;
    expect(b.dropCodec).toBe(frames.length);
    expect(b.packetsOut).toBe(0);
    expect((await legA.getStats()).counters.dropCodec).toBe(0);
  });
});

describe('symmetric RTP (RFC 4961)', () => {
  it('latches onto the signalled address; a third party is dropped and counted', async () => {
    await engineWith();
    const { phoneA, phoneB, legA, legB } = await call(PCMU, PCMU);
    const intruder = await phone();
    const latched: unknown[] = [];
    legA.on('latched', (e) => latched.push(e));
    await phoneA.stream(legA.localPort, {
      pt: 0,
      tone: new Tone('PCMU', 1000),
      packets: 50,
      before: (i) => {
        if (i >= 10 && i < 30) intruder.sendRtp(legA.localPort, 0, Buffer.alloc(160, 0x11));
      },
    });
    await waitFor(() => phoneB.rtp.length === 50, 'the 50 packets of phone A');
    await sleep(50);

    expect(latched).toEqual([{ address: '127.0.0.1', port: phoneA.port, signalled: true }]);
    expect(phoneB.rtp).toHaveLength(50);
    expect(phoneB.rtp.some((p) => p.payload[0] === 0x11)).toBe(false);
    expect(new Set(seqSteps(phoneB.rtp))).toEqual(new Set([1]));
    expect(ssrcsOf(phoneB.rtp)).toEqual([legB.ssrc]);
    const stats = await legA.getStats();
    expect(stats.latched).toEqual({ address: '127.0.0.1', port: phoneA.port });
    expect(stats.counters.dropForeign).toBe(20);
    expect(stats.counters.rtpIn).toBe(50);
    expect(intruder.rtp).toHaveLength(0);
  });

  it('a stray packet latched first gives way to the signalled address', async () => {
    // A port just reused while an ended call's phone still sends to it: the stray packet
    // arrives before the real endpoint's first one and latches (within the window). The
    // signalled endpoint must still be heard, and answered, for the rest of the call.
    await engineWith();
    const { phoneA, phoneB, legA, legB } = await call(PCMU, PCMU);
    const stray = await phone();
    const latched: unknown[] = [];
    legA.on('latched', (e) => latched.push(e));
    for (let i = 0; i < 3; i++) stray.sendRtp(legA.localPort, 0, Buffer.alloc(160, 0x11));
    await waitFor(() => latched.length === 1, 'the stray latch');
    await phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 50 });
    await waitFor(
      () => phoneB.rtp.filter((p) => p.payload[0] !== 0x11).length === 50,
      "phone A's 50 packets at B",
    );
    expect(latched).toEqual([
      { address: '127.0.0.1', port: stray.port, signalled: false },
      { address: '127.0.0.1', port: phoneA.port, signalled: true },
    ]);
    const stats = await legA.getStats();
    expect(stats.latched).toEqual({ address: '127.0.0.1', port: phoneA.port });
    expect(stats.counters.dropForeign).toBe(0);
    // The stray cannot take the latch back; B's audio goes to phone A, not to the stray.
    stray.sendRtp(legA.localPort, 0, Buffer.alloc(160, 0x11));
    await phoneB.stream(legB.localPort, { pt: 0, tone: new Tone('PCMU', 440), packets: 10 });
    await waitFor(() => phoneA.rtp.length === 10, 'B → A at the signalled address');
    await sleep(50);
    expect((await legA.getStats()).counters.dropForeign).toBe(1);
    expect(stray.rtp).toHaveLength(0);
  });

  it('behind NAT: latches onto any source within the window, only the signalled one after', async () => {
    const engine = await engineWith({ latchWindowMs: 300 });
    const nowhere = { address: '127.0.0.1', port: 9 };
    const { phoneA, phoneB, legA, legB } = await call({ ...PCMU, remote: nowhere }, PCMU);
    const latchedA: unknown[] = [];
    legA.on('latched', (e) => latchedA.push(e));
    await phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 10 });
    await waitFor(() => phoneB.rtp.length === 10, 'A → B after a NAT latch');
    expect(latchedA).toEqual([{ address: '127.0.0.1', port: phoneA.port, signalled: false }]);
    // B's audio now goes where A's packets came from, not to the signalled address.
    await phoneB.stream(legB.localPort, { pt: 0, tone: new Tone('PCMU', 440), packets: 10 });
    await waitFor(() => phoneA.rtp.length === 10, 'B → A at the latched address');

    // A leg whose window has passed accepts only its signalled address.
    const phoneC = await phone();
    const legC = await createLegFor(engine, phoneC, { ...PCMU, remote: nowhere }, legA.group);
    const latchedC: { signalled: boolean }[] = [];
    legC.on('latched', (e) => latchedC.push(e));
    await sleep(400);
    await phoneC.stream(legC.localPort, { pt: 0, tone: new Tone('PCMU', 440), packets: 5 });
    await sleep(50);
    expect((await legC.getStats()).counters.dropForeign).toBe(5);
    expect(latchedC).toEqual([]);
    await legC.setRemote({ address: '127.0.0.1', port: phoneC.port });
    await phoneC.stream(legC.localPort, { pt: 0, tone: new Tone('PCMU', 440), packets: 5 });
    await waitFor(() => latchedC.length === 1, 'a latch on the signalled address');
    expect(latchedC[0]!.signalled).toBe(true);
    // A new remote address unlatches and reopens the window.
    await legC.setRemote(nowhere);
    await phoneC.stream(legC.localPort, { pt: 0, tone: new Tone('PCMU', 440), packets: 5 });
    await waitFor(() => latchedC.length === 2, 'a new latch after the remote changed');
    expect(latchedC[1]!.signalled).toBe(false);
    await sleep(50);
    expect((await legC.getStats()).counters.rtpIn).toBe(10);
  });
});

describe('robustness', () => {
  it('drops and counts garbage without disturbing the stream', async () => {
    await engineWith();
    const { phoneA, phoneB, legA } = await call(PCMU, PCMU);
    const padZero = Buffer.from([0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 5, 5, 0]);
    const garbage = [
      Buffer.alloc(0),
      Buffer.from([0x80]),
      Buffer.alloc(11, 0x80),
      Buffer.from('INVITE sip:bob@example.com SIP/2.0\r\n'),
      Buffer.concat([Buffer.from([0x40, 0]), Buffer.alloc(170)]), // version 1
      Buffer.concat([Buffer.from([0x8f, 0]), Buffer.alloc(18)]), // 15 CSRCs in 20 bytes
      Buffer.concat([Buffer.from([0x90, 0]), Buffer.alloc(10), Buffer.from([0xbe, 0xde, 0, 99])]),
      padZero, // padding count 0
      Buffer.concat([Buffer.from([0xa0, 0]), Buffer.alloc(20, 0xff)]), // padding past header
      Buffer.from([0x80, 200, 0xff, 0xff, 1, 2, 3, 4]), // "RTCP" with a bad length
    ];
    const unknownPt = Buffer.from([0x80, 13, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x40]); // CN, not negotiated
    await phoneA.stream(legA.localPort, {
      pt: 0,
      tone: new Tone('PCMU', 1000),
      packets: 50,
      before: (i) => {
        if (i % 4 === 1 && i / 4 < garbage.length)
          phoneA.send(garbage[Math.floor(i / 4)]!, legA.localPort);
        if (i === 30) phoneA.send(Buffer.from('junk on the RTCP port'), legA.rtcpPort);
        if (i === 31) phoneA.send(unknownPt, legA.localPort);
      },
    });
    await waitFor(() => phoneB.rtp.length === 50, '50 packets');
    await sleep(50);

    expect(new Set(seqSteps(phoneB.rtp))).toEqual(new Set([1]));
    expect(new Set(tsSteps(phoneB.rtp))).toEqual(new Set([160]));
    expect(hasTone(decode(phoneB.rtp, 'PCMU'), 1000)).toBe(true);
    const { counters } = await legA.getStats();
    expect(counters.dropMalformed).toBe(garbage.length + 1);
    expect(counters.dropPayloadType).toBe(1);
    expect(counters.packetsIn).toBe(50 + garbage.length + 2);
    expect(counters.internalErrors).toBe(0);
  });
});

describe('hold (RFC 3264 directions)', () => {
  it('inactive stops both directions; resuming continues the sequence', async () => {
    await engineWith();
    const { phoneA, phoneB, legA, legB } = await call(PCMU, PCMU);
    await Promise.all([
      phoneA.stream(legA.localPort, {
        pt: 0,
        tone: new Tone('PCMU', 1000),
        packets: 80,
        before: async (i) => {
          if (i === 20) await legA.setDirection('inactive');
          if (i === 50) await legA.setDirection('sendrecv');
        },
      }),
      phoneB.stream(legB.localPort, { pt: 0, tone: new Tone('PCMU', 440), packets: 80 }),
    ]);
    await sleep(100);

    for (const [heard, leg] of [
      [phoneB.rtp, legB],
      [phoneA.rtp, legA],
    ] as const) {
      // Some packets before, a pause of ~600 ms, some after; never a sequence skip.
      expect(heard.length).toBeGreaterThan(40);
      expect(heard.length).toBeLessThan(70);
      expect(new Set(seqSteps(heard))).toEqual(new Set([1]));
      expect(ssrcsOf(heard)).toEqual([leg.ssrc]);
      const gaps = pauses(heard, 300);
      expect(gaps).toHaveLength(1);
      const i = gaps[0]!;
      const pauseMs = heard[i]!.at - heard[i - 1]!.at;
      expect(heard[i]!.marker).toBe(true);
      // The timestamp jumps with the wall clock across the pause (± 2 frames).
      expect(Math.abs(tsSteps(heard)[i - 1]! - pauseMs * 8)).toBeLessThan(320);
      expect(tsSteps(heard).filter((s, k) => k !== i - 1 && s !== 160)).toEqual([]);
    }
    expect(hasTone(decode(phoneB.rtp, 'PCMU'), 1000)).toBe(true);
    expect((await legA.getStats()).counters.dropDirection).toBeGreaterThan(40);
  });

  it('recvonly: the engine stops sending to the leg; sendonly: it stops accepting from it', async () => {
    await engineWith();
    const { phoneA, phoneB, legA, legB } = await call(PCMU, PCMU);
    const both = (): Promise<unknown> =>
      Promise.all([
        phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 10 }),
        phoneB.stream(legB.localPort, { pt: 0, tone: new Tone('PCMU', 440), packets: 10 }),
      ]);
    await legA.setDirection('recvonly');
    await both();
    await waitFor(() => phoneB.rtp.length === 10, 'A → B while A is recvonly');

    await sleep(50); // the last packets of phase 1 are in
    expect(phoneA.rtp).toHaveLength(0);

    await legA.setDirection('sendonly');
    await both();
    await waitFor(() => phoneA.rtp.length === 10, 'B → A while A is sendonly');
    await sleep(50);
    expect(phoneB.rtp).toHaveLength(10);
    expect(legA.direction).toBe('sendonly');
  });
});

describe('DTMF (RFC 4733)', () => {
  it('relays events with the listener’s payload type and reports one digit', async () => {
    await engineWith();
    const { phoneA, phoneB, legA } = await call({ ...PCMU, te: 101 }, { ...PCMU, te: 96 });
    const digits: DtmfEvent[] = [];
    legA.on('dtmf', (d) => digits.push(d));
    await phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 10 });
    await phoneA.sendDigit(legA.localPort, 101, '5', 5);
    await phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 10 });
    await waitFor(() => phoneB.rtp.length === 28, '20 audio and 8 event packets');

    const events = phoneB.rtp.filter((p) => p.pt === 96);
    expect(events).toHaveLength(8);
    expect(phoneB.rtp.filter((p) => p.pt === 0)).toHaveLength(20);
    expect(new Set(events.map((p) => p.ts)).size).toBe(1);
    expect(events.map((p) => p.marker)).toEqual([
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(events.every((p) => p.payload[0] === 5)).toBe(true);
    expect(events.map((p) => (p.payload[1]! & 0x80) !== 0)).toEqual([
      ...Array(5).fill(false),
      ...Array(3).fill(true),
    ]);
    expect(new Set(seqSteps(phoneB.rtp))).toEqual(new Set([1]));
    await waitFor(() => digits.length > 0, 'the dtmf event');
    await sleep(50);
    expect(digits).toEqual([
      { legId: legA.id, digit: '5', event: 5, durationMs: 100, volume: 10, ended: 'end' },
    ]);
  });

  it('drops events toward a leg without telephone-event, and consumed DTMF; reports both', async () => {
    await engineWith();
    const one = await call({ ...PCMU, te: 101 }, PCMU);
    const two = await call({ ...PCMU, te: 101, forwardDtmf: false }, { ...PCMU, te: 101 });
    const digits: string[] = [];
    one.legA.on('dtmf', (d) => digits.push(`one:${d.digit}`));
    two.legA.on('dtmf', (d) => digits.push(`two:${d.digit}`));
    await Promise.all([
      one.phoneA.sendDigit(one.legA.localPort, 101, '#', 3),
      two.phoneA.sendDigit(two.legA.localPort, 101, '7', 3),
    ]);
    await waitFor(() => digits.length === 2, 'two digits');
    await sleep(50);
    expect(digits.sort()).toEqual(['one:#', 'two:7']);
    expect(one.phoneB.rtp).toHaveLength(0);
    expect(two.phoneB.rtp).toHaveLength(0);
    expect((await one.legB.getStats()).counters.dropDtmf).toBe(6);
    expect((await two.legA.getStats()).counters.dropDtmf).toBe(6);
  });
});

describe('media timeout', () => {
  it('fires when RTP stops, or never starts once the leg is in a route', async () => {
    const engine = await engineWith({ rtpTimeoutMs: 300, sweepIntervalMs: 20 });
    const { phoneA, legA, legB } = await call(PCMU, PCMU);
    const lonely = await engine.createLeg({ codecs: [{ name: 'PCMU', payloadType: 0 }] });
    const seen: string[] = [];
    for (const [name, leg] of [
      ['A', legA],
      ['B', legB],
      ['lonely', lonely],
    ] as const) {
      leg.on('rtpTimeout', (e) => {
        expect(e.silentMs).toBeGreaterThanOrEqual(300);
        seen.push(`${name}:${e.reason}`);
      });
    }
    await phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 25 });
    expect(seen).toEqual(['B:no-media']); // B was armed when connected, and never sent
    await sleep(500);
    expect(seen).toEqual(['B:no-media', 'A:media-stopped']);
    // RTP that resumes re-arms it.
    await phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 5 });
    await sleep(500);
    expect(seen).toEqual(['B:no-media', 'A:media-stopped', 'A:media-stopped']);
  });

  it('arms a routed leg only once it knows its endpoint (the callee answered)', async () => {
    const engine = await engineWith({ rtpTimeoutMs: 300, sweepIntervalMs: 20 });
    const caller = await phone();
    const legA = await createLegFor(engine, caller, PCMU, 'ringing');
    const legB = await engine.createLeg({
      codecs: [{ name: 'PCMU', payloadType: 0 }],
      group: 'ringing',
    });
    await legB.setSources([legA]); // early routing, the callee still rings
    const seen: string[] = [];
    legB.on('rtpTimeout', (e) => seen.push(`B:${e.reason}`));
    await sleep(500);
    expect(seen).toEqual([]);
    await legB.setRemote({ address: '127.0.0.1', port: caller.port }); // the answer
    await sleep(500);
    expect(seen).toEqual(['B:no-media']);
  });

  it('stops the clock while the leg refuses media (hold), restarts it on resume', async () => {
    await engineWith({ rtpTimeoutMs: 300, sweepIntervalMs: 20 });
    const { legA, legB } = await call(PCMU, PCMU);
    await Promise.all([legA.setDirection('sendonly'), legB.setDirection('inactive')]);
    const seen: string[] = [];
    legA.on('rtpTimeout', (e) => seen.push(`A:${e.reason}`));
    legB.on('rtpTimeout', (e) => seen.push(`B:${e.reason}`));
    await sleep(500);
    expect(seen).toEqual([]);
    await legB.setDirection('sendrecv');
    await sleep(150);
    expect(seen).toEqual([]);
    await sleep(350);
    expect(seen).toEqual(['B:no-media']);
  });
});

describe('RTCP (RFC 3550 §6)', () => {
  it('sends SR/RR + SDES to the endpoint and reads its reports into the stats', async () => {
    const { parseRtcpCompound } = await import('../../../media/rtcp/parseRtcp.js');
    const { writeReceiverReport, writeSdesCname, encodeCname } =
      await import('../../../media/rtcp/buildRtcp.js');
    const { ntpCompact } = await import('../../../media/rtcp/ntp.js');
    await engineWith({ rtcpIntervalMs: 200 });
    const rtcpPhone = await phone();
    const { phoneA, phoneB, legA, legB } = await call(PCMU, PCMU);
    await legA.setRemote({ address: '127.0.0.1', port: phoneA.port, rtcpPort: rtcpPhone.port });
    await Promise.all([
      phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 50 }),
      phoneB.stream(legB.localPort, { pt: 0, tone: new Tone('PCMU', 440), packets: 50 }),
    ]);
    await waitFor(() => rtcpPhone.rtcp.length >= 2, 'two reports from leg A');

    const reports = rtcpPhone.rtcp.map((b) => parseRtcpCompound(b));
    const last = reports[reports.length - 1]!;
    if (!last.ok) throw new Error(`bad RTCP from the engine: ${last.error}`);
    const [sr, sdes] = last.packets;
    if (sr?.type !== 'sr') throw new Error(`expected an SR first, got ${sr?.type}`);
    expect(sr.ssrc).toBe(legA.ssrc);
    expect(sr.packetCount).toBeGreaterThan(0);
    expect(sr.octetCount).toBe(sr.packetCount * 160);
    expect(sr.reports).toHaveLength(1);
    expect(sr.reports[0]).toMatchObject({ ssrc: phoneA.ssrc, cumulativeLost: 0 });
    expect(sdes?.type).toBe('sdes');

    // The phone answers with an RR on leg A's stream: 25 % lost, jitter 80 units (10 ms).
    const rr = Buffer.alloc(64);
    const block = {
      ssrc: legA.ssrc,
      fractionLost: 64,
      cumulativeLost: 12,
      highestSequence: 1000,
      jitter: 80,
      lastSr: ntpCompact(sr.ntpSeconds, sr.ntpFraction),
      delaySinceLastSr: 0,
    };
    let n = writeReceiverReport(rr, 0, phoneA.ssrc, [block]);
    n += writeSdesCname(rr, n, phoneA.ssrc, encodeCname('phone-a@test'));
    rtcpPhone.send(rr.subarray(0, n), legA.rtcpPort);
    // … and the same multiplexed on the RTP port (RFC 5761), from the RTP source.
    phoneA.send(rr.subarray(0, n), legA.localPort);
    await sleep(100);
    const stats = await legA.getStats();
    expect(stats.counters.rtcpIn).toBe(2);
    // RTCP is not RTP: the count a loss ratio divides by holds phone A's 50 packets only.
    expect(stats.counters.rtpIn).toBe(50);
    expect(stats.remoteReport).toMatchObject({
      fractionLost: 0.25,
      cumulativeLost: 12,
      jitterMs: 10,
    });
    expect(stats.remoteReport!.rttMs).toBeGreaterThanOrEqual(0);
    expect(stats.remoteReport!.rttMs).toBeLessThan(1000);
    expect(stats.inbound).toMatchObject({ ssrc: phoneA.ssrc, lost: 0 });
    expect(stats.inbound!.received).toBeGreaterThanOrEqual(49);
  });

  it('a leg that sent RTP says BYE when it closes; one that never sent a packet stays silent (§6.3.7)', async () => {
    const { parseRtcpCompound } = await import('../../../media/rtcp/parseRtcp.js');
    await engineWith(); // reports every 5 s: none before the closes below
    const [rtcpA, rtcpB] = [await phone(), await phone()];
    const { phoneA, phoneB, legA, legB } = await call(PCMU, PCMU);
    await legA.setRemote({ address: '127.0.0.1', port: phoneA.port, rtcpPort: rtcpA.port });
    await legB.setRemote({ address: '127.0.0.1', port: phoneB.port, rtcpPort: rtcpB.port });
    // Phone A talks, phone B does not: leg B sends RTP to phone B, leg A sends nothing.
    await phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 10 });
    await waitFor(() => phoneB.rtp.length === 10, '10 packets at phone B');
    await Promise.all([legA.close(), legB.close()]);
    await waitFor(() => rtcpB.rtcp.length === 1, "leg B's BYE");
    await sleep(100);

    const bye = parseRtcpCompound(rtcpB.rtcp[0]!);
    if (!bye.ok) throw new Error(`bad RTCP from the engine: ${bye.error}`);
    expect(bye.packets.map((p) => p.type)).toEqual(['sr', 'sdes', 'bye']);
    expect(bye.packets[0]).toMatchObject({ ssrc: legB.ssrc, packetCount: 10 });
    expect(rtcpA.rtcp).toEqual([]);
    expect(phoneA.rtcp).toEqual([]);
  });

  it('RTCP before the leg knows its endpoint is early, not foreign; read once RTP latches', async () => {
    const { writeReceiverReport, writeSdesCname, encodeCname } =
      await import('../../../media/rtcp/buildRtcp.js');
    const engine = await engineWith({ latchWindowMs: 500 });
    const { phoneA, phoneB, legA } = await call(PCMU, PCMU);
    // The callee before its answer: no remote address yet, the latch window open.
    await legA.setRemote(null);
    const rr = (fractionLost: number): Buffer => {
      const buf = Buffer.alloc(64);
      const block = {
        ssrc: legA.ssrc,
        fractionLost,
        cumulativeLost: 3,
        highestSequence: 10,
        jitter: 8,
        lastSr: 0,
        delaySinceLastSr: 0,
      };
      let n = writeReceiverReport(buf, 0, phoneA.ssrc, [block]);
      n += writeSdesCname(buf, n, phoneA.ssrc, encodeCname('phone-a@test'));
      return buf.subarray(0, n);
    };
    phoneA.send(rr(64), legA.rtcpPort);
    phoneA.send(rr(64), legA.localPort); // multiplexed (RFC 5761)
    await sleep(50);
    let stats = await legA.getStats();
    expect(stats.counters).toMatchObject({ dropEarlyRtcp: 2, dropForeign: 0, rtcpIn: 0 });
    expect(stats.remoteReport).toBeNull();
    expect(stats.latched).toBeNull();

    // RTP latches (RFC 4961); the endpoint's next report is read.
    await phoneA.stream(legA.localPort, { pt: 0, tone: new Tone('PCMU', 1000), packets: 5 });
    await waitFor(() => phoneB.rtp.length === 5, 'A → B after the latch');
    phoneA.send(rr(128), legA.rtcpPort);
    await sleep(50);
    stats = await legA.getStats();
    expect(stats.latched).toEqual({ address: '127.0.0.1', port: phoneA.port });
    expect(stats.counters).toMatchObject({ dropEarlyRtcp: 2, dropForeign: 0, rtcpIn: 1 });
    expect(stats.remoteReport).toMatchObject({ fractionLost: 0.5, cumulativeLost: 3 });

    // A leg whose window passed without a latch or a remote: RTCP is foreign, as RTP is.
    const phoneC = await phone();
    const legC = await createLegFor(engine, phoneC, PCMU, legA.group);
    await legC.setRemote(null);
    await sleep(600);
    phoneC.send(rr(64), legC.rtcpPort);
    phoneC.sendRtp(legC.localPort, 0, Buffer.alloc(160, 0xff));
    await sleep(50);
    expect((await legC.getStats()).counters).toMatchObject({
      dropEarlyRtcp: 0,
      dropForeign: 2,
      rtcpIn: 0,
    });
  });
});
