import { describe, expect, it } from '@jest/globals';
import {
  checkRemoteCSeq,
  dialogFromUacResponse,
  dialogFromUasRequest,
  nextLocalSeq,
  type Dialog,
} from '../../../../sip/dialog/index.js';
import { MAX_CSEQ } from '../../../../sip/message/index.js';
import {
  SERVER_CONTACT,
  fromAlice,
  inviteFromAlice,
  inviteToBob,
  request,
  responseFromBob,
} from './helpers.js';

function uasDialog(): Dialog {
  const r = dialogFromUasRequest(inviteFromAlice(), {
    localTag: 'srv-a',
    localContact: SERVER_CONTACT,
  });
  if (!r.ok) throw new Error(r.reason);
  return r.dialog;
}

describe('CSeq ordering (RFC 3261 §12.2.2)', () => {
  it('accepts increasing numbers and answers 500 to lower or equal ones', () => {
    const d = uasDialog(); // remote CSeq 314 from the INVITE
    expect(checkRemoteCSeq(d, fromAlice('INVITE', 315))).toEqual({ ok: true });
    expect(d.remoteSeq).toBe(315);
    expect(checkRemoteCSeq(d, fromAlice('BYE', 315))).toMatchObject({ ok: false, status: 500 });
    expect(checkRemoteCSeq(d, fromAlice('BYE', 200))).toMatchObject({ ok: false, status: 500 });
    expect(d.remoteSeq).toBe(315);
    // Gaps are fine (the peer may have sent requests that never arrived).
    expect(checkRemoteCSeq(d, fromAlice('BYE', 400))).toEqual({ ok: true });
  });

  it("does not count ACK (the INVITE's number) or CANCEL", () => {
    const d = uasDialog();
    expect(checkRemoteCSeq(d, fromAlice('ACK', 314))).toEqual({ ok: true });
    expect(checkRemoteCSeq(d, fromAlice('CANCEL', 314))).toEqual({ ok: true });
    expect(d.remoteSeq).toBe(314);
  });

  it('takes any first number on the UAC side, whose remote sequence starts empty', () => {
    const r = dialogFromUacResponse(inviteToBob(), responseFromBob('200 OK', 'bob-1'));
    if (!r.ok) throw new Error(r.reason);
    const d = r.dialog;
    expect(d.remoteSeq).toBeUndefined();
    const bye = (seq: number) =>
      request([
        'BYE sip:callwatch@203.0.113.5 SIP/2.0',
        'Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb1',
        'From: <sip:1002@callwatch.example>;tag=bob-1',
        'To: <sip:1001@callwatch.example>;tag=srv-tag',
        'Call-ID: call-b@203.0.113.5',
        `CSeq: ${seq} BYE`,
      ]);
    expect(checkRemoteCSeq(d, bye(5000))).toEqual({ ok: true });
    expect(checkRemoteCSeq(d, bye(4999))).toMatchObject({ ok: false, status: 500 });
  });

  it('numbers our requests one up, from 1 on the UAS side, and stops at 2^32 - 1', () => {
    const d = uasDialog();
    expect([nextLocalSeq(d), nextLocalSeq(d)]).toEqual([1, 2]);
    d.localSeq = MAX_CSEQ - 1;
    expect(nextLocalSeq(d)).toBe(MAX_CSEQ);
    expect(() => nextLocalSeq(d)).toThrow(expect.objectContaining({ code: 'ERR_CSEQ_EXHAUSTED' }));
  });
});
