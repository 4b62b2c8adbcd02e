import { describe, expect, it } from '@jest/globals';
import {
  DialogRegistry,
  dialogFromUacResponse,
  dialogFromUasRequest,
  dialogIdOfIncoming,
  dialogIdOfResponse,
  dialogKey,
  sameDialogId,
  type Dialog,
} from '../../../../sip/dialog/index.js';
import {
  SERVER_CONTACT,
  fromAlice,
  inviteFromAlice,
  inviteToBob,
  request,
  responseFromBob,
} from './helpers.js';

function legA(): Dialog {
  const r = dialogFromUasRequest(inviteFromAlice(), {
    localTag: 'srv-a',
    localContact: SERVER_CONTACT,
  });
  if (!r.ok) throw new Error(r.reason);
  return r.dialog;
}

function legB(): Dialog {
  const r = dialogFromUacResponse(inviteToBob(), responseFromBob('200 OK', 'bob-1'));
  if (!r.ok) throw new Error(r.reason);
  return r.dialog;
}

const BYE_FROM_BOB = () =>
  request([
    'BYE sip:callwatch@203.0.113.5 SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb1',
    'From: <sip:1002@callwatch.example>;tag=bob-1',
    'To: <sip:1001@callwatch.example>;tag=srv-tag',
    'Call-ID: call-b@203.0.113.5',
    'CSeq: 9 BYE',
  ]);

describe('dialog ids of messages', () => {
  it('reads a received request from our side: To tag local, From tag remote', () => {
    expect(dialogIdOfIncoming(fromAlice('BYE', 315))).toEqual({
      callId: 'call-a@10.0.0.1',
      localTag: 'srv-a',
      remoteTag: 'alice-tag',
    });
    expect(dialogIdOfIncoming(inviteFromAlice())).toBeUndefined();
  });

  it('reads a response to our request: From tag local, To tag remote', () => {
    expect(dialogIdOfResponse(responseFromBob('180 Ringing', 'bob-1'))).toEqual({
      callId: 'call-b@203.0.113.5',
      localTag: 'srv-tag',
      remoteTag: 'bob-1',
    });
    expect(dialogIdOfResponse(responseFromBob('100 Trying', undefined))?.remoteTag).toBe('');
  });

  it('compares ids', () => {
    const id = legA().id;
    expect(sameDialogId(id, { ...id })).toBe(true);
    expect(sameDialogId(id, { ...id, remoteTag: 'x' })).toBe(false);
    expect(dialogKey(id)).not.toBe(dialogKey({ ...id, localTag: 'x' }));
  });
});

describe('DialogRegistry', () => {
  it("finds both legs of a B2BUA call by the peer's requests", () => {
    const registry = new DialogRegistry();
    const a = legA();
    const b = legB();
    expect(registry.add(a)).toBe(true);
    expect(registry.add(b)).toBe(true);
    expect(registry.size).toBe(2);
    expect(registry.findForRequest(fromAlice('BYE', 315))).toBe(a);
    expect(registry.findForRequest(BYE_FROM_BOB())).toBe(b);
    expect(registry.findForResponse(responseFromBob('200 OK', 'bob-1'))).toBe(b);
    // The ACK for the 2xx to Alice matches her dialog.
    expect(registry.findForRequest(fromAlice('ACK', 314))).toBe(a);
  });

  it('matches in-dialog requests of an early dialog (PRACK, UPDATE)', () => {
    const registry = new DialogRegistry();
    const a = legA();
    expect(a.state).toBe('early');
    registry.add(a);
    expect(registry.findForRequest(fromAlice('UPDATE', 315))).toBe(a);
  });

  it('says nothing matches for unknown dialogs (→ 481) and out-of-dialog requests', () => {
    const registry = new DialogRegistry();
    registry.add(legA());
    const stranger = fromAlice('BYE', 315);
    stranger.headers.set('To', '<sip:1002@callwatch.example>;tag=other');
    expect(registry.findForRequest(stranger)).toBeUndefined();
    expect(registry.findForRequest(inviteFromAlice())).toBeUndefined();
  });

  it('refuses duplicates, removes once, and forgets the fork group when empty', () => {
    const registry = new DialogRegistry();
    const b = legB();
    expect(registry.add(b)).toBe(true);
    expect(registry.add(legB())).toBe(false);
    expect(registry.get(b.id)).toBe(b);
    expect(registry.remove(legB())).toBe(false);
    expect(registry.remove(b)).toBe(true);
    expect(registry.remove(b)).toBe(false);
    expect(registry.size).toBe(0);
    expect(registry.forksOf(b.id.callId, b.id.localTag)).toEqual([]);
    expect([...registry.values()]).toEqual([]);
  });
});
