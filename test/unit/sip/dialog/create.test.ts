import { describe, expect, it } from '@jest/globals';
import {
  DialogRegistry,
  confirmDialog,
  dialogFromUacResponse,
  dialogFromUasRequest,
  type Dialog,
  type DialogResult,
} from '../../../../sip/dialog/index.js';
import { formatNameAddr } from '../../../../sip/message/index.js';
import {
  SERVER_CONTACT,
  inviteFromAlice,
  inviteToBob,
  request,
  responseFromBob,
} from './helpers.js';

function created(result: DialogResult): Dialog {
  if (!result.ok) throw new Error(`no dialog: ${result.reason}`);
  return result.dialog;
}

const UAS = { localTag: 'srv-a', localContact: SERVER_CONTACT };

describe('dialogFromUasRequest (RFC 3261 §12.1.1)', () => {
  it('takes ids, parties, route set in order, target and remote CSeq from the INVITE', () => {
    const d = created(dialogFromUasRequest(inviteFromAlice(), UAS));
    expect(d.id).toEqual({ callId: 'call-a@10.0.0.1', localTag: 'srv-a', remoteTag: 'alice-tag' });
    expect(d.role).toBe('uas');
    expect(d.state).toBe('early');
    expect(d.local).toEqual({ uri: 'sip:1002@callwatch.example' });
    expect(d.remote).toEqual({ uri: 'sip:1001@callwatch.example', displayName: 'Alice' });
    expect(d.routeSet.map(formatNameAddr)).toEqual(['<sip:p2.example;lr>', '<sip:p1.example;lr>']);
    expect(d.remoteTarget).toBe('sip:1001@10.0.0.1:5060');
    expect([d.localSeq, d.remoteSeq]).toEqual([undefined, 314]);
    expect([d.secure, d.ownsCallId]).toEqual([false, false]);
    expect(
      created(dialogFromUasRequest(inviteFromAlice(), { ...UAS, state: 'confirmed' })).state,
    ).toBe('confirmed');
  });

  it('is secure only for a SIPS Request-URI received over TLS', () => {
    const sips = inviteFromAlice();
    sips.uri = 'sips:1002@callwatch.example';
    expect(created(dialogFromUasRequest(sips, { ...UAS, overTls: true })).secure).toBe(true);
    expect(created(dialogFromUasRequest(sips, UAS)).secure).toBe(false);
    expect(created(dialogFromUasRequest(inviteFromAlice(), { ...UAS, overTls: true })).secure).toBe(
      false,
    );
  });

  it('gives an RFC 2543 caller without From tag an empty remote tag', () => {
    const old = inviteFromAlice();
    old.headers.set('From', '<sip:1001@callwatch.example>');
    expect(created(dialogFromUasRequest(old, UAS)).id.remoteTag).toBe('');
  });

  it('refuses what cannot make a dialog, with the status to answer', () => {
    const tagged = inviteFromAlice();
    tagged.headers.set('To', '<sip:1002@callwatch.example>;tag=x');
    expect(dialogFromUasRequest(tagged, UAS)).toMatchObject({ ok: false, status: 481 });

    const noContact = inviteFromAlice();
    noContact.headers.remove('Contact');
    expect(dialogFromUasRequest(noContact, UAS)).toMatchObject({ ok: false, status: 400 });

    const twoContacts = inviteFromAlice('Contact: <sip:other@10.0.0.9>');
    expect(dialogFromUasRequest(twoContacts, UAS)).toMatchObject({ ok: false, status: 400 });

    const badRoute = inviteFromAlice('Record-Route: <sip:broken');
    expect(dialogFromUasRequest(badRoute, UAS)).toMatchObject({ ok: false, status: 400 });
  });
});

describe('dialogFromUacResponse (RFC 3261 §12.1.2)', () => {
  it('creates an early dialog from a 180 with To tag: route set reversed', () => {
    const ringing = responseFromBob('180 Ringing', 'bob-1', 'Contact: <sip:1002@10.0.0.2:5060>');
    const d = created(dialogFromUacResponse(inviteToBob(), ringing));
    expect(d.id).toEqual({ callId: 'call-b@203.0.113.5', localTag: 'srv-tag', remoteTag: 'bob-1' });
    expect([d.role, d.state, d.ownsCallId]).toEqual(['uac', 'early', true]);
    expect(d.routeSet.map(formatNameAddr)).toEqual(['<sip:p1.example;lr>', '<sip:p2.example;lr>']);
    expect(d.remoteTarget).toBe('sip:1002@10.0.0.2:5060');
    expect([d.localSeq, d.remoteSeq]).toEqual([1, undefined]);
    expect(d.localContact).toBe(SERVER_CONTACT);
  });

  it('creates a confirmed dialog from a 200', () => {
    const ok = responseFromBob('200 OK', 'bob-1', 'Contact: <sip:1002@10.0.0.2:5060>');
    expect(created(dialogFromUacResponse(inviteToBob(), ok)).state).toBe('confirmed');
  });

  it('targets the Request-URI when a 1xx has no Contact', () => {
    const d = created(
      dialogFromUacResponse(inviteToBob(), responseFromBob('183 Session Progress', 'b')),
    );
    expect(d.remoteTarget).toBe('sip:1002@10.0.0.2:5060');
  });

  it('makes no dialog from 100, a 1xx without To tag, a final non-2xx or a stranger', () => {
    const invite = inviteToBob();
    expect(dialogFromUacResponse(invite, responseFromBob('100 Trying', undefined)).ok).toBe(false);
    expect(dialogFromUacResponse(invite, responseFromBob('180 Ringing', undefined)).ok).toBe(false);
    expect(dialogFromUacResponse(invite, responseFromBob('486 Busy Here', 'b')).ok).toBe(false);
    const stranger = responseFromBob('200 OK', 'b');
    stranger.headers.set('Call-ID', 'other@x');
    expect(dialogFromUacResponse(invite, stranger).ok).toBe(false);
  });

  it('accepts a 2xx without To tag from an RFC 2543 peer', () => {
    const d = created(dialogFromUacResponse(inviteToBob(), responseFromBob('200 OK', undefined)));
    expect(d.id.remoteTag).toBe('');
  });

  it('keeps forked early dialogs apart and confirms the one that answers', () => {
    const invite = inviteToBob();
    const registry = new DialogRegistry();
    const fork1 = created(
      dialogFromUacResponse(
        invite,
        responseFromBob('180 Ringing', 'desk', 'Contact: <sip:desk@10.0.0.2>'),
      ),
    );
    const fork2 = created(
      dialogFromUacResponse(
        invite,
        responseFromBob('180 Ringing', 'mobile', 'Contact: <sip:m@10.0.0.3>'),
      ),
    );
    expect(registry.add(fork1)).toBe(true);
    expect(registry.add(fork2)).toBe(true);
    expect(registry.forksOf('call-b@203.0.113.5', 'srv-tag')).toHaveLength(2);

    // The mobile answers: its 200 comes through a different proxy path.
    const ok = responseFromBob('200 OK', 'mobile', 'Contact: <sip:m@10.0.0.3:5062>');
    ok.headers.remove('Record-Route');
    ok.headers.append('Record-Route', '<sip:p3.example;lr>');
    const found = registry.findForResponse(ok);
    expect(found).toBe(fork2);
    expect(confirmDialog(fork2, ok)).toEqual({ ok: true });
    expect(fork2.state).toBe('confirmed');
    expect(fork2.routeSet.map(formatNameAddr)).toEqual(['<sip:p3.example;lr>']);
    expect(fork2.remoteTarget).toBe('sip:m@10.0.0.3:5062');
    expect(fork1.state).toBe('early');

    // A 200 from a fork never seen before matches nothing: the caller creates its dialog.
    expect(registry.findForResponse(responseFromBob('200 OK', 'tablet'))).toBeUndefined();
  });

  it('confirms a UAS dialog without a response, and refuses a non-2xx', () => {
    const uas = created(dialogFromUasRequest(inviteFromAlice(), UAS));
    expect(confirmDialog(uas)).toEqual({ ok: true });
    expect(uas.state).toBe('confirmed');
    const uac = created(dialogFromUacResponse(inviteToBob(), responseFromBob('180 Ringing', 'b')));
    expect(confirmDialog(uac, responseFromBob('180 Ringing', 'b')).ok).toBe(false);
  });

  it('refuses to build from a response when our own INVITE lacks a From tag', () => {
    const untagged = request([
      'INVITE sip:1002@10.0.0.2 SIP/2.0',
      'Via: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bKs1',
      'From: <sip:1001@callwatch.example>',
      'To: <sip:1002@callwatch.example>',
      'Call-ID: call-b@203.0.113.5',
      'CSeq: 1 INVITE',
      'Contact: <sip:callwatch@203.0.113.5>',
    ]);
    expect(dialogFromUacResponse(untagged, responseFromBob('200 OK', 'b')).ok).toBe(false);
  });
});
