import { describe, expect, it } from '@jest/globals';
import {
  buildDialogResponse,
  dialogFromUasRequest,
  type Dialog,
} from '../../../../sip/dialog/index.js';
import { SERVER_CONTACT, fromAlice, headerLines, inviteFromAlice } from './helpers.js';

function legA(): Dialog {
  const r = dialogFromUasRequest(inviteFromAlice(), {
    localTag: 'srv-a',
    localContact: SERVER_CONTACT,
  });
  if (!r.ok) throw new Error(r.reason);
  return r.dialog;
}

describe('buildDialogResponse (RFC 3261 §12.1.1, §13.3.1.4)', () => {
  it('answers the INVITE with our tag, its Record-Route and our Contact', () => {
    const invite = inviteFromAlice();
    const ringing = buildDialogResponse(invite, 180, legA());
    expect(headerLines(ringing)).toEqual([
      'Via: SIP/2.0/UDP p2.example;branch=z9hG4bKp2',
      'Via: SIP/2.0/UDP p1.example;branch=z9hG4bKp1',
      'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1',
      'From: "Alice" <sip:1001@callwatch.example>;tag=alice-tag',
      'To: <sip:1002@callwatch.example>;tag=srv-a',
      'Call-ID: call-a@10.0.0.1',
      'CSeq: 314 INVITE',
      'Record-Route: <sip:p2.example;lr>',
      'Record-Route: <sip:p1.example;lr>',
      'Contact: <sip:callwatch@203.0.113.5:5060>',
    ]);
    const ok = buildDialogResponse(invite, 200, legA(), {
      body: 'v=0\r\n',
      contentType: 'application/sdp',
    });
    expect(ok.headers.get('Content-Type')).toBe('application/sdp');
    expect(ok.body.toString()).toBe('v=0\r\n');
  });

  it('adds no Contact or Record-Route where none belongs', () => {
    const d = legA();
    const busy = buildDialogResponse(inviteFromAlice(), 486, d);
    expect(busy.headers.has('Contact') || busy.headers.has('Record-Route')).toBe(false);
    const byeOk = buildDialogResponse(fromAlice('BYE', 315), 200, d);
    expect(byeOk.headers.has('Contact')).toBe(false);
    const reinviteOk = buildDialogResponse(
      fromAlice('INVITE', 316, 'Record-Route: <sip:p9;lr>'),
      200,
      d,
      {
        reason: 'Fine',
        headers: [['Session-Expires', '1800;refresher=uas']],
      },
    );
    expect(reinviteOk.reason).toBe('Fine');
    expect(reinviteOk.headers.get('Contact')).toBe(SERVER_CONTACT);
    expect(reinviteOk.headers.has('Record-Route')).toBe(false);
    expect(reinviteOk.headers.get('To')).toBe('<sip:1002@callwatch.example>;tag=srv-a');
  });
});
