import { describe, expect, it } from '@jest/globals';
import { buildCancel, serverKey } from '../../../../sip/transaction/index.js';
import { UDP_PEER, ackFor, created, request, response, setup } from './harness.js';

describe('server transaction matching (RFC 3261 §17.2.3)', () => {
  it('matches on branch, sent-by and method', () => {
    const { layer } = setup();
    expect(layer.receiveRequest(request(), UDP_PEER).kind).toBe('new');
    expect(layer.receiveRequest(request(), UDP_PEER).kind).toBe('retransmission');
    // Same branch from another sent-by, or another method: other transactions.
    expect(layer.receiveRequest(request({ sentBy: '192.0.2.99:5060' }), UDP_PEER).kind).toBe('new');
    expect(layer.receiveRequest(request({ method: 'OPTIONS' }), UDP_PEER).kind).toBe('new');
    expect(layer.counts.server).toBe(3);
  });

  it('compares the sent-by host case-insensitively', () => {
    expect(serverKey(request({ sentBy: 'PC33.Example.com:5060' }))).toBe(
      serverKey(request({ sentBy: 'pc33.example.com:5060' })),
    );
  });

  it('gives CANCEL its own transaction, findable against the INVITE it cancels (§9.2)', () => {
    const { layer } = setup();
    const invite = request();
    const inviteTx = created(layer.receiveRequest(invite, UDP_PEER));
    const cancel = buildCancel(invite);
    const cancelTx = created(layer.receiveRequest(cancel, UDP_PEER));
    expect(cancelTx).not.toBe(inviteTx);
    expect(cancelTx.method).toBe('CANCEL');
    expect(layer.findInviteServerTransactionFor(cancel)).toBe(inviteTx);
    expect(
      layer.findInviteServerTransactionFor(buildCancel(request({ branch: 'z9hG4bKother' }))),
    ).toBeUndefined();
    // A CANCEL retransmission is absorbed by the CANCEL transaction.
    expect(layer.receiveRequest(buildCancel(invite), UDP_PEER).kind).toBe('retransmission');
  });

  it('treats an ACK that matches no transaction as an ACK for a 2xx', () => {
    const { layer } = setup();
    const ack = request({ method: 'ACK', branch: 'z9hG4bKnew', toTag: 'x' });
    expect(layer.receiveRequest(ack, UDP_PEER)).toEqual({ kind: 'ack-for-2xx' });
    expect(layer.size).toBe(0);
  });
});

describe('RFC 2543 fallback (§17.2.3, branch without the magic cookie)', () => {
  const old = { branch: null, toTag: undefined } as const;

  it('matches INVITE retransmissions on Request-URI, tags, Call-ID, CSeq and top Via', () => {
    const { layer } = setup();
    expect(layer.receiveRequest(request(old), UDP_PEER).kind).toBe('new');
    expect(layer.receiveRequest(request(old), UDP_PEER).kind).toBe('retransmission');
    expect(layer.receiveRequest(request({ ...old, branch: '1234' }), UDP_PEER).kind).toBe('new');
    expect(layer.receiveRequest(request({ ...old, cseq: 2 }), UDP_PEER).kind).toBe('new');
    expect(layer.receiveRequest(request({ ...old, fromTag: 'other' }), UDP_PEER).kind).toBe('new');
    expect(layer.receiveRequest(request({ ...old, callId: 'c2' }), UDP_PEER).kind).toBe('new');
    expect(
      layer.receiveRequest(request({ ...old, uri: 'sip:carol@example.com' }), UDP_PEER).kind,
    ).toBe('new');
    expect(layer.receiveRequest(request({ ...old, sentBy: '192.0.2.11' }), UDP_PEER).kind).toBe(
      'new',
    );
  });

  it('matches the ACK on the To tag of the response the transaction sent', () => {
    const { layer, clock } = setup();
    const invite = request(old);
    const tx = created(layer.receiveRequest(invite, UDP_PEER));
    const busy = response(invite, 486, 'srv');
    tx.respond(busy);
    const wrongTag = ackFor(invite, response(invite, 486, 'nope'));
    expect(layer.receiveRequest(wrongTag, UDP_PEER)).toEqual({ kind: 'ack-for-2xx' });
    expect(tx.state).toBe('completed');
    expect(layer.receiveRequest(ackFor(invite, busy), UDP_PEER)).toEqual({ kind: 'ack-absorbed' });
    expect(tx.state).toBe('confirmed');
    clock.advance(5000);
    expect(layer.size).toBe(0);
  });

  it('matches an in-dialog re-INVITE ACK whose To tag was already in the INVITE', () => {
    const { layer } = setup();
    const reinvite = request({ branch: null, toTag: 'dlg', cseq: 5 });
    const tx = created(layer.receiveRequest(reinvite, UDP_PEER));
    const fail = response(reinvite, 491);
    tx.respond(fail);
    expect(layer.receiveRequest(ackFor(reinvite, fail), UDP_PEER)).toEqual({
      kind: 'ack-absorbed',
    });
  });

  it('finds the INVITE a 2543 CANCEL refers to', () => {
    const { layer } = setup();
    const invite = request(old);
    const tx = created(layer.receiveRequest(invite, UDP_PEER));
    const cancel = buildCancel(invite);
    expect(layer.receiveRequest(cancel, UDP_PEER).kind).toBe('new');
    expect(layer.findInviteServerTransactionFor(cancel)).toBe(tx);
  });
});
