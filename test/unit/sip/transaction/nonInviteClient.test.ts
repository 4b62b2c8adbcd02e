import { describe, expect, it } from '@jest/globals';
import { InvalidStateError } from '../../../../sip/transaction/index.js';
import { TCP_PEER, UDP_PEER, recorder, request, response, setup } from './harness.js';

describe('non-INVITE client transaction (RFC 3261 §17.1.2)', () => {
  it('retransmits on Timer E doubling up to T2, then Timer F times out at 64·T1', () => {
    const { clock, layer, requestTimes } = setup();
    const tu = recorder();
    const tx = layer.sendRequest(request({ method: 'REGISTER' }), UDP_PEER, tu.handlers);
    clock.advance(31_999);
    expect(requestTimes('REGISTER')).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    clock.advance(1);
    expect(tu.events).toEqual(['timeout']);
    expect(tx.state).toBe('terminated');
    expect(clock.pending).toBe(0);
    expect(layer.size).toBe(0);
  });

  it('keeps retransmitting at T2 intervals in Proceeding', () => {
    const { clock, layer, requestTimes } = setup();
    const tu = recorder();
    const req = request({ method: 'OPTIONS' });
    const tx = layer.sendRequest(req, UDP_PEER, tu.handlers);
    clock.advance(600); // E fired at 500, next due at 1500
    layer.receiveResponse(response(req, 100), UDP_PEER);
    expect(tx.state).toBe('proceeding');
    clock.advanceTo(14_000);
    // The armed E (1500) fires, then every T2 = 4000 ms.
    expect(requestTimes('OPTIONS')).toEqual([0, 500, 1500, 5500, 9500, 13500]);
    expect(tu.events).toEqual(['response 100']);
  });

  it('stops on a final response and absorbs retransmissions for Timer K = T4', () => {
    const { clock, layer, requestTimes } = setup();
    const tu = recorder();
    const req = request({ method: 'REGISTER' });
    const tx = layer.sendRequest(req, UDP_PEER, tu.handlers);
    clock.advance(1000);
    layer.receiveResponse(response(req, 200), UDP_PEER);
    expect(tx.state).toBe('completed');
    // It only absorbs responses until Timer K: neither the request nor the response is kept.
    expect(() => tx.request).toThrow(InvalidStateError);
    expect(tx.lastResponse).toBeUndefined();
    expect(layer.receiveResponse(response(req, 200), UDP_PEER)).toBe(true);
    clock.advance(4999);
    expect(tx.state).toBe('completed');
    clock.advance(1);
    expect(tx.state).toBe('terminated');
    expect(requestTimes('REGISTER')).toEqual([0, 500]);
    expect(tu.events).toEqual(['response 200']);
    expect(clock.pending).toBe(0);
  });

  it('on a reliable transport: no Timer E, and K = 0', () => {
    const { clock, layer, sent } = setup();
    const tu = recorder();
    const req = request({ method: 'REGISTER' });
    const tx = layer.sendRequest(req, TCP_PEER, tu.handlers);
    expect(clock.pending).toBe(1); // F
    clock.advance(10_000);
    expect(sent).toHaveLength(1);
    layer.receiveResponse(response(req, 401), TCP_PEER);
    expect(tx.state).toBe('terminated');
    expect(clock.pending).toBe(0);
    expect(tu.events).toEqual(['response 401']);
  });

  it('matches responses on branch and CSeq method (§17.1.3)', () => {
    const { layer } = setup();
    const tu = recorder();
    const req = request({ method: 'OPTIONS', branch: 'z9hG4bKone' });
    layer.sendRequest(req, UDP_PEER, tu.handlers);
    expect(
      layer.receiveResponse(
        response(request({ method: 'OPTIONS', branch: 'z9hG4bKtwo' }), 200),
        UDP_PEER,
      ),
    ).toBe(false);
    expect(
      layer.receiveResponse(
        response(request({ method: 'INFO', branch: 'z9hG4bKone' }), 200),
        UDP_PEER,
      ),
    ).toBe(false);
    expect(tu.events).toEqual([]);
    expect(layer.receiveResponse(response(req, 200), UDP_PEER)).toBe(true);
    expect(tu.events).toEqual(['response 200']);
  });
});
