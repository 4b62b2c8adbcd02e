/**
 * The relay fast path keeps a source's order while its route is taken back and set again
 * under a busy JavaScript thread (media/worker/fastRelay.ts, native/event_thread.cc): the
 * event thread goes on reading while JavaScript drains the other half of the arena, so a
 * route set while a datagram of its source is still on its way to JavaScript, or kept
 * after it left one to JavaScript, would relay the next datagram ahead of it. The
 * listener must see the source's packets in the order they were sent (RFC 3550: a relay
 * does not reorder). Real UDP on 127.0.0.1; the source sends from a thread of its own,
 * so it keeps sending while the test's thread is busy.
 */
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from '@jest/globals';
import { NativePacketIo } from '../../../../media/io/nativePacketIo.js';
import { HOST, Harness, evenPort } from './workerHarness.js';

/**
 * What the run must cover before the source stops: this many packets relayed by the fast
 * path and this many rounds of the route taken back. How many packets that takes depends
 * on the machine's speed, so the source sends until told to stop (at most MAX_PACKETS).
 */
const COVER_RELAYED = 750;
const COVER_ROUNDS = 50;
/** Packets the route carries between two rounds of taking it back. */
const RELAYS_PER_ROUND = 16;
const MAX_PACKETS = 30000;

/**
 * Sends RTP packets (PCMU, seq 0..) to `port`, one every ~0.5 ms, from its own thread, until
 * `stop[0]` is set or `max` were sent; then reports how many it sent.
 */
const SENDER = `
const dgram = require('node:dgram');
const { workerData, parentPort } = require('node:worker_threads');
const s = dgram.createSocket('udp4');
const sab = new Int32Array(new SharedArrayBuffer(4));
const stop = new Int32Array(workerData.stop);
s.bind(0, '127.0.0.1', async () => {
  let i = 0;
  for (; i < workerData.max && Atomics.load(stop, 0) === 0; i++) {
    const b = Buffer.alloc(12 + 160, 0xff);
    b[0] = 0x80; b[1] = 0;
    b.writeUInt16BE(i & 0xffff, 2);
    b.writeUInt32BE((i * 160) >>> 0, 4);
    b.writeUInt32BE(0x5eed0001, 8);
    b.writeUInt32BE(i, 12); // the packet's number, read back by the listener
    await new Promise((r) => s.send(b, workerData.port, '127.0.0.1', r));
    if (i % 2 === 1) Atomics.wait(sab, 0, 0, 1);
  }
  s.close(() => parentPort.postMessage(i));
});
`;

function bind(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(port, HOST, () => resolve(s));
  });
}

describe('relay fast path order', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('relays a source in order while its route comes and goes under a busy thread', async () => {
    const h = new Harness(new NativePacketIo());
    cleanups.push(() => h.core.close());
    // The listener's phone: what it receives, in arrival order (the packet's number).
    const listenerPort = await evenPort();
    const listener = await bind(listenerPort);
    cleanups.push(() => new Promise<void>((r) => listener.close(() => r())));
    const got: number[] = [];
    listener.on('message', (b) => got.push(b.readUInt32BE(12)));
    const sourcePort = await h.leg(1, 9, 101); // latches onto the sender's own port
    await h.leg(2, listenerPort, 101);
    await h.run({ type: 'setSources', legId: 2, sources: [1] });

    const stop = new Int32Array(new SharedArrayBuffer(4));
    const sender = new Worker(SENDER, {
      eval: true,
      workerData: { port: sourcePort, max: MAX_PACKETS, stop: stop.buffer },
    });
    cleanups.push(async () => void (await sender.terminate()));
    const done = new Promise<number>((resolve) => sender.once('message', resolve));
    let finished = false;
    void done.then(() => (finished = true));
    const relayedSoFar = async () => (await h.stats()).worker.fastRelay?.packets ?? 0;
    // The thread is busy for 3 ms at a time (the event thread fills and holds the other
    // half meanwhile). Once the route has carried RELAYS_PER_ROUND more packets, a command
    // takes it back: JavaScript sets it again after the next datagrams, often while the
    // held half has some. Rounds are paced by what the route carried, not by time, so each
    // has the route up and relaying however fast or loaded the machine is.
    let round = 0;
    let relayedAtRound = 0;
    while (!finished) {
      const until = performance.now() + 3;
      while (performance.now() < until) {
        // busy
      }
      const relayedNow = await relayedSoFar();
      if (relayedNow - relayedAtRound >= RELAYS_PER_ROUND) {
        await h.run({ type: 'setSources', legId: 2, sources: [1] });
        round++;
        relayedAtRound = relayedNow;
        if (round > COVER_ROUNDS && relayedNow > COVER_RELAYED) Atomics.store(stop, 0, 1);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    const sent = await done;
    await new Promise((r) => setTimeout(r, 100));
    const relayed = await relayedSoFar();

    const backwards = got.filter((n, i) => i > 0 && n < got[i - 1]!).length;
    // The fast path carried much of it, and the route came and went many times.
    expect(relayed).toBeGreaterThan(COVER_RELAYED);
    expect(round).toBeGreaterThan(COVER_ROUNDS);
    expect(got.length).toBeGreaterThan(sent * 0.9);
    expect({ backwards }).toEqual({ backwards: 0 });
  }, 60000);
});
