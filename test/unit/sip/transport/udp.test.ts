/**
 * The SIP UDP transport on the socket CALLWATCH_SIP_IO names (test/helpers/sipIo.ts; the
 * "sip on dgram" jest project runs this file again on node:dgram): real loopback sockets,
 * a peer on node:dgram. Both implementations must behave the same: whole datagrams up to
 * the UDP maximum, source addresses as node:dgram names them, port 0, sends that never
 * throw, a failed bind and a close that leave no descriptor behind and free the port.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import dgram from 'node:dgram';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { UdpTransport } from '../../../../sip/transport/udp.js';
import { TransportLayer } from '../../../../sip/transport/transportLayer.js';
import type { Source } from '../../../../sip/transport/types.js';
import { systemClock } from '../../../../sip/clock.js';
import { QueueProbe } from '../../../../sip/transport/queueProbe.js';
import { FakeClock } from '../transaction/fakeClock.js';
import { SIP_IO, layerIoOptions, udpIoOptions } from '../../../helpers/sipIo.js';

const opened: { close(): Promise<void> }[] = [];
const peers: dgram.Socket[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
  await Promise.all(peers.splice(0).map((p) => new Promise<void>((r) => p.close(() => r()))));
});

interface Received {
  data: Buffer;
  source: Source;
}

async function transport(port = 0, address = '127.0.0.1') {
  const received: Received[] = [];
  let wake: (() => void) | undefined;
  const t = await UdpTransport.bind(
    { address, port, ...udpIoOptions() },
    {
      onMessage: (data, source) => {
        received.push({ data, source });
        wake?.();
      },
    },
  );
  opened.push(t);
  const next = async (count: number): Promise<Received[]> => {
    const deadline = Date.now() + 2000;
    while (received.length < count && Date.now() < deadline) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
    return received;
  };
  return { t, received, next };
}

async function peer(type: 'udp4' | 'udp6' = 'udp4', address = '127.0.0.1') {
  const socket = dgram.createSocket(type);
  peers.push(socket);
  await new Promise<void>((r) => socket.bind(0, address, () => r()));
  const inbox: Buffer[] = [];
  socket.on('message', (m) => inbox.push(m));
  return { socket, inbox, port: socket.address().port };
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

describe(`UdpTransport on ${SIP_IO}`, () => {
  it('names the socket it runs on and binds port 0 to a real port', async () => {
    const { t } = await transport();
    expect(t.io).toBe(SIP_IO);
    expect(t.address).toBe('127.0.0.1');
    expect(t.port).toBeGreaterThan(0);
  });

  it('delivers each datagram whole with its source, up to the UDP maximum', async () => {
    const { t, next } = await transport();
    const p = await peer();
    const big = Buffer.alloc(65507, 0x41);
    const small = Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n');
    p.socket.send(small, t.port, '127.0.0.1');
    p.socket.send(big, t.port, '127.0.0.1');
    const got = await next(2);
    expect(got).toHaveLength(2);
    expect(got[0]!.data.equals(small)).toBe(true);
    expect(got[1]!.data.equals(big)).toBe(true);
    expect(got[0]!.source).toEqual({ protocol: 'udp', address: '127.0.0.1', port: p.port });
  });

  it('hands out buffers the receiver owns: a later datagram does not overwrite them', async () => {
    const { t, next } = await transport();
    const p = await peer();
    for (let i = 0; i < 200; i++) p.socket.send(Buffer.from(`message ${i}`), t.port, '127.0.0.1');
    const got = await next(200);
    expect(got.map((r) => r.data.toString())).toEqual(
      Array.from({ length: 200 }, (_, i) => `message ${i}`),
    );
  });

  it('sends to an IPv4 destination; a bad destination is counted, never thrown', async () => {
    const { t } = await transport();
    const p = await peer();
    t.send(Buffer.from('hello'), { protocol: 'udp', address: '127.0.0.1', port: p.port });
    await until(() => p.inbox.length === 1);
    expect(p.inbox.map(String)).toEqual(['hello']);
    expect(() =>
      t.send(Buffer.from('x'), { protocol: 'udp', address: '127.0.0.1', port: 0 }),
    ).not.toThrow();
    expect(t.sendErrors).toBe(1);
  });

  it('sends many datagrams of one turn, in order, and what precedes close', async () => {
    const { t } = await transport();
    const p = await peer();
    p.socket.setRecvBufferSize(4 * 1024 * 1024);
    const to = { protocol: 'udp' as const, address: '127.0.0.1', port: p.port };
    // Past one sendmmsg (64) and the staging buffer (256 KiB); under 1 MB in all, so the
    // peer's receive buffer holds it all while this loop runs.
    const sizes = [65000, 10, 1400, 3000];
    for (let i = 0; i < 300; i++) {
      const body = Buffer.alloc(i < 4 ? sizes[i]! : sizes[1 + (i % 3)]!, 0x2e);
      body.write(`${i} `);
      t.send(body, to);
    }
    t.send(Buffer.from('last'), to);
    await t.close();
    await until(() => p.inbox.length === 301);
    expect(p.inbox.map((m) => m.toString('latin1').split(' ')[0])).toEqual([
      ...Array.from({ length: 300 }, (_, i) => String(i)),
      'last',
    ]);
    expect(p.inbox.slice(0, 4).map((m) => m.length)).toEqual(sizes);
    expect(t.sendErrors).toBe(0);
  });

  it('works on IPv6 with the source named as node:dgram names it', async () => {
    const { t, next } = await transport(0, '::1');
    const p = await peer('udp6', '::1');
    p.socket.send(Buffer.from('v6'), t.port, '::1');
    const got = await next(1);
    expect(got[0]!.source).toEqual({ protocol: 'udp', address: '::1', port: p.port });
    t.send(Buffer.from('back'), { protocol: 'udp', address: '::1', port: p.port });
    await until(() => p.inbox.length === 1);
    expect(p.inbox.map(String)).toEqual(['back']);
  });

  it('frees the port and its descriptors on close', async () => {
    const before = openFds();
    const { t } = await transport();
    const port = t.port;
    await t.close();
    await t.close(); // idempotent
    expect(openFds()).toBe(before);
    const again = await transport(port);
    expect(again.t.port).toBe(port);
  });

  it('rejects a taken port and leaves no descriptor behind', async () => {
    const { t } = await transport();
    const before = openFds();
    await expect(transport(t.port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(openFds()).toBe(before);
  });
});

describe(`TransportLayer over ${SIP_IO}`, () => {
  async function layer() {
    const l = await TransportLayer.open({
      address: '127.0.0.1',
      udpPort: 0,
      tcpPort: null,
      maxMessageBytes: 65535,
      tcpIdleTimeoutMs: 60000,
      clock: systemClock,
      ...layerIoOptions(),
    });
    opened.push(l);
    return l;
  }

  it('answers a malformed request 400 and drops unparseable junk, as on dgram', async () => {
    const l = await layer();
    expect(l.udpIo).toBe(SIP_IO);
    const invalid: [string, number | undefined][] = [];
    l.on('invalid', (reason, _source, answered) => invalid.push([reason, answered]));
    const p = await peer();
    const bad = Buffer.from(
      'OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n' +
        `Via: SIP/2.0/UDP 127.0.0.1:${p.port};branch=z9hG4bK1;rport\r\n` +
        'From: <sip:b@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\n' + // no Call-ID
        'CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n',
    );
    p.socket.send(bad, l.ports.udp!, '127.0.0.1');
    await until(() => p.inbox.length === 1);
    expect(p.inbox[0]!.toString('latin1')).toMatch(/^SIP\/2\.0 400 /);
    p.socket.send(Buffer.from('\x00\x01garbage'), l.ports.udp!, '127.0.0.1');
    await until(() => invalid.length === 2);
    expect(invalid[0]![1]).toBe(400);
    expect(invalid[1]![1]).toBeUndefined();
    expect(p.inbox).toHaveLength(1);
  });

  it('closes the UDP socket when the start fails half-way (TCP port taken)', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    opened.push({ close: () => new Promise<void>((r) => blocker.close(() => r())) });
    const taken = (blocker.address() as net.AddressInfo).port;
    const before = openFds();
    await expect(
      TransportLayer.open({
        address: '127.0.0.1',
        udpPort: 0,
        tcpPort: taken,
        maxMessageBytes: 65535,
        tcpIdleTimeoutMs: 60000,
        clock: systemClock,
        queueProbe: true,
        ...layerIoOptions(),
      }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(openFds()).toBe(before);
  });

  it('reads the queue probe datagram by its source (queueProbe.ts)', async () => {
    const clock = new FakeClock();
    const own: { probe?: QueueProbe } = {};
    let others = 0;
    let arrived: () => void = () => {};
    const back = new Promise<void>((r) => (arrived = r));
    const t = await UdpTransport.bind(
      { address: '127.0.0.1', port: 0, ...udpIoOptions() },
      {
        onMessage: (_data, source) => {
          if (own.probe?.isFrom(source)) {
            own.probe.arrived();
            arrived();
          } else others++;
        },
      },
    );
    opened.push(t);
    const probe = await QueueProbe.open({ address: '127.0.0.1', port: t.port }, clock);
    own.probe = probe;
    opened.push(probe);
    expect(probe.sample()).toBe(0); // sends the probe
    clock.advance(7);
    await back;
    clock.advance(100);
    expect(probe.sample()).toBe(7); // it waited 7 ms, and is no longer in flight
    expect(others).toBe(0);
  });
});
