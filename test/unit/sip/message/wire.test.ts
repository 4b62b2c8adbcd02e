/**
 * Messages held as their wire bytes (a completed server transaction's request and final
 * response): the bytes go out unchanged, any byte value survives, and the parsed form
 * read back equals the original.
 */
import { describe, expect, it } from '@jest/globals';
import {
  parseMessage,
  serializeMessage,
  toWire,
  type SipRequest,
} from '../../../../sip/message/index.js';
import { buildResponse } from '../../../../sip/message/response.js';

const raw = Buffer.from(
  [
    'REGISTER sip:registrar.example.com;transport=udp SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1;rport=5061;received=127.0.0.1',
    'From: "Zoë" <sip:1001@example.com>;tag=a',
    'To: <sip:1001@example.com>',
    'Call-ID: c1@h',
    'CSeq: 1 REGISTER',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

function request(): SipRequest {
  const r = parseMessage(raw);
  if (!r.ok || r.message.kind !== 'request') throw new Error('fixture');
  return r.message;
}

describe('toWire', () => {
  it('keeps a request’s bytes, method, URI and headers', () => {
    const original = request();
    const wire = toWire(original);
    expect(serializeMessage(wire)).toEqual(serializeMessage(original));
    expect(wire.method).toBe('REGISTER');
    expect(wire.uri).toBe('sip:registrar.example.com;transport=udp');
    expect(wire.headers.get('From')).toBe('"Zoë" <sip:1001@example.com>;tag=a');
    expect(toWire(wire)).toBe(wire);
  });

  it('keeps a response’s status and bytes, and serializes edits once the headers are read', () => {
    const ok = buildResponse(request(), 200, { toTag: 'x', headers: [['Contact', '<sip:a@b>']] });
    const wire = toWire(ok);
    expect(wire.status).toBe(200);
    expect(serializeMessage(wire)).toEqual(serializeMessage(ok));
    wire.headers.append('Date', 'now');
    expect(serializeMessage(wire).toString()).toContain('\r\nDate: now\r\n');
  });
});
