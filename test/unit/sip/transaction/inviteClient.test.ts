import { describe, expect, it } from '@jest/globals';
import {
  cseqOf,
  parseMessage,
  serializeMessage,
  type SipRequest,
} from '../../../../sip/message/index.js';
import { buildCancel, InvalidStateError } from '../../../../sip/transaction/index.js';
import { TCP_PEER, UDP_PEER, recorder, request, response, setup } from './harness.js';

const ROUTES = ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>'];

describe('INVITE client transaction (RFC 3261 §17.1.1)', () => {
  it('retransmits on Timer A at 500, 1500, 3500, 7500, 15500, 31500 ms, then Timer B times out at 32000', () => {
    const { clock, layer, requestTimes } = setup();
    const tu = recorder();
    const tx = layer.sendRequest(request(), UDP_PEER, tu.handlers);
    clock.advance(31_999);
    expect(requestTimes('INVITE')).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(tu.events).toEqual([]);
    clock.advance(1);
    expect(tu.events).toEqual(['timeout']);
    expect(tx.state).toBe('terminated');
    expect(layer.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('stops retransmitting and drops Timer B on a provisional response', () => {
    const { clock, layer, requestTimes } = setup();
    const tu = recorder();
    const invite = request();
    const tx = layer.sendRequest(invite, UDP_PEER, tu.handlers);
    clock.advance(600);
    expect(layer.receiveResponse(response(invite, 180), UDP_PEER)).toBe(true);
    expect(tx.state).toBe('proceeding');
    clock.advance(100_000);
    expect(requestTimes('INVITE')).toEqual([0, 500]);
    expect(tu.events).toEqual(['response 180']);
    expect(clock.pending).toBe(0);
  });

  it('ACKs a non-2xx final response with the §17.1.1.3 headers and absorbs its retransmissions', () => {
    const { clock, layer, sent } = setup();
    const tu = recorder();
    const invite = request({ routes: ROUTES, cseq: 42 });
    const tx = layer.sendRequest(invite, UDP_PEER, tu.handlers);
    const busy = response(invite, 486, 'uas-tag');
    layer.receiveResponse(busy, UDP_PEER);
    expect(tx.state).toBe('completed');
    const ack = sent[1]?.message as SipRequest;
    expect(ack.method).toBe('ACK');
    expect(ack.uri).toBe(invite.uri);
    expect(ack.headers.getAll('Via')).toEqual([invite.headers.get('Via')]);
    expect(ack.headers.get('Call-ID')).toBe(invite.headers.get('Call-ID'));
    expect(ack.headers.get('From')).toBe(invite.headers.get('From'));
    expect(ack.headers.get('To')).toBe('<sip:bob@example.com>;tag=uas-tag');
    expect(cseqOf(ack)).toEqual({ seq: 42, method: 'ACK' });
    expect(ack.headers.getAll('Route')).toEqual(ROUTES);
    expect(ack.body.length).toBe(0);
    expect(parseMessage(serializeMessage(ack)).ok).toBe(true);
    expect(sent[1]?.destination).toBe(UDP_PEER);

    // §17.1.1.2: a retransmitted final response gets the ACK again, the TU is not told.
    clock.advance(1000);
    layer.receiveResponse(response(invite, 486, 'uas-tag'), UDP_PEER);
    expect(sent.map((s) => (s.message.kind === 'request' ? s.message.method : ''))).toEqual([
      'INVITE',
      'ACK',
      'ACK',
    ]);
    expect(tu.events).toEqual(['response 486']);

    // Timer D: max(64·T1, 32 s) on UDP.
    clock.advanceTo(31_999);
    expect(tx.state).toBe('completed');
    clock.advanceTo(32_000);
    expect(tx.state).toBe('terminated');
    expect(clock.pending).toBe(0);
    expect(layer.receiveResponse(response(invite, 486, 'uas-tag'), UDP_PEER)).toBe(false);
  });

  it('passes every 2xx to the TU while Accepted (RFC 6026 Timer M), then lets them go to the dialog layer', () => {
    const { clock, layer, sent } = setup();
    const tu = recorder();
    const invite = request();
    const tx = layer.sendRequest(invite, UDP_PEER, tu.handlers);
    layer.receiveResponse(response(invite, 200, 'a'), UDP_PEER);
    expect(tx.state).toBe('accepted');
    clock.advance(500);
    expect(layer.receiveResponse(response(invite, 200, 'a'), UDP_PEER)).toBe(true);
    expect(layer.receiveResponse(response(invite, 200, 'fork-b'), UDP_PEER)).toBe(true);
    expect(layer.receiveResponse(response(invite, 486), UDP_PEER)).toBe(true);
    expect(tu.events).toEqual(['response 200', 'response 200', 'response 200']);
    expect(sent).toHaveLength(1); // the transaction never ACKs a 2xx (§13.2.2.4)
    // It only waits for Timer M: neither the INVITE nor a 2xx is kept meanwhile.
    expect(() => tx.request).toThrow(InvalidStateError);
    expect(tx.lastResponse).toBeUndefined();
    expect(tx.method).toBe('INVITE');
    clock.advanceTo(32_000);
    expect(tx.state).toBe('terminated');
    expect(layer.receiveResponse(response(invite, 200, 'a'), UDP_PEER)).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it("waits out the Timer M of every Accepted transaction on one clock timer (the layer's linger queue)", () => {
    const { clock, layer } = setup();
    const tu = recorder();
    const invites = ['z9hG4bKm1', 'z9hG4bKm2', 'z9hG4bKm3'].map((branch) => request({ branch }));
    const txs = invites.map((invite) => layer.sendRequest(invite, UDP_PEER, tu.handlers));
    for (const invite of invites) layer.receiveResponse(response(invite, 200, 'a'), UDP_PEER);
    expect(txs.map((tx) => tx.state)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(clock.pending).toBe(1);
    clock.advanceTo(32_000);
    expect(txs.map((tx) => tx.state)).toEqual(['terminated', 'terminated', 'terminated']);
    expect(clock.pending).toBe(0);
  });

  it('does not retransmit on a reliable transport and ends at once after a failure (D = 0)', () => {
    const { clock, layer, sent } = setup();
    const tu = recorder();
    const invite = request();
    const tx = layer.sendRequest(invite, TCP_PEER, tu.handlers);
    expect(tx.reliable).toBe(true);
    expect(clock.pending).toBe(1); // Timer B only
    clock.advance(31_999);
    expect(sent).toHaveLength(1);
    layer.receiveResponse(response(invite, 404), TCP_PEER);
    expect(sent.map((s) => s.message.kind === 'request' && s.message.method)).toEqual([
      'INVITE',
      'ACK',
    ]);
    expect(tx.state).toBe('terminated');
    expect(tu.events).toEqual(['response 404']);
    expect(layer.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('gives up 64·T1 after a CANCEL when no final response arrives (§9.1)', () => {
    const { clock, layer } = setup();
    const tu = recorder();
    const invite = request();
    const tx = layer.sendRequest(invite, UDP_PEER, tu.handlers);
    layer.receiveResponse(response(invite, 180), UDP_PEER);
    clock.advance(5000);
    const cancel = layer.sendRequest(buildCancel(invite), UDP_PEER, recorder().handlers);
    layer.receiveResponse(response(cancel.request, 200), UDP_PEER);
    clock.advance(31_999);
    expect(tx.state).toBe('proceeding');
    clock.advance(1);
    expect(tx.state).toBe('terminated');
    expect(tu.events).toEqual(['response 180', 'timeout']);
  });

  it('treats the 487 after a CANCEL as an ordinary failure', () => {
    const { clock, layer } = setup();
    const tu = recorder();
    const invite = request();
    const tx = layer.sendRequest(invite, UDP_PEER, tu.handlers);
    layer.receiveResponse(response(invite, 180), UDP_PEER);
    const cancel = layer.sendRequest(buildCancel(invite), UDP_PEER, recorder().handlers);
    layer.receiveResponse(response(cancel.request, 200), UDP_PEER);
    layer.receiveResponse(response(invite, 487), UDP_PEER);
    expect(tx.state).toBe('completed');
    clock.advance(40_000);
    expect(tu.events).toEqual(['response 180', 'response 487']);
    expect(clock.pending).toBe(0);
    expect(layer.size).toBe(0);
  });
});
