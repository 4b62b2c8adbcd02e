import { describe, expect, it } from '@jest/globals';
import {
  createInDialogRequest,
  dialogFromUacResponse,
  dialogFromUasRequest,
  isTargetRefresh,
  refreshRemoteTarget,
  type Dialog,
} from '../../../../sip/dialog/index.js';
import {
  SERVER_CONTACT,
  fromAlice,
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

describe('target refresh (RFC 3261 §12.2)', () => {
  it('knows the target-refresh methods', () => {
    expect(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER'].every(isTargetRefresh)).toBe(true);
    expect(['BYE', 'INFO', 'OPTIONS', 'ACK', 'PRACK'].some(isTargetRefresh)).toBe(false);
  });

  it("takes the peer's new Contact from a re-INVITE or UPDATE it sends (§12.2.2)", () => {
    const d = uasDialog();
    const moved = fromAlice('INVITE', 315, 'Contact: <sip:1001@10.0.0.11:5070>');
    expect(refreshRemoteTarget(d, moved)).toEqual({ ok: true, changed: true });
    expect(d.remoteTarget).toBe('sip:1001@10.0.0.11:5070');
    expect(createInDialogRequest(d, 'BYE').uri).toBe('sip:1001@10.0.0.11:5070');
    const same = fromAlice('UPDATE', 316, 'Contact: <sip:1001@10.0.0.11:5070>');
    expect(refreshRemoteTarget(d, same)).toEqual({ ok: true, changed: false });
  });

  it('ignores requests that refresh nothing, and answers 400 to a refresh without Contact', () => {
    const d = uasDialog();
    expect(refreshRemoteTarget(d, fromAlice('INFO', 315, 'Contact: <sip:x@10.9.9.9>'))).toEqual({
      ok: true,
      changed: false,
    });
    expect(refreshRemoteTarget(d, fromAlice('INVITE', 316))).toMatchObject({
      ok: false,
      status: 400,
    });
    expect(d.remoteTarget).toBe('sip:1001@10.0.0.1:5060');
  });

  it('takes the new Contact from the 2xx to our re-INVITE only (§12.2.1.2)', () => {
    const r = dialogFromUacResponse(
      inviteToBob(),
      responseFromBob('200 OK', 'bob-1', 'Contact: <sip:b@10.0.0.2>'),
    );
    if (!r.ok) throw new Error(r.reason);
    const d = r.dialog;
    const provisional = responseFromBob('180 Ringing', 'bob-1', 'Contact: <sip:b@10.0.0.99>');
    expect(refreshRemoteTarget(d, provisional)).toEqual({ ok: true, changed: false });
    const byeOk = responseFromBob('200 OK', 'bob-1', 'Contact: <sip:b@10.0.0.98>');
    byeOk.headers.set('CSeq', '2 BYE');
    expect(refreshRemoteTarget(d, byeOk)).toEqual({ ok: true, changed: false });
    const noContact = responseFromBob('200 OK', 'bob-1');
    noContact.headers.set('CSeq', '2 INVITE');
    expect(refreshRemoteTarget(d, noContact)).toEqual({ ok: true, changed: false });
    const moved = responseFromBob('200 OK', 'bob-1', 'Contact: <sip:b@10.0.0.3>');
    moved.headers.set('CSeq', '3 INVITE');
    expect(refreshRemoteTarget(d, moved)).toEqual({ ok: true, changed: true });
    expect(d.remoteTarget).toBe('sip:b@10.0.0.3');
  });
});
