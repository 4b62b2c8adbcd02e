import { describe, it, expect } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createRequest,
  createResponse,
  parseMessage,
  serializeMessage,
  SipHeaders,
  type SipMessage,
} from '../../../../sip/message/index.js';

const dir = fileURLToPath(new URL('../../../fixtures/torture/valid/', import.meta.url));

function parsed(data: Buffer): SipMessage {
  const r = parseMessage(data);
  if (!r.ok) throw new Error(r.error.message);
  return r.message;
}

describe('serializeMessage', () => {
  it.each(readdirSync(dir).sort())('round-trips %s: same start line, fields and body', (file) => {
    const m = parsed(readFileSync(`${dir}${file}`));
    const again = parsed(serializeMessage(m));
    const fields = (x: SipMessage): string[] =>
      x.headers
        .entries()
        .filter((f) => f.name !== 'Content-Length')
        .map((f) => `${f.name}: ${f.value}`);
    expect(fields(again)).toEqual(fields(m));
    expect(again.body.equals(m.body)).toBe(true);
    expect(again.kind).toBe(m.kind);
    if (m.kind === 'request' && again.kind === 'request') {
      expect([again.method, again.uri, again.version]).toEqual([m.method, m.uri, m.version]);
    }
    // Serializing what was parsed from a serialization is a fixed point.
    expect(serializeMessage(again).equals(serializeMessage(m))).toBe(true);
  });

  it('writes one Content-Length, last, matching the body', () => {
    const headers = new SipHeaders()
      .append('Content-Length', '99')
      .append('Via', 'SIP/2.0/UDP h;branch=z9hG4bK1')
      .append('Content-Length', '98');
    const out = serializeMessage(createRequest('MESSAGE', 'sip:a@b', headers, Buffer.from('hi')));
    expect(out.toString()).toBe(
      'MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 2\r\n\r\nhi',
    );
  });

  it('cannot be made to inject a header through CR or LF in a value', () => {
    const headers = new SipHeaders().append('Subject', 'a\r\nVia: evil').append('X-A', 'b\nc');
    const out = serializeMessage(createResponse(200, 'OK\r\nX: y', headers)).toString();
    expect(out).toBe(
      'SIP/2.0 200 OK  X: y\r\nSubject: a  Via: evil\r\nX-A: b c\r\nContent-Length: 0\r\n\r\n',
    );
  });

  it('keeps UTF-8 in values and binary bodies exactly', () => {
    const body = Buffer.from([0, 255, 13, 10]);
    const headers = new SipHeaders().append('Subject', 'héllo ☎');
    const out = serializeMessage(createResponse(200, 'Größe', headers, body));
    expect(out.subarray(-4).equals(body)).toBe(true);
    expect(out.toString('utf8')).toContain('Subject: héllo ☎\r\n');
    expect(out.toString('utf8').startsWith('SIP/2.0 200 Größe\r\n')).toBe(true);
  });
});
