/**
 * What the native packet io does beyond the seam's contract (packetIoContract.test.ts):
 * it batches the datagrams of a port that arrive while JavaScript is busy, hands out one
 * string per recurring source, drops and counts what does not fit a slot, keeps
 * delivering to other pairs under a flood, counts refused sends, frees every fd and
 * thread it opened, and loads in several worker threads at once, cleaning up when they
 * exit without closing it.
 */
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from '@jest/globals';
import { loadNativeAddon } from '../../../../media/io/nativeBinding.js';
import { NativePacketIo, SLOT_BYTES, formatIPv6 } from '../../../../media/io/nativePacketIo.js';
import { CHANNEL_RTP } from '../../../../media/io/packetIo.js';
import type { PacketBatch, PortPair } from '../../../../media/io/packetIo.js';
import { allocatePortBlock } from '../../../helpers/ports.js';

const HOST = '127.0.0.1';

async function evenPort(): Promise<number> {
  const first = await allocatePortBlock(5);
  return first % 2 === 0 ? first : first + 1;
}

function peerSocket(): Promise<Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => s.bind(0, HOST, () => resolve(s)));
}

function closeSocket(s: Socket): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}

async function until(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Blocks this thread for `ms` (so datagrams pile up in the kernel meanwhile). */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

interface Seen {
  counts: number[];
  payloads: number[];
  addresses: string[];
}

function watch(pair: PortPair): Seen {
  const seen: Seen = { counts: [], payloads: [], addresses: [] };
  const take = (batch: PacketBatch): void => {
    seen.counts.push(batch.count);
    for (let i = 0; i < batch.count; i++) {
      seen.payloads.push(batch.buffers[i]![0]!);
      seen.addresses.push(batch.addresses[i]!);
    }
  };
  pair.receive({ rtp: take, rtcp: take, error: () => {} });
  return seen;
}

const openFds = (): number => readdirSync('/proc/self/fd').length;
const threads = (): number => readdirSync('/proc/self/task').length;

describe('NativePacketIo', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function setup(): Promise<{ io: NativePacketIo; pair: PortPair; peer: Socket }> {
    const io = new NativePacketIo();
    cleanup.push(() => io.close());
    const pair = await io.bindPair(HOST, await evenPort());
    const peer = await peerSocket();
    cleanup.push(() => closeSocket(peer));
    return { io, pair, peer };
  }

  it('delivers what piled up while JavaScript was busy in batches, in order', async () => {
    const { io, pair } = await setup();
    const seen = watch(pair);
    // Sent at once (flush) while this thread stays busy: the event thread hands over at
    // most one batch before JavaScript is free.
    const sender = await io.bindPair(HOST, await evenPort());
    for (let i = 0; i < 20; i++) sender.send(CHANNEL_RTP, Buffer.from([i]), 0, 1, pair.port, HOST);
    io.flush();
    busy(20);
    await until('20 datagrams', () => seen.payloads.length === 20);
    expect(seen.payloads).toEqual([...Array(20).keys()]);
    expect(Math.max(...seen.counts)).toBeGreaterThan(1);
    // One string for the recurring source, not one per datagram.
    expect(new Set(seen.addresses)).toEqual(new Set([HOST]));
    expect(seen.addresses.every((a) => a === seen.addresses[0])).toBe(true);
  });

  it('drops and counts a datagram larger than a slot; a zero-length one is delivered', async () => {
    const { pair, peer } = await setup();
    const seen = watch(pair);
    peer.send(Buffer.alloc(SLOT_BYTES + 1, 7), pair.port, HOST);
    peer.send(Buffer.alloc(0), pair.port, HOST);
    peer.send(Buffer.from([42]), pair.port, HOST);
    await until('the datagram after them', () => seen.payloads.includes(42));
    expect(pair.counters).toMatchObject({ datagramsIn: 3, receiveErrors: 1 });
    expect(seen.counts.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('keeps delivering to a quiet pair while another port is flooded', async () => {
    const io = new NativePacketIo();
    cleanup.push(() => io.close());
    const flooded = await io.bindPair(HOST, await evenPort());
    const quiet = await io.bindPair(HOST, await evenPort());
    const floodSeen = watch(flooded);
    const quietSeen = watch(quiet);
    const sender = await io.bindPair(HOST, await evenPort());
    const junk = Buffer.alloc(1200, 0xff);
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 500; i++)
        sender.send(CHANNEL_RTP, junk, 0, junk.length, flooded.port, HOST);
      sender.send(CHANNEL_RTP, Buffer.from([round]), 0, 1, quiet.port, HOST);
      await new Promise((r) => setTimeout(r, 10));
    }
    await until('the quiet pair’s 10 datagrams', () => quietSeen.payloads.length === 10);
    expect(quietSeen.payloads).toEqual([...Array(10).keys()]);
    expect(floodSeen.payloads.length).toBeGreaterThan(0);
  });

  it('counts a send the kernel refuses, and one to an address it cannot send to', async () => {
    const { pair } = await setup();
    pair.send(CHANNEL_RTP, Buffer.alloc(10), 0, 10, 9, '::1'); // IPv6 from an IPv4 socket
    pair.send(CHANNEL_RTP, Buffer.alloc(70000), 0, 70000, 9, HOST); // larger than UDP allows
    pair.send(CHANNEL_RTP, Buffer.alloc(10), 5, 10, 9, HOST); // past the buffer's end
    expect(pair.counters).toMatchObject({ datagramsOut: 3, sendErrors: 3 });
  });

  for (const ring of ['io_uring where the kernel allows it', 'sendto each (sendRing: false)']) {
    it(`sends what one callback staged when it returns, from each pair's port: ${ring}`, async () => {
      const io = new NativePacketIo(undefined, { sendRing: !ring.startsWith('sendto') });
      cleanup.push(() => io.close());
      const a = await io.bindPair(HOST, await evenPort());
      const b = await io.bindPair(HOST, await evenPort());
      const peer = await peerSocket();
      cleanup.push(() => closeSocket(peer));
      const got: string[] = [];
      peer.on('message', (msg, from) => got.push(`${from.port}:${msg[0]}`));
      const port = peer.address().port;
      a.send(CHANNEL_RTP, Buffer.from([1]), 0, 1, port, HOST);
      b.send(CHANNEL_RTP, Buffer.from([2]), 0, 1, port, HOST);
      a.send(CHANNEL_RTP, Buffer.from([3]), 0, 1, 9, '255.255.255.255'); // EACCES: no SO_BROADCAST
      b.send(1, Buffer.from([9, 4]), 1, 1, port, HOST); // a slice, from the RTCP port
      // Counted when sent; a refusal is known once the batch has gone out.
      expect(a.counters).toMatchObject({ datagramsOut: 2, sendErrors: 0 });
      await Promise.resolve();
      expect(a.counters).toMatchObject({ datagramsOut: 2, sendErrors: 1 });
      expect(b.counters).toMatchObject({ datagramsOut: 2, sendErrors: 0 });
      await until('3 datagrams', () => got.length === 3);
      expect(got.sort()).toEqual([`${a.port}:1`, `${b.port + 1}:4`, `${b.port}:2`].sort());
      if (ring.startsWith('sendto')) expect(io.sendsUseRing()).toBe(false);
    });
  }

  for (const recvRing of [true, false]) {
    it(`reads every ready socket in a round, in order per socket (recvRing: ${recvRing})`, async () => {
      const io = new NativePacketIo(undefined, { recvRing });
      cleanup.push(() => io.close());
      const pairs: PortPair[] = [];
      for (let i = 0; i < 20; i++) pairs.push(await io.bindPair(HOST, await evenPort()));
      const seen = pairs.map((p) => watch(p));
      const sender = await io.bindPair(HOST, await evenPort());
      // 3 datagrams to each of 20 sockets, sent at once (flush) while this thread stays
      // busy: the rounds find many sockets ready, some with more than one datagram.
      for (let k = 0; k < 3; k++) {
        for (const p of pairs) sender.send(CHANNEL_RTP, Buffer.from([k]), 0, 1, p.port, HOST);
      }
      io.flush();
      busy(30);
      await until('60 datagrams', () => seen.every((s) => s.payloads.length === 3));
      for (const s of seen) expect(s.payloads).toEqual([0, 1, 2]);
      if (!recvRing) expect(io.recvUsesRing()).toBe(false);
    });
  }

  it('sends a staged datagram before its pair closes, and more than one batch holds', async () => {
    const { io, pair } = await setup();
    const seen = watch(pair);
    // 300 datagrams (more than one staged batch holds) spread over 4 peers, so no
    // socket buffer overflows.
    const peers = await Promise.all([0, 1, 2, 3].map(() => peerSocket()));
    let received = 0;
    for (const p of peers) {
      cleanup.push(() => closeSocket(p));
      p.on('message', () => received++);
    }
    const sender = await io.bindPair(HOST, await evenPort());
    const payload = Buffer.alloc(100, 0xff);
    for (let i = 0; i < 300; i++) {
      sender.send(CHANNEL_RTP, payload, 0, payload.length, peers[i % 4]!.address().port, HOST);
    }
    sender.send(CHANNEL_RTP, Buffer.from([7]), 0, 1, pair.port, HOST);
    void sender.close(); // sends what it staged first: its fd is still its own
    await until('300 datagrams', () => received === 300);
    await until('the last one', () => seen.payloads.includes(7));
    expect(sender.counters).toMatchObject({ datagramsOut: 301, sendErrors: 0 });
    expect(io.counters().sendErrors).toBe(0);
  });

  it('names IPv6 sources as node:dgram does', () => {
    const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
    expect(formatIPv6(bytes('00000000000000000000000000000001'))).toBe('::1');
    expect(formatIPv6(bytes('00000000000000000000ffff7f000001'))).toBe('::ffff:127.0.0.1');
    expect(formatIPv6(bytes('20010db8000000000001000000000002'))).toBe('2001:db8::1:0:0:2');
  });

  it('frees every fd and thread it opened: 50 ios with a pair each, then closed', async () => {
    const fds = openFds();
    const tasks = threads();
    for (let i = 0; i < 50; i++) {
      const io = new NativePacketIo();
      await io.bindPair(HOST, await evenPort());
      expect(threads()).toBe(tasks + 1);
      await io.close();
    }
    expect(openFds()).toBe(fds);
    expect(threads()).toBe(tasks);
  });

  it('loads in several worker threads at once and cleans up when they exit unclosed', async () => {
    expect(loadNativeAddon().error).toBeUndefined();
    const tasks = threads();
    const fds = openFds();
    const port = await evenPort();
    // Each worker loads the addon, binds a pair, echoes one datagram, and exits
    // without closing its io: the addon's cleanup hook must join its thread.
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      const addon = require(workerData.addon);
      const io = new addon.NativeIo(new ArrayBuffer(4096 * 4), new ArrayBuffer(32 * 4),
        new ArrayBuffer(8 * 4), 4, 4096, () => parentPort.postMessage('got'));
      const bound = io.bind('127.0.0.1', workerData.port);
      io.ref();
      parentPort.postMessage(Array.isArray(bound) ? 'bound' : 'failed ' + bound);
    `;
    // The build nativeBinding.ts loads (scripts/native-asan.sh points it at its own).
    const addonPath =
      process.env.CALLWATCH_NATIVE_ADDON ||
      new URL('../../../../build/Release/callwatch_native.node', import.meta.url).pathname;
    const workers = [0, 2, 4].map(
      (offset) =>
        new Worker(script, { eval: true, workerData: { addon: addonPath, port: port + offset } }),
    );
    const peer = await peerSocket();
    cleanup.push(() => closeSocket(peer));
    await Promise.all(
      workers.map(
        (w, i) =>
          new Promise<void>((resolve, reject) => {
            w.on('error', reject);
            w.on('message', (m: string) => {
              if (m === 'bound') peer.send(Buffer.from([1]), port + 2 * i, HOST);
              else if (m === 'got') resolve();
              else reject(new Error(m));
            });
          }),
      ),
    );
    expect(threads()).toBeGreaterThanOrEqual(tasks + 6); // 3 workers, 3 event threads
    await Promise.all(workers.map((w) => w.terminate()));
    await until('the workers’ threads to end', () => threads() === tasks);
    cleanup.pop(); // the peer's own fd: closed here, before counting
    await closeSocket(peer);
    expect(openFds()).toBe(fds);
  });
});
