import { describe, expect, it } from '@jest/globals';
import { buildOutboundInvite } from '../../../../src/calls/outboundInvite.js';
import { parseMessage } from '../../../../sip/message/parse.js';
import { serializeMessage } from '../../../../sip/message/serialize.js';
import { addVia } from '../../../../sip/transaction/via.js';

const input = {
  requestUri: 'sip:1002-0x55f8@127.0.0.1:5070',
  from: { uri: 'sip:1001@127.0.0.1', displayName: 'Alice "A"', tag: 'ftag1' },
  to: { uri: 'sip:1002@127.0.0.1' },
  callId: 'cid-1@127.0.0.1',
  cseq: 1,
  contact: 'sip:callwatch@127.0.0.1:5060',
  maxForwards: 69,
  sdp: 'v=0\r\n',
  allow: ['INVITE', 'ACK', 'BYE'],
};

describe('buildOutboundInvite', () => {
  it('addresses the contact, keeps the caller in From and the callee AOR in To', () => {
    const req = buildOutboundInvite(input);
    expect(req.method).toBe('INVITE');
    expect(req.uri).toBe('sip:1002-0x55f8@127.0.0.1:5070');
    expect(req.headers.get('From')).toBe('"Alice \\"A\\"" <sip:1001@127.0.0.1>;tag=ftag1');
    expect(req.headers.get('To')).toBe('<sip:1002@127.0.0.1>');
    expect(req.headers.get('Call-ID')).toBe('cid-1@127.0.0.1');
    expect(req.headers.get('CSeq')).toBe('1 INVITE');
    expect(req.headers.get('Contact')).toBe('<sip:callwatch@127.0.0.1:5060>');
    expect(req.headers.get('Max-Forwards')).toBe('69');
    expect(req.headers.get('Allow')).toBe('INVITE, ACK, BYE');
    expect(req.headers.get('Content-Type')).toBe('application/sdp');
    expect(req.body.toString()).toBe('v=0\r\n');
  });

  it('serializes to a message our own parser accepts once it has a Via', () => {
    const req = buildOutboundInvite(input);
    addVia(req, { transport: 'UDP', host: '127.0.0.1', port: 5060 });
    const parsed = parseMessage(serializeMessage(req));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.message.headers.get('To')).toBe('<sip:1002@127.0.0.1>');
  });
});
