import { describe, expect, it } from '@jest/globals';
import { InvalidStateError } from '../../../../sip/transaction/index.js';
import { TCP_PEER, UDP_PEER, ackFor, request, response, setup, created } from './harness.js';

describe('INVITE server transaction (RFC 3261 §17.2.1)', () => {
  it('sends 100 Trying after 200 ms when the TU has not answered', () => {
    const { clock, layer, sent, responseTimes } = setup();
    created(layer.receiveRequest(request(), UDP_PEER));
    clock.advance(199);
    expect(sent).toHaveLength(0);
    clock.advance(1);
    expect(responseTimes(100)).toEqual([200]);
    expect(sent[0]?.destination).toStrictEqual(UDP_PEER);
    expect(clock.pending).toBe(0);
  });

  it('sends no 100 Trying when the TU answers within 200 ms, or when disabled', () => {
    const a = setup();
    const tx = created(a.layer.receiveRequest(request(), UDP_PEER));
    a.clock.advance(50);
    tx.respond(response(tx.request, 180));
    a.clock.advance(1000);
    expect(a.sent.map((s) => s.message.kind === 'response' && s.message.status)).toEqual([180]);

    const b = setup({ tryingDelay: false });
    b.layer.receiveRequest(request(), UDP_PEER);
    expect(b.clock.pending).toBe(0);
    b.clock.advance(1000);
    expect(b.sent).toHaveLength(0);
  });

  it('absorbs INVITE retransmissions by resending the last provisional response', () => {
    const { layer, sent } = setup();
    const invite = request();
    const tx = created(layer.receiveRequest(invite, UDP_PEER));
    // Before any response there is nothing to resend.
    expect(layer.receiveRequest(request(), UDP_PEER)).toEqual({ kind: 'retransmission' });
    expect(sent).toHaveLength(0);
    const ringing = response(invite, 180);
    tx.respond(ringing);
    expect(layer.receiveRequest(request(), UDP_PEER)).toEqual({ kind: 'retransmission' });
    expect(sent.map((s) => s.message)).toEqual([ringing, ringing]);
    expect(tx.lastResponse).toBe(ringing);
    expect(layer.counts).toEqual({ client: 0, server: 1 });
  });

  it('retransmits a 4xx on Timer G (doubling, capped at T2) and times out on Timer H', () => {
    const { clock, layer, responseTimes } = setup();
    const invite = request();
    const tx = created(layer.receiveRequest(invite, UDP_PEER));
    const timeouts: number[] = [];
    const ended: string[] = [];
    tx.on('timeout', () => timeouts.push(clock.now()));
    tx.on('terminated', (reason) => ended.push(reason));
    tx.respond(response(invite, 486));
    clock.advance(31_999);
    expect(responseTimes(486)).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    expect(timeouts).toEqual([]);
    clock.advance(1);
    expect(timeouts).toEqual([32_000]);
    expect(ended).toEqual(['timeout']);
    expect(tx.state).toBe('terminated');
    expect(clock.pending).toBe(0);
    expect(layer.size).toBe(0);
  });

  it('resends the final response for a retransmitted INVITE in Completed', () => {
    const { clock, layer, responseTimes } = setup();
    const invite = request();
    const tx = created(layer.receiveRequest(invite, UDP_PEER));
    tx.respond(response(invite, 603));
    clock.advance(200);
    expect(layer.receiveRequest(request(), UDP_PEER).kind).toBe('retransmission');
    expect(responseTimes(603)).toEqual([0, 200]);
  });

  it('an ACK stops Timer G and H; Timer I (T4) then ends the transaction', () => {
    const { clock, layer, responseTimes } = setup();
    const invite = request();
    const tx = created(layer.receiveRequest(invite, UDP_PEER));
    const timeouts: number[] = [];
    tx.on('timeout', () => timeouts.push(clock.now()));
    const busy = response(invite, 486);
    tx.respond(busy);
    clock.advance(1000);
    expect(layer.receiveRequest(ackFor(invite, busy), UDP_PEER)).toEqual({ kind: 'ack-absorbed' });
    expect(tx.state).toBe('confirmed');
    // ACK retransmissions are absorbed too.
    expect(layer.receiveRequest(ackFor(invite, busy), UDP_PEER)).toEqual({ kind: 'ack-absorbed' });
    clock.advance(4999);
    expect(tx.state).toBe('confirmed');
    clock.advance(1);
    expect(tx.state).toBe('terminated');
    expect(responseTimes(486)).toEqual([0, 500]);
    expect(timeouts).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('on a reliable transport: no Timer G, and the ACK ends it at once (I = 0)', () => {
    const { clock, layer, sent } = setup();
    const invite = request();
    const tx = created(layer.receiveRequest(invite, TCP_PEER));
    const busy = response(invite, 486);
    tx.respond(busy);
    expect(clock.pending).toBe(1); // Timer H
    clock.advance(10_000);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.destination).toBe(TCP_PEER);
    layer.receiveRequest(ackFor(invite, busy), TCP_PEER);
    expect(tx.state).toBe('terminated');
    expect(clock.pending).toBe(0);
  });

  it('after a 2xx: Accepted absorbs INVITEs silently, sends TU 2xx retransmissions, ends on Timer L (RFC 6026)', () => {
    const { clock, layer, sent, responseTimes } = setup();
    const invite = request();
    const tx = created(layer.receiveRequest(invite, UDP_PEER));
    const ok = response(invite, 200);
    tx.respond(ok);
    expect(tx.state).toBe('accepted');
    // It only waits for Timer L: the INVITE is let go, the 2xx kept as its bytes.
    expect(() => tx.request).toThrow(InvalidStateError);
    expect(tx.lastResponse).not.toBe(ok);
    expect(tx.lastResponse?.status).toBe(200);
    expect(tx.lastResponse?.headers.get('to')).toBe(ok.headers.get('to'));
    clock.advance(500);
    expect(layer.receiveRequest(request(), UDP_PEER).kind).toBe('retransmission');
    expect(sent).toHaveLength(1); // the transaction itself never resends a 2xx
    tx.respond(ok); // the TU's retransmission (§13.3.1.4)
    expect(responseTimes(200)).toEqual([0, 500]);
    expect(sent[1]?.message).toBe(ok);
    expect(() => tx.respond(response(invite, 500))).toThrow(InvalidStateError);
    // The ACK for a 2xx has its own branch: it matches nothing and goes to the dialog layer.
    const ack = ackFor(request({ branch: 'z9hG4bKack2xx' }), ok);
    expect(layer.receiveRequest(ack, UDP_PEER)).toEqual({ kind: 'ack-for-2xx' });
    clock.advanceTo(31_999);
    expect(tx.state).toBe('accepted');
    clock.advanceTo(32_000);
    expect(tx.state).toBe('terminated');
    expect(clock.pending).toBe(0);
    expect(() => tx.respond(ok)).toThrow(InvalidStateError);
  });

  it('refuses a second final response', () => {
    const { layer } = setup();
    const invite = request();
    const tx = created(layer.receiveRequest(invite, UDP_PEER));
    tx.respond(response(invite, 486));
    expect(() => tx.respond(response(invite, 200))).toThrow(InvalidStateError);
    expect(tx.state).toBe('completed');
  });
});
