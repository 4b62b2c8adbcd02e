import { describe, expect, it } from '@jest/globals';
import { cseqOf, parseMessage, serializeMessage, topVia } from '../../../../sip/message/index.js';
import {
  DEFAULT_TIMER_CONFIG,
  addVia,
  buildCancel,
  timerValues,
} from '../../../../sip/transaction/index.js';
import { request } from './harness.js';
import { FakeClock } from './fakeClock.js';

describe('buildCancel (RFC 3261 §9.1)', () => {
  it('copies Request-URI, Call-ID, To, From, CSeq number, top Via and Route', () => {
    const invite = request({ routes: ['<sip:p1;lr>'], cseq: 7 });
    invite.headers.prepend('Via', 'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKtop');
    invite.headers.append('Require', '100rel');
    const cancel = buildCancel(invite);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.uri).toBe(invite.uri);
    expect(cancel.headers.getAll('Via')).toEqual(['SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKtop']);
    for (const name of ['Call-ID', 'To', 'From']) {
      expect(cancel.headers.get(name)).toBe(invite.headers.get(name));
    }
    expect(cseqOf(cancel)).toEqual({ seq: 7, method: 'CANCEL' });
    expect(cancel.headers.getAll('Route')).toEqual(['<sip:p1;lr>']);
    expect(cancel.headers.has('Require')).toBe(false);
    expect(parseMessage(serializeMessage(cancel)).ok).toBe(true);
  });
});

describe('addVia', () => {
  it('prepends a Via with a cookie branch and rport', () => {
    const req = request();
    const branch = addVia(req, { transport: 'tcp', host: '::1', port: 5070 });
    expect(branch.startsWith('z9hG4bK')).toBe(true);
    const via = topVia(req);
    expect(via).toMatchObject({ transport: 'TCP', host: '[::1]', port: 5070 });
    expect(via.params.get('branch')).toBe(branch);
    expect(via.params.get('rport')).toBeNull();
    expect(req.headers.count('Via')).toBe(2);
  });
});

describe('timerValues (RFC 3261 Appendix A)', () => {
  it('gives the RFC defaults for UDP and zero waits for TCP', () => {
    expect(timerValues(DEFAULT_TIMER_CONFIG, false)).toMatchObject({
      retransmit: true,
      A: 500,
      B: 32_000,
      D: 32_000,
      E: 500,
      F: 32_000,
      G: 500,
      H: 32_000,
      I: 5000,
      J: 32_000,
      K: 5000,
      L: 32_000,
      M: 32_000,
      trying: 200,
    });
    expect(timerValues(DEFAULT_TIMER_CONFIG, true)).toMatchObject({
      retransmit: false,
      D: 0,
      I: 0,
      J: 0,
      K: 0,
      B: 32_000,
    });
  });

  it('keeps D at least 32 s but lets a large T1 lengthen it', () => {
    expect(timerValues({ t1: 100, t2: 4000, t4: 5000 }, false).D).toBe(32_000);
    expect(timerValues({ t1: 1000, t2: 4000, t4: 5000 }, false).D).toBe(64_000);
  });
});

describe('FakeClock', () => {
  it('fires in due order, including timers armed while advancing', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push(`c@${clock.now()}`));
    clock.setTimer(10, () => {
      fired.push(`a@${clock.now()}`);
      clock.setTimer(5, () => fired.push(`b@${clock.now()}`));
    });
    const dropped = clock.setTimer(20, () => fired.push('never'));
    dropped.cancel();
    dropped.cancel();
    expect(clock.pending).toBe(2);
    clock.advance(100);
    expect(fired).toEqual(['a@10', 'b@15', 'c@30']);
    expect(clock.now()).toBe(100);
    expect(clock.pending).toBe(0);
  });
});
