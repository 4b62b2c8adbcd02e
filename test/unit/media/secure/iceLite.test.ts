/**
 * ICE-lite answers (RFC 8445 §7.3, RFC 8489): a Binding request with our ufrag and a
 * MESSAGE-INTEGRITY made with our password is answered with XOR-MAPPED-ADDRESS,
 * MESSAGE-INTEGRITY and FINGERPRINT; anything else is refused with its reason.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { answerBindingRequest } from '../../../../media/secure/iceLite.js';
import { loadWerift, type Werift } from '../../../../media/secure/werift.js';

const LOCAL = { ufrag: 'ourU', pwd: 'ourpasswordourpassword' };
let w: Werift;

beforeAll(async () => {
  w = await loadWerift();
});

function request(username: string, pwd: string, nominate = false): Buffer {
  const m = new w.Message(w.methods.BINDING, w.classes.REQUEST)
    .setAttribute('USERNAME', username)
    .setAttribute('PRIORITY', 1853824767);
  if (nominate) m.setAttribute('USE-CANDIDATE', null);
  return m.addMessageIntegrity(Buffer.from(pwd)).addFingerprint().bytes;
}

describe('answerBindingRequest', () => {
  it('answers a check with our credentials: same transaction, the source mapped, signed', () => {
    const data = request('ourU:theirs', LOCAL.pwd, true);
    const out = answerBindingRequest(w, data, LOCAL, 'theirs', '192.0.2.9', 50000);
    if (!out.ok) throw new Error(out.reason);
    expect(out.nominated).toBe(true);
    // The peer verifies our response with our password (it is the remote one for it).
    const response = w.parseMessage(out.response, Buffer.from(LOCAL.pwd));
    expect(response).toBeDefined();
    expect(response!.messageClass).toBe(w.classes.RESPONSE);
    expect(response!.transactionId.equals(data.subarray(8, 20))).toBe(true);
    expect(response!.getAttributeValue('XOR-MAPPED-ADDRESS')).toEqual(['192.0.2.9', 50000]);
  });

  it('takes any peer ufrag before the peer’s SDP is known', () => {
    const out = answerBindingRequest(
      w,
      request('ourU:anyone', LOCAL.pwd),
      LOCAL,
      null,
      '127.0.0.1',
      1,
    );
    expect(out.ok).toBe(true);
  });

  it('refuses a wrong password, a wrong ufrag, a wrong peer ufrag, non-requests and garbage', () => {
    const at = (data: Buffer, remote: string | null = null) =>
      answerBindingRequest(w, data, LOCAL, remote, '127.0.0.1', 1);
    expect(at(request('ourU:theirs', 'wrongpasswordwrongpassword'))).toEqual({
      ok: false,
      reason: 'bad-integrity',
    });
    expect(at(request('notU:theirs', LOCAL.pwd))).toEqual({ ok: false, reason: 'wrong-username' });
    expect(at(request('ourU:other', LOCAL.pwd), 'theirs')).toEqual({
      ok: false,
      reason: 'wrong-username',
    });
    const indication = new w.Message(w.methods.BINDING, w.classes.INDICATION).addFingerprint()
      .bytes;
    expect(at(indication)).toEqual({ ok: false, reason: 'not-a-binding-request' });
    const unsigned = new w.Message(w.methods.BINDING, w.classes.REQUEST)
      .setAttribute('USERNAME', 'ourU:theirs')
      .addFingerprint().bytes;
    expect(at(unsigned)).toEqual({ ok: false, reason: 'bad-integrity' });
    const corrupt = Buffer.from(request('ourU:theirs', LOCAL.pwd));
    corrupt[corrupt.length - 1]! ^= 0xff; // FINGERPRINT no longer matches
    expect(at(corrupt)).toEqual({ ok: false, reason: 'malformed' });
  });
});
