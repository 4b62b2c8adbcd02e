/**
 * Ten thousand calls through one engine, in waves: every leg's sockets, the native io's
 * routes (the relay fast path carries some of the calls' packets) and whatever else a call
 * holds are given back when its legs close. Counted in /proc: the UDP sockets of the
 * engine's port range after each wave, and the process's file descriptors and threads
 * after the last wave and after the engine closes, against the counts before.
 */
import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Leg } from '../../../media/engine/leg.js';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import { startEngine } from './engineFixture.js';
import { FakePhone, Tone, waitFor } from './fakePhone.js';
import { ownUdpPortsIn, ownUdpSocketCount } from './udpSockets.js';

const CALLS = 10_000;
const WAVE = 250;
/** One call in this many carries packets both ways before it ends. */
const TALKING_EVERY = 10;
const PACKETS = 4;

let engine: MediaEngine | undefined;
const phones: FakePhone[] = [];

afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await Promise.all(phones.splice(0).map((p) => p.close()));
});

interface Counts {
  fds: number;
  threads: number;
  udp: number;
}

function counts(): Counts {
  return {
    fds: readdirSync('/proc/self/fd').length,
    threads: readdirSync('/proc/self/task').length,
    udp: ownUdpSocketCount(),
  };
}

const codecs = () => [{ name: 'PCMU' as const, payloadType: 0 }];

/** One call: two legs signalled to the phones, connected both ways. */
async function call(e: MediaEngine, a: FakePhone, b: FakePhone, n: number): Promise<[Leg, Leg]> {
  const group = `many-${n}`;
  const legA = await e.createLeg({
    codecs: codecs(),
    remote: { address: '127.0.0.1', port: a.port },
    group,
    callId: group,
  });
  const legB = await e.createLeg({
    codecs: codecs(),
    remote: { address: '127.0.0.1', port: b.port },
    group,
    callId: group,
  });
  await e.connect(legA, legB);
  return [legA, legB];
}

describe('ten thousand calls', () => {
  it('leave no socket, descriptor or thread behind', async () => {
    // A first engine and call bring up what the process creates once and keeps (libuv's
    // thread pool, the addon's code), so the counts below compare like with like.
    const warm = await startEngine({ workers: 2, statsIntervalMs: 0 }, 4);
    const [pa, pb] = await Promise.all([FakePhone.open(), FakePhone.open()]);
    await call(warm.engine, pa, pb, -1);
    await warm.engine.close();
    await Promise.all([pa.close(), pb.close()]);

    const before = counts();
    const fixture = await startEngine({ workers: 2, statsIntervalMs: 0 }, WAVE * 2 + 8);
    engine = fixture.engine;
    const [phoneA, phoneB] = await Promise.all([FakePhone.open(), FakePhone.open()]);
    phones.push(phoneA, phoneB);
    const tone = new Tone('PCMU', 1000);
    let expectedAtA = 0;
    let expectedAtB = 0;

    // A first wave with packets on every worker: what an io opens once and keeps for its
    // life (its batched-send ring) exists before the counts the waves are held to.
    const firstWave = await Promise.all(
      Array.from({ length: 8 }, (_, i) => call(fixture.engine, phoneA, phoneB, -2 - i)),
    );
    for (const [legA, legB] of firstWave) {
      phoneA.sendRtp(legA.localPort, 0, tone.frame());
      phoneB.sendRtp(legB.localPort, 0, tone.frame());
    }
    expectedAtA += firstWave.length;
    expectedAtB += firstWave.length;
    await waitFor(
      () => phoneA.rtp.length >= expectedAtA && phoneB.rtp.length >= expectedAtB,
      'the first wave relayed',
      10000,
    );
    const warmStats = await fixture.engine.getStats();
    expect(warmStats.map((s) => s.worker.counters.packetsOut > 0)).toEqual([true, true]);
    await Promise.all(firstWave.flat().map((leg) => leg.close()));
    const open = counts();
    const t0 = performance.now();

    for (let first = 0; first < CALLS; first += WAVE) {
      const wave = await Promise.all(
        Array.from({ length: WAVE }, (_, i) => call(fixture.engine, phoneA, phoneB, first + i)),
      );
      const talking = wave.filter((_, i) => (first + i) % TALKING_EVERY === 0);
      for (let p = 0; p < PACKETS; p++) {
        for (const [legA, legB] of talking) {
          phoneA.sendRtp(legA.localPort, 0, tone.frame());
          phoneB.sendRtp(legB.localPort, 0, tone.frame());
        }
      }
      expectedAtA += talking.length * PACKETS;
      expectedAtB += talking.length * PACKETS;
      // Relayed, so the routes (the fast path's included) were in use when the legs close.
      await waitFor(
        () => phoneA.rtp.length >= expectedAtA * 0.99 && phoneB.rtp.length >= expectedAtB * 0.99,
        `wave ${first / WAVE}: relayed packets (${phoneA.rtp.length}, ${phoneB.rtp.length} of ${expectedAtA})`,
        10000,
      );
      await Promise.all(wave.flat().map((leg) => leg.close()));
      expect({
        wave: first / WAVE,
        ports: ownUdpPortsIn(fixture.portMin, fixture.portMax),
      }).toEqual({ wave: first / WAVE, ports: [] });
    }
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(
      `many calls: ${CALLS} calls in ${seconds.toFixed(1)} s; relayed ${phoneA.rtp.length + phoneB.rtp.length} packets\n`,
    );

    // Every call gone: the engine holds what it held with no call.
    const stats = await fixture.engine.getStats();
    expect(stats.reduce((n, s) => n + s.worker.legs, 0)).toBe(0);
    expect(counts()).toEqual(open);

    await fixture.engine.close();
    engine = undefined;
    await Promise.all(phones.splice(0).map((p) => p.close()));
    expect(counts()).toEqual(before);
  }, 240000);
});
