import { describe, expect, it } from '@jest/globals';
import { serializeMessage, type SipMessage } from '../../../../sip/message/index.js';
import { InvalidStateError, TransactionLayer } from '../../../../sip/transaction/index.js';
import { FakeClock } from './fakeClock.js';
import { TCP_PEER, UDP_PEER, request, response, setup, created } from './harness.js';

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  it('discards retransmissions in Trying, resends the last response afterwards', () => {
    const { layer, sent } = setup();
    const register = request({ method: 'REGISTER' });
    const tx = created(layer.receiveRequest(register, UDP_PEER));
    expect(tx.state).toBe('trying');
    expect(layer.receiveRequest(request({ method: 'REGISTER' }), UDP_PEER)).toEqual({
      kind: 'retransmission',
    });
    expect(sent).toHaveLength(0);
    const trying = response(register, 100);
    tx.respond(trying);
    layer.receiveRequest(request({ method: 'REGISTER' }), UDP_PEER);
    const ok = response(register, 200);
    tx.respond(ok);
    layer.receiveRequest(request({ method: 'REGISTER' }), UDP_PEER);
    // Once Completed the transaction holds its response as bytes (message/wire.ts): the
    // retransmission carries exactly the bytes of the first 200.
    expect(sent.map((s) => serializeMessage(s.message).toString())).toEqual(
      [trying, trying, ok, ok].map((m) => serializeMessage(m).toString()),
    );
    expect(sent.slice(0, 3).map((s) => s.message)).toEqual([trying, trying, ok]);
    expect(() => tx.respond(ok)).toThrow(InvalidStateError);
  });

  it('keeps only its final response once Completed over UDP: the request is released', () => {
    const { layer, sent } = setup();
    const register = request({ method: 'REGISTER' });
    const tx = created(layer.receiveRequest(register, UDP_PEER));
    expect(tx.request).toBe(register);
    tx.respond(response(register, 100));
    expect(tx.request).toBe(register);
    const ok = response(register, 200);
    tx.respond(ok);
    expect(tx.state).toBe('completed');
    expect(() => tx.request).toThrow(InvalidStateError);
    expect(tx.method).toBe('REGISTER');
    layer.receiveRequest(request({ method: 'REGISTER' }), UDP_PEER);
    expect(serializeMessage(sent[2]!.message)).toEqual(serializeMessage(ok));
  });

  it('serializes a final response it keeps once: the send gets its bytes', () => {
    const sent: Array<{ message: SipMessage; bytes: Buffer | undefined }> = [];
    const layer = new TransactionLayer({
      clock: new FakeClock(),
      send: (message, _destination, bytes) => {
        sent.push({ message, bytes });
      },
    });
    const register = request({ method: 'REGISTER' });
    const tx = created(layer.receiveRequest(register, UDP_PEER));
    const trying = response(register, 100);
    tx.respond(trying);
    const ok = response(register, 200);
    tx.respond(ok);
    layer.receiveRequest(request({ method: 'REGISTER' }), UDP_PEER);
    // The provisional goes as a message; the final as the bytes it is kept as, the same
    // bytes for the first send and the retransmission.
    expect(sent.map((s) => s.bytes === undefined)).toEqual([true, false, false]);
    expect(sent[1]!.message).toBe(ok);
    expect(sent[1]!.bytes).toEqual(serializeMessage(ok));
    expect(sent[2]!.bytes).toEqual(serializeMessage(ok));
  });

  it('ends on Timer J = 64·T1 over UDP and leaves no timer', () => {
    const { clock, layer } = setup();
    const req = request({ method: 'OPTIONS' });
    const tx = created(layer.receiveRequest(req, UDP_PEER));
    expect(clock.pending).toBe(0);
    clock.advance(300);
    tx.respond(response(req, 200));
    clock.advance(31_999);
    expect(tx.state).toBe('completed');
    clock.advance(1);
    expect(tx.state).toBe('terminated');
    expect(clock.pending).toBe(0);
    // A late retransmission is a new request for the TU.
    expect(layer.receiveRequest(request({ method: 'OPTIONS' }), UDP_PEER).kind).toBe('new');
  });

  it('ends at once on a reliable transport (J = 0)', () => {
    const { clock, layer, sent } = setup();
    const req = request({ method: 'REGISTER' });
    const tx = created(layer.receiveRequest(req, TCP_PEER));
    const ended: string[] = [];
    tx.on('terminated', (reason) => ended.push(reason));
    tx.respond(response(req, 200));
    expect(tx.state).toBe('terminated');
    expect(ended).toEqual(['completed']);
    expect(sent[0]?.destination).toBe(TCP_PEER);
    expect(layer.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('sends responses to the destination given at creation (§18.2.2)', () => {
    const { layer, sent } = setup();
    const via = { protocol: 'udp' as const, address: '198.51.100.1', port: 5099 };
    const req = request({ method: 'REGISTER' });
    const tx = created(layer.receiveRequest(req, UDP_PEER, via));
    tx.respond(response(req, 200));
    expect(sent[0]?.destination).toStrictEqual(via);
  });
});
