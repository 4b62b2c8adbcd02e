import { describe, it, expect, beforeEach } from '@jest/globals';
import { WsTransport, type WebSocketStream } from '../../../../sip/transport/ws.js';
import type { Source } from '../../../../sip/transport/types.js';
import { FakeClock } from '../transaction/fakeClock.js';

/** A stream that records what the transport did to it. */
class RecordingStream implements WebSocketStream {
  sent: string[] = [];
  pings = 0;
  closedWith: { code: number; reason: string } | undefined;
  sendText(data: Buffer): void {
    this.sent.push(data.toString());
  }
  ping(): void {
    this.pings++;
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }
}

const OPTIONS = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\n\r\n';

describe('WsTransport (RFC 7118 flows)', () => {
  let clock: FakeClock;
  let messages: Array<[string, Source]>;
  let discards: Array<[string, Source]>;
  let flowsClosed: Array<[Source, string]>;
  let transport: WsTransport;

  const open = (port = 40000, secure = false) => {
    const stream = new RecordingStream();
    const events = transport.accept(stream, { address: '127.0.0.1', port, secure });
    if (events === undefined) throw new Error('refused');
    return { stream, events };
  };

  beforeEach(() => {
    clock = new FakeClock();
    messages = [];
    discards = [];
    flowsClosed = [];
    transport = new WsTransport(
      {
        maxMessageBytes: 2000,
        maxConnections: 2,
        pingIntervalMs: 1000,
        idleTimeoutMs: 10_000,
        clock,
      },
      {
        onMessage: (data, source) => messages.push([data.toString(), source]),
        onDiscard: (reason, source) => discards.push([reason, source]),
        onFlowClosed: (flow, reason) => flowsClosed.push([flow, reason]),
      },
    );
  });

  it('names each flow by protocol, peer and connection id, and sends down it', () => {
    const a = open(40000);
    const b = open(40002, true);
    a.events.message(Buffer.from(OPTIONS), false);
    b.events.message(Buffer.from(OPTIONS), false);
    expect(messages.map(([, s]) => s)).toEqual([
      { protocol: 'ws', address: '127.0.0.1', port: 40000, connectionId: 1 },
      { protocol: 'wss', address: '127.0.0.1', port: 40002, connectionId: 2 },
    ]);
    // By connection id, and by address and port (a binding's stored source).
    expect(transport.send(Buffer.from('one'), messages[0]![1])).toBe(true);
    expect(
      transport.send(Buffer.from('two'), { protocol: 'wss', address: '127.0.0.1', port: 40002 }),
    ).toBe(true);
    expect(a.stream.sent).toEqual(['one']);
    expect(b.stream.sent).toEqual(['two']);
    // The wrong protocol for the flow is not the flow.
    expect(
      transport.send(Buffer.from('x'), { protocol: 'ws', address: '127.0.0.1', port: 40002 }),
    ).toBe(false);
  });

  it('refuses connections beyond the limit with 1013', () => {
    open(40000);
    open(40002);
    expect(transport.full).toBe(true);
    const third = new RecordingStream();
    expect(transport.accept(third, { address: '127.0.0.1', port: 40004, secure: false })).toBe(
      undefined,
    );
    expect(third.closedWith?.code).toBe(1013);
  });

  it('reports a flow the peer closed, after which sends fail', () => {
    const a = open();
    a.events.closed();
    expect(flowsClosed).toEqual([
      [
        { protocol: 'ws', address: '127.0.0.1', port: 40000, connectionId: 1 },
        'closed by the peer',
      ],
    ]);
    expect(transport.send(Buffer.from('x'), flowsClosed[0]![0])).toBe(false);
    expect(transport.connectionCount).toBe(0);
    a.events.closed(); // reported once
    expect(flowsClosed).toHaveLength(1);
  });

  it('closes on a binary frame (1003) and on an oversized message (1009), each alone', () => {
    const a = open(40000);
    const b = open(40002);
    a.events.message(Buffer.from(OPTIONS), true);
    expect(a.stream.closedWith?.code).toBe(1003);
    b.events.message(Buffer.alloc(2001, 0x41), false);
    expect(b.stream.closedWith?.code).toBe(1009);
    expect(discards.map(([r]) => r)).toEqual([
      expect.stringMatching(/text frames only/),
      expect.stringMatching(/2001 bytes/),
    ]);
    expect(flowsClosed.map(([f]) => f.port)).toEqual([40000, 40002]);
    expect(messages).toEqual([]);
  });

  it('answers a CRLFCRLF ping with CRLF (RFC 5626 §4.4.1)', () => {
    const a = open();
    a.events.message(Buffer.from('\r\n\r\n'), false);
    expect(a.stream.sent).toEqual(['\r\n']);
    expect(messages).toEqual([]);
  });

  it('pings every interval and drops a flow that missed the previous pong', () => {
    const a = open(40000);
    const b = open(40002);
    clock.advance(1000);
    expect([a.stream.pings, b.stream.pings]).toEqual([1, 1]);
    a.events.pong();
    clock.advance(1000);
    expect(a.stream.pings).toBe(2);
    expect(a.stream.closedWith).toBeUndefined();
    expect(b.stream.closedWith).toEqual({ code: 1001, reason: 'no answer to a WebSocket ping' });
    expect(flowsClosed.map(([f, r]) => [f.port, r])).toEqual([
      [40002, 'no answer to a WebSocket ping'],
    ]);
  });

  it('closes a flow with no SIP traffic for the idle timeout, not one that talks', () => {
    const quiet = open(40000);
    const talker = open(40002);
    for (let t = 0; t < 10; t++) {
      clock.advance(1000);
      quiet.events.pong();
      talker.events.pong();
      talker.events.message(Buffer.from('\r\n\r\n'), false);
    }
    expect(quiet.stream.closedWith).toEqual({ code: 1000, reason: 'idle timeout' });
    expect(talker.stream.closedWith).toBeUndefined();
  });

  it('drop() closes one flow with the reason; close() closes all without reports', () => {
    const a = open(40000);
    const b = open(40002);
    a.events.message(Buffer.from(OPTIONS), false);
    transport.drop(messages[0]![1], 1002, 'not a SIP message');
    expect(a.stream.closedWith).toEqual({ code: 1002, reason: 'not a SIP message' });
    expect(flowsClosed).toHaveLength(1);
    transport.close();
    expect(b.stream.closedWith).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(flowsClosed).toHaveLength(1);
    expect(clock.pending).toBe(0);
    expect(
      transport.send(Buffer.from('x'), { protocol: 'ws', address: '127.0.0.1', port: 40002 }),
    ).toBe(false);
  });
});
