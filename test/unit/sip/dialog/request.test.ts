import { describe, expect, it } from '@jest/globals';
import {
  DialogError,
  createAck,
  createInDialogRequest,
  dialogFromUacResponse,
  isLooseRoute,
  dialogFromUasRequest,
  nextHopUri,
  parseRouteSet,
  terminateDialog,
  type Dialog,
} from '../../../../sip/dialog/index.js';
import {
  parseMessage,
  serializeMessage,
  topVia,
  viaBranch,
} from '../../../../sip/message/index.js';
import {
  SERVER_CONTACT,
  headerLines,
  inviteFromAlice,
  inviteToBob,
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

function uacDialog(...rr: string[]): Dialog {
  const ok = responseFromBob('200 OK', 'bob-1', 'Contact: <sip:1002@10.0.0.2:5060;transport=udp>');
  ok.headers.remove('Record-Route');
  for (const value of rr) ok.headers.append('Record-Route', value);
  const r = dialogFromUacResponse(inviteToBob(), ok);
  if (!r.ok) throw new Error(r.reason);
  return r.dialog;
}

describe('createInDialogRequest (RFC 3261 §12.2.1.1)', () => {
  it('builds a BYE from the UAS side: loose routes, tags, CSeq starting at 1', () => {
    const d = uasDialog();
    const bye = createInDialogRequest(d, 'BYE');
    expect(bye.method).toBe('BYE');
    expect(bye.uri).toBe('sip:1001@10.0.0.1:5060');
    expect(headerLines(bye)).toEqual([
      'Route: <sip:p2.example;lr>',
      'Route: <sip:p1.example;lr>',
      'Max-Forwards: 70',
      'From: <sip:1002@callwatch.example>;tag=srv-a',
      'To: "Alice" <sip:1001@callwatch.example>;tag=alice-tag',
      'Call-ID: call-a@10.0.0.1',
      'CSeq: 1 BYE',
    ]);
    expect(d.localSeq).toBe(1);
    expect(createInDialogRequest(d, 'INFO').headers.get('CSeq')).toBe('2 INFO');
  });

  it('builds a re-INVITE from the UAC side with Contact, body and a Via on top', () => {
    const d = uacDialog('<sip:p2.example;lr>', '<sip:p1.example;lr>');
    const reinvite = createInDialogRequest(d, 'INVITE', {
      via: { transport: 'udp', host: '203.0.113.5', port: 5060 },
      body: 'v=0\r\n',
      contentType: 'application/sdp',
      headers: [['Session-Expires', '1800;refresher=uac']],
    });
    const lines = headerLines(reinvite);
    expect(lines[0]).toMatch(/^Via: SIP\/2\.0\/UDP 203\.0\.113\.5:5060;branch=z9hG4bK\w+;rport$/);
    expect(lines.slice(1)).toEqual([
      'Route: <sip:p1.example;lr>',
      'Route: <sip:p2.example;lr>',
      'Max-Forwards: 70',
      'From: <sip:1001@callwatch.example>;tag=srv-tag',
      'To: <sip:1002@callwatch.example>;tag=bob-1',
      'Call-ID: call-b@203.0.113.5',
      'CSeq: 2 INVITE',
      'Contact: <sip:callwatch@203.0.113.5:5060>',
      'Session-Expires: 1800;refresher=uac',
      'Content-Type: application/sdp',
    ]);
    expect(reinvite.uri).toBe('sip:1002@10.0.0.2:5060;transport=udp');
    expect(reinvite.body.toString()).toBe('v=0\r\n');
    // What goes on the wire parses back.
    const back = parseMessage(serializeMessage(reinvite));
    expect(back.ok).toBe(true);
  });

  it('handles a strict router first: its URI becomes the Request-URI (§12.2.1.1)', () => {
    // Record-Route from the 200, reversed: the strict router p0 is the first hop.
    const d = uacDialog('<sip:p2.example;lr>', '<sip:p0.example;method=INVITE;maddr=10.9.9.9>');
    const bye = createInDialogRequest(d, 'BYE');
    expect(bye.uri).toBe('sip:p0.example;maddr=10.9.9.9');
    expect(bye.headers.getAll('Route')).toEqual([
      '<sip:p2.example;lr>',
      '<sip:1002@10.0.0.2:5060;transport=udp>',
    ]);
    expect(nextHopUri(d)).toBe('sip:p0.example;method=INVITE;maddr=10.9.9.9');
  });

  it('sends straight to the remote target without a route set', () => {
    const d = uacDialog();
    const bye = createInDialogRequest(d, 'BYE');
    expect(bye.uri).toBe('sip:1002@10.0.0.2:5060;transport=udp');
    expect(bye.headers.has('Route')).toBe(false);
    expect(nextHopUri(d)).toBe('sip:1002@10.0.0.2:5060;transport=udp');
  });

  it('leaves the To tag out for an RFC 2543 peer', () => {
    const ok = responseFromBob('200 OK', undefined, 'Contact: <sip:1002@10.0.0.2>');
    const r = dialogFromUacResponse(inviteToBob(), ok);
    if (!r.ok) throw new Error(r.reason);
    expect(createInDialogRequest(r.dialog, 'BYE').headers.get('To')).toBe(
      '<sip:1002@callwatch.example>',
    );
  });

  it('refuses ACK, CANCEL and terminated dialogs', () => {
    const d = uasDialog();
    expect(() => createInDialogRequest(d, 'ACK')).toThrow(DialogError);
    expect(() => createInDialogRequest(d, 'CANCEL')).toThrow(DialogError);
    terminateDialog(d);
    expect(() => createInDialogRequest(d, 'BYE')).toThrow(
      expect.objectContaining({ code: 'ERR_DIALOG_TERMINATED' }),
    );
  });

  it('parses route sets and tells loose from strict', () => {
    expect(parseRouteSet(['<sip:a;lr>', 'garbage <'])).toBeUndefined();
    expect(parseRouteSet([])).toEqual([]);
    const routes = parseRouteSet(['<sip:a.example;lr>', '<sip:b.example>', 'sip:c.example;lr']);
    // The last is an addr-spec: its `;lr` is a header parameter, not a URI one.
    expect(routes?.map(isLooseRoute)).toEqual([true, false, false]);
  });
});

describe('createAck for a 2xx (RFC 3261 §13.2.2.4)', () => {
  it("uses the INVITE's CSeq number, the route set, a new branch, and no CSeq of its own", () => {
    const invite = inviteToBob();
    const d = uacDialog('<sip:p2.example;lr>', '<sip:p1.example;lr>');
    const ack = createAck(d, 1, {
      via: { transport: 'UDP', host: '203.0.113.5', port: 5060 },
      headers: [['Proxy-Authorization', 'Digest username="srv"']],
    });
    expect(ack.method).toBe('ACK');
    expect(ack.uri).toBe('sip:1002@10.0.0.2:5060;transport=udp');
    expect(ack.headers.get('CSeq')).toBe('1 ACK');
    expect(ack.headers.getAll('Route')).toEqual(['<sip:p1.example;lr>', '<sip:p2.example;lr>']);
    expect(ack.headers.get('To')).toBe('<sip:1002@callwatch.example>;tag=bob-1');
    expect(ack.headers.has('Contact')).toBe(false);
    expect(ack.headers.get('Proxy-Authorization')).toBe('Digest username="srv"');
    expect(viaBranch(topVia(ack))).not.toBe(viaBranch(topVia(invite)));
    expect(d.localSeq).toBe(1);
    // A later request still moves on from the INVITE's number.
    expect(createInDialogRequest(d, 'BYE').headers.get('CSeq')).toBe('2 BYE');
  });

  it('carries the answer when the 2xx carried the offer', () => {
    const ack = createAck(uacDialog(), 1, { body: 'v=0\r\n', contentType: 'application/sdp' });
    expect(ack.headers.get('Content-Type')).toBe('application/sdp');
    expect(ack.body.toString()).toBe('v=0\r\n');
  });
});
