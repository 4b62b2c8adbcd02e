/**
 * Side b's WebRTC candidate (docs/architecture.md §3.2.2): a second leg beside a plain leg
 * b while a callee's browser and phone contacts ring. The fork that answers decides which
 * stays (settle), and whatever is let go of, or still being made when the media closes, is
 * closed. The same for a blind transfer's spare legs (§9.3), on either side: the one
 * adopted replaces the side's leg, the others close. The engine is a fake whose legs count their closes and whose secureLeg the test
 * can hold or fail.
 */
import { describe, expect, it } from '@jest/globals';
import type { Leg, LegEvents, MediaEngine } from '../../../../media/engine/index.js';
import { CallMedia } from '../../../../src/calls/callMedia.js';
import { createLogger } from '../../../../src/logging.js';
import { TypedEmitter } from '../../../../sip/util/typedEmitter.js';

class FakeLeg extends TypedEmitter<LegEvents> {
  closed = false;
  closes = 0;
  readonly localAddress = '127.0.0.1';
  readonly ssrc = 1234;
  constructor(
    readonly id: number,
    readonly localPort: number,
    private readonly secureHook: () => Promise<void>,
  ) {
    super(() => undefined);
  }
  secure(): Promise<void> {
    return this.secureHook();
  }
  async close(): Promise<void> {
    this.closes++;
    this.closed = true;
  }
}

function scene(secureHook: () => Promise<void> = async () => undefined) {
  const legs: FakeLeg[] = [];
  const routes: number[][] = [];
  const engine = {
    async createLeg() {
      const leg = new FakeLeg(legs.length + 1, 40000 + 2 * legs.length, secureHook);
      legs.push(leg);
      return leg as unknown as Leg;
    },
    async createRoom() {
      return {
        async setRoutes(spec: { members: Array<{ leg: Leg }> }) {
          routes.push(spec.members.map((m) => (m.leg as unknown as FakeLeg).id));
        },
        close: async () => null,
      };
    },
    async dtlsIdentity() {
      return {
        certificate: { certPem: 'c', keyPem: 'k' },
        fingerprint: { algorithm: 'sha-256', value: 'AB:CD' },
      };
    },
  } as unknown as MediaEngine;
  return { engine, legs, routes };
}

const create = (engine: MediaEngine) =>
  CallMedia.create(engine, 'call-1', ['PCMU'], createLogger('silent'));

describe('a WebRTC candidate beside a plain leg b', () => {
  it('browsers are offered the candidate, phones leg b; a browser answering makes it leg b', async () => {
    const { engine, legs, routes } = scene();
    const media = await create(engine);
    expect(media.anchorFor('browser')).toBe('plain'); // none yet: what today's code offered
    await media.addWebRtcCandidate();
    const [, plainB, candidate] = legs as [FakeLeg, FakeLeg, FakeLeg];
    expect(media.anchorFor('browser')).toBe('webrtc');
    expect(media.anchorFor('phone')).toBe('plain');
    expect(media.offerSide('plain', '127.0.0.1')).toEqual({ port: plainB.localPort });
    const browserSide = media.offerSide('webrtc', '127.0.0.1');
    expect(browserSide.port).toBe(candidate.localPort);
    expect(browserSide.webrtc?.fingerprint.value).toBe('AB:CD');
    expect(browserSide.webrtc?.candidates).toEqual([
      { address: '127.0.0.1', port: candidate.localPort },
    ]);

    // Early media had put the plain leg in the room: the routes follow the new leg.
    await media.connect();
    media.settle('webrtc');
    expect(media.localPort('b')).toBe(candidate.localPort);
    expect(media.isWebRtc('b')).toBe(true);
    expect(media.anchorOfB).toBe('webrtc');
    const timeouts: string[] = [];
    media.on('timeout', (side) => timeouts.push(side));
    plainB.emit('rtpTimeout', { reason: 'no-rtp', silentMs: 1 } as never);
    candidate.emit('rtpTimeout', { reason: 'no-rtp', silentMs: 1 } as never);
    expect(timeouts).toEqual(['b']); // the leg let go of speaks for nobody
    await new Promise((r) => setImmediate(r));
    expect(routes.at(-1)).toEqual([legs[0]!.id, candidate.id]);
    expect(plainB.closes).toBe(1); // closed once the routes left it
    await media.close();
    expect(legs.every((l) => l.closed)).toBe(true);
  });

  it('a phone answering closes the candidate at once, and leg b stays', async () => {
    const { engine, legs } = scene();
    const media = await create(engine);
    await media.addWebRtcCandidate();
    const [, plainB, candidate] = legs as [FakeLeg, FakeLeg, FakeLeg];
    media.settle('plain');
    await Promise.resolve();
    expect(candidate.closed).toBe(true);
    expect(plainB.closed).toBe(false);
    expect(media.localPort('b')).toBe(plainB.localPort);
    expect(media.anchorFor('browser')).toBe('plain');
    await media.close();
    expect(legs.every((l) => l.closed)).toBe(true);
  });

  it('no answer at all (CANCEL, every fork failed): close() closes the candidate too', async () => {
    const { engine, legs } = scene();
    const media = await create(engine);
    await media.addWebRtcCandidate();
    await media.close();
    expect(legs).toHaveLength(3);
    expect(legs.every((l) => l.closed)).toBe(true);
  });

  it('closed while the candidate is being made: close() waits for it and closes it', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const { engine, legs } = scene(() => held);
    const media = await create(engine);
    const making = media.addWebRtcCandidate();
    await new Promise((r) => setImmediate(r));
    expect(legs).toHaveLength(3);
    const closing = media.close();
    release();
    await closing;
    await making;
    expect(legs.every((l) => l.closed)).toBe(true);
    expect(media.anchorFor('browser')).toBe('plain');
  });

  it('a failed secureLeg closes the leg it made and rejects; a later call tries again', async () => {
    let fail = true;
    const { engine, legs } = scene(async () => {
      if (fail) throw new Error('no werift');
    });
    const media = await create(engine);
    await expect(media.addWebRtcCandidate()).rejects.toThrow('no werift');
    expect(legs[2]!.closed).toBe(true);
    expect(media.anchorFor('browser')).toBe('plain');
    fail = false;
    await media.addWebRtcCandidate();
    expect(media.anchorFor('browser')).toBe('webrtc');
    await media.close();
    expect(legs.every((l) => l.closed)).toBe(true);
  });

  it('leg b already WebRTC (only browsers): no candidate is made', async () => {
    const { engine, legs } = scene();
    const media = await create(engine);
    await media.makeWebRtc('b');
    await media.addWebRtcCandidate();
    expect(legs).toHaveLength(2);
    expect(media.anchorFor('phone')).toBe('webrtc');
    await media.close();
  });
});

describe("a transfer's spare legs beside a side's leg", () => {
  it('a plain spare adopted on side b of a WebRTC leg: leg b is plain, the old leg closes', async () => {
    const { engine, legs, routes } = scene();
    const media = await create(engine);
    await media.makeWebRtc('b');
    await media.connect();
    const spare = await media.addSpare('plain');
    const [customer, webrtcB, plain] = legs as [FakeLeg, FakeLeg, FakeLeg];
    expect(spare.port).toBe(plain.localPort);
    expect(spare.webRtcIdentity('127.0.0.1')).toBeUndefined();
    expect(routes.at(-1)).toEqual([customer.id, webrtcB.id]); // not in the room before
    media.adoptSpare('b', spare);
    expect(media.localPort('b')).toBe(plain.localPort);
    expect(media.isWebRtc('b')).toBe(false);
    expect(media.webRtcIdentity('b', '127.0.0.1')).toBeUndefined();
    const timeouts: string[] = [];
    media.on('timeout', (side) => timeouts.push(side));
    webrtcB.emit('rtpTimeout', { reason: 'no-rtp', silentMs: 1 } as never);
    plain.emit('rtpTimeout', { reason: 'no-rtp', silentMs: 1 } as never);
    expect(timeouts).toEqual(['b']);
    await new Promise((r) => setImmediate(r));
    expect(routes.at(-1)).toEqual([customer.id, plain.id]);
    expect(webrtcB.closes).toBe(1);
    await media.close();
    expect(legs.every((l) => l.closed)).toBe(true);
  });

  it('a WebRTC spare adopted on side a: side a is WebRTC on the new leg', async () => {
    const { engine, legs } = scene();
    const media = await create(engine);
    const spare = await media.addSpare('webrtc');
    const [plainA, , webrtc] = legs as [FakeLeg, FakeLeg, FakeLeg];
    expect(spare.webRtcIdentity('127.0.0.1')?.candidates).toEqual([
      { address: '127.0.0.1', port: webrtc.localPort },
    ]);
    media.adoptSpare('a', spare);
    expect(media.isWebRtc('a')).toBe(true);
    expect(media.webRtcIdentity('a', '127.0.0.1')?.fingerprint.value).toBe('AB:CD');
    expect(media.localPort('a')).toBe(webrtc.localPort);
    await new Promise((r) => setImmediate(r));
    expect(plainA.closes).toBe(1);
    // Adopted once: a second adoption or a drop of it changes nothing.
    media.adoptSpare('b', spare);
    media.dropSpare(spare);
    expect(webrtc.closed).toBe(false);
    await media.close();
    expect(legs.every((l) => l.closes === 1)).toBe(true);
  });

  it('dropped spares close at once; those left, and one being made, close with the media', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let hold = false;
    const { engine, legs } = scene(() => (hold ? held : Promise.resolve()));
    const media = await create(engine);
    const dropped = await media.addSpare('plain');
    media.dropSpare(dropped);
    await Promise.resolve();
    expect(legs[2]!.closed).toBe(true);
    await media.addSpare('plain'); // never adopted
    hold = true;
    const making = media.addSpare('webrtc');
    await new Promise((r) => setImmediate(r));
    expect(legs).toHaveLength(5);
    const closing = media.close();
    release();
    await closing;
    await expect(making).rejects.toThrow('closed');
    expect(legs.every((l) => l.closes === 1)).toBe(true);
    await expect(media.addSpare('plain')).rejects.toThrow('closed');
    expect(legs).toHaveLength(5);
  });
});
