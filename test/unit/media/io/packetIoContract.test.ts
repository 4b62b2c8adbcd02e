/**
 * The packet io seam's contract, run against both implementations (node:dgram and the
 * native addon) on real sockets on 127.0.0.1: a pair binds both ports or none, delivers
 * what arrives as batches (per port, with the sender's address), sends from the right
 * port, counts, and frees its ports on close.
 */
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from '@jest/globals';
import { DgramPacketIo } from '../../../../media/io/dgramPacketIo.js';
import { NativePacketIo } from '../../../../media/io/nativePacketIo.js';
import { CHANNEL_RTCP, CHANNEL_RTP } from '../../../../media/io/packetIo.js';
import type { Channel, PacketBatch, PacketIo, PortPair } from '../../../../media/io/packetIo.js';
import { MediaError } from '../../../../media/engine/errors.js';
import { allocatePortBlock, isPortFree } from '../../../helpers/ports.js';

const HOST = '127.0.0.1';

/** An even port P with P..P+3 free right now. */
async function evenPort(): Promise<number> {
  const first = await allocatePortBlock(5);
  return first % 2 === 0 ? first : first + 1;
}

interface Got {
  channel: Channel;
  count: number;
  bytes: Buffer;
  length: number;
  address: string;
  port: number;
  arrivalMs: number;
  batch: PacketBatch;
}

/** Records what a pair delivers (copies: the batch is only valid during the call). */
function record(pair: PortPair): { got: Got[]; errors: Error[] } {
  const got: Got[] = [];
  const errors: Error[] = [];
  const take = (channel: Channel) => (batch: PacketBatch) => {
    for (let i = 0; i < batch.count; i++) {
      got.push({
        channel,
        count: batch.count,
        bytes: Buffer.from(batch.buffers[i]!.subarray(0, batch.lengths[i]!)),
        length: batch.lengths[i]!,
        address: batch.addresses[i]!,
        port: batch.ports[i]!,
        arrivalMs: batch.arrivalMs[i]!,
        batch,
      });
    }
  };
  pair.receive({ rtp: take(CHANNEL_RTP), rtcp: take(CHANNEL_RTCP), error: (e) => errors.push(e) });
  return { got, errors };
}

function socket(): Promise<Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => s.bind(0, HOST, () => resolve(s)));
}

function closeSocket(s: Socket): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}

async function until(what: string, check: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function send(s: Socket, bytes: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    s.send(bytes, port, HOST, (e) => (e ? reject(e) : resolve())),
  );
}

const ZERO = {
  datagramsIn: 0,
  bytesIn: 0,
  datagramsOut: 0,
  bytesOut: 0,
  sendErrors: 0,
  receiveErrors: 0,
};

/** [label, the io's name, a new io]. */
const IMPLEMENTATIONS: [string, string, () => PacketIo][] = [
  ['dgram', 'dgram', () => new DgramPacketIo()],
  ['native', 'native', () => new NativePacketIo()],
  // Without io_uring (a kernel or seccomp profile without it): sendto, recvmmsg.
  [
    'native (no io_uring)',
    'native',
    () => new NativePacketIo(undefined, { sendRing: false, recvRing: false }),
  ],
];

describe.each(IMPLEMENTATIONS)('the %s packet io', (_label, name, create) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function newIo(): Promise<PacketIo> {
    const io = create();
    expect(io.name).toBe(name);
    cleanup.push(() => io.close());
    return io;
  }

  async function blocker(port: number): Promise<void> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(port, HOST, () => resolve()));
    cleanup.push(() => closeSocket(s));
  }

  it.each([
    ['the RTP port', 0],
    ['the RTCP port', 1],
  ])('rejects with ERR_PORT_IN_USE when %s is taken, leaving nothing bound', async (_, which) => {
    const io = await newIo();
    const port = await evenPort();
    await blocker(port + which);
    const error = await io.bindPair(HOST, port).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaError);
    expect((error as MediaError).code).toBe('ERR_PORT_IN_USE');
    // The other port of the pair is free again (it was bound first when RTCP failed).
    expect(await isPortFree(port + 1 - which, { tcp: false })).toBe(true);
    expect(io.counters()).toEqual(ZERO);
  });

  it('rejects an odd or out-of-range port with ERR_INVALID_ARGUMENT', async () => {
    const io = await newIo();
    for (const port of [30001, 0, 65536, 2.5]) {
      const error = await io.bindPair(HOST, port).catch((e: unknown) => e);
      expect({ port, code: (error as MediaError).code }).toEqual({
        port,
        code: 'ERR_INVALID_ARGUMENT',
      });
    }
  });

  it('rejects with ERR_BIND for an address it cannot bind', async () => {
    const io = await newIo();
    const port = await evenPort();
    const error = await io.bindPair('192.0.2.1', port).catch((e: unknown) => e);
    expect((error as MediaError).code).toBe('ERR_BIND');
  });

  it('delivers datagrams in batches, per port, with their source and arrival time', async () => {
    const io = await newIo();
    const port = await evenPort();
    const pair = await io.bindPair(HOST, port);
    expect({ address: pair.address, port: pair.port }).toEqual({ address: HOST, port });
    const { got, errors } = record(pair);
    const peer = await socket();
    cleanup.push(() => closeSocket(peer));
    const peerPort = peer.address().port;
    const before = performance.now();
    await send(peer, Buffer.from([1, 2, 3, 4, 5]), port);
    await send(peer, Buffer.from([9, 8, 7]), port + 1);
    await send(peer, Buffer.from([6]), port);
    await until('3 datagrams', () => got.length === 3);
    const after = performance.now();
    // dgram delivers one datagram per batch; native may batch those of one port.
    for (const g of got) expect(g.count).toBeGreaterThanOrEqual(1);
    if (name === 'dgram') expect(got.map((g) => g.count)).toEqual([1, 1, 1]);
    const seen = got.map(({ channel, bytes, length, address, port: p }) => ({
      channel,
      bytes: [...bytes],
      length,
      address,
      port: p,
    }));
    const from = { address: HOST, port: peerPort };
    // In order per port (two sockets: which of them is read first is the poller's choice).
    expect(seen.filter((g) => g.channel === CHANNEL_RTP)).toEqual([
      { channel: CHANNEL_RTP, bytes: [1, 2, 3, 4, 5], length: 5, ...from },
      { channel: CHANNEL_RTP, bytes: [6], length: 1, ...from },
    ]);
    expect(seen.filter((g) => g.channel === CHANNEL_RTCP)).toEqual([
      { channel: CHANNEL_RTCP, bytes: [9, 8, 7], length: 3, ...from },
    ]);
    for (const g of got) {
      expect(g.arrivalMs).toBeGreaterThanOrEqual(before);
      expect(g.arrivalMs).toBeLessThanOrEqual(after);
    }
    // One batch object, reused for every delivery.
    expect(new Set(got.map((g) => g.batch)).size).toBe(1);
    expect(errors).toEqual([]);
    expect(pair.counters).toMatchObject({ datagramsIn: 3, bytesIn: 9, receiveErrors: 0 });
  });

  it('sends a slice of a buffer from the RTP or the RTCP port', async () => {
    const io = await newIo();
    const port = await evenPort();
    const pair = await io.bindPair(HOST, port);
    const peer = await socket();
    cleanup.push(() => closeSocket(peer));
    const heard: { bytes: number[]; port: number }[] = [];
    peer.on('message', (msg, rinfo) => heard.push({ bytes: [...msg], port: rinfo.port }));
    const buf = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]);
    pair.send(CHANNEL_RTP, buf, 2, 3, peer.address().port, HOST);
    pair.send(CHANNEL_RTCP, buf, 0, buf.length, peer.address().port, HOST);
    await until('2 datagrams', () => heard.length === 2);
    expect(heard).toEqual([
      { bytes: [2, 3, 4], port },
      { bytes: [0, 1, 2, 3, 4, 5, 6, 7], port: port + 1 },
    ]);
    expect(pair.counters).toEqual({
      datagramsIn: 0,
      bytesIn: 0,
      datagramsOut: 2,
      bytesOut: 11,
      sendErrors: 0,
      receiveErrors: 0,
    });
    // Nothing queued on loopback: no buffer is held.
    expect(pair.holds(buf)).toBe(false);
  });

  it('counts per pair and per io, closed pairs included', async () => {
    const io = await newIo();
    const [p1, p2] = [await evenPort(), await evenPort()];
    const a = await io.bindPair(HOST, p1);
    const b = await io.bindPair(HOST, p2);
    const gotB = record(b).got;
    record(a);
    a.send(CHANNEL_RTP, Buffer.alloc(100), 0, 100, p2, HOST);
    a.send(CHANNEL_RTP, Buffer.alloc(50), 0, 50, p2 + 1, HOST);
    await until('2 datagrams at b', () => gotB.length === 2);
    expect(a.counters).toMatchObject({ datagramsOut: 2, bytesOut: 150, datagramsIn: 0 });
    expect(b.counters).toMatchObject({ datagramsOut: 0, datagramsIn: 2, bytesIn: 150 });
    const totals = {
      datagramsIn: 2,
      bytesIn: 150,
      datagramsOut: 2,
      bytesOut: 150,
      sendErrors: 0,
      receiveErrors: 0,
    };
    expect(io.counters()).toEqual(totals);
    await a.close();
    expect(io.counters()).toEqual(totals);
    // A send on a closed pair neither throws nor sends: it is a counted send error.
    a.send(CHANNEL_RTP, Buffer.alloc(10), 0, 10, p2, HOST);
    expect(a.counters.sendErrors).toBe(1);
    expect(io.counters()).toEqual({ ...totals, sendErrors: 1 });
  });

  it('closes idempotently and frees both ports; io.close closes every pair', async () => {
    const io = await newIo();
    const port = await evenPort();
    const pair = await io.bindPair(HOST, port);
    expect(await isPortFree(port, { tcp: false })).toBe(false);
    const first = pair.close();
    const second = pair.close();
    await Promise.all([first, second]);
    await pair.close();
    expect(await isPortFree(port, { tcp: false })).toBe(true);
    expect(await isPortFree(port + 1, { tcp: false })).toBe(true);
    // The same pair can be bound again at once.
    const again = await io.bindPair(HOST, port);
    const other = await io.bindPair(HOST, await evenPort());
    await io.close();
    await io.close();
    for (const p of [again.port, again.port + 1, other.port, other.port + 1]) {
      expect({ p, free: await isPortFree(p, { tcp: false }) }).toEqual({ p, free: true });
    }
    const error = await io.bindPair(HOST, port).catch((e: unknown) => e);
    expect((error as MediaError).code).toBe('ERR_BIND');
  });
});
