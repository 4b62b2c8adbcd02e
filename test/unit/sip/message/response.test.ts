import { describe, it, expect } from '@jest/globals';
import { buildResponse, parseMessage, type SipRequest } from '../../../../sip/message/index.js';

function request(extra: string[] = [], to = 'To: <sip:bob@example.com>'): SipRequest {
  const text = [
    'INVITE sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/UDP a.example;branch=z9hG4bK1, SIP/2.0/TCP b.example;branch=z9hG4bK2',
    'From: <sip:alice@example.com>;tag=a',
    to,
    'Call-ID: c1',
    'CSeq: 7 INVITE',
    'Timestamp: 54',
    ...extra,
    '',
    '',
  ].join('\r\n');
  const r = parseMessage(Buffer.from(text));
  if (r.ok && r.message.kind === 'request') return r.message;
  if (!r.ok && r.request) return r.request;
  throw new Error('no request');
}

describe('buildResponse', () => {
  it('copies every Via and the dialog headers, adds the To tag', () => {
    const res = buildResponse(request(), 486, { toTag: 'xyz', headers: [['Retry-After', '5']] });
    expect(res.status).toBe(486);
    expect(res.reason).toBe('Busy Here');
    expect(res.headers.entries().map((f) => `${f.name}: ${f.value}`)).toEqual([
      'Via: SIP/2.0/UDP a.example;branch=z9hG4bK1',
      'Via: SIP/2.0/TCP b.example;branch=z9hG4bK2',
      'From: <sip:alice@example.com>;tag=a',
      'To: <sip:bob@example.com>;tag=xyz',
      'Call-ID: c1',
      'CSeq: 7 INVITE',
      'Retry-After: 5',
    ]);
  });

  it('keeps an existing To tag, and adds none to a 100 (which copies Timestamp)', () => {
    const tagged = buildResponse(request([], 'To: <sip:bob@example.com>;tag=old'), 200, {
      toTag: 'new',
    });
    expect(tagged.headers.get('To')).toBe('<sip:bob@example.com>;tag=old');
    const trying = buildResponse(request(), 100, { toTag: 'new' });
    expect(trying.headers.get('To')).toBe('<sip:bob@example.com>');
    expect(trying.headers.get('Timestamp')).toBe('54');
  });

  it('answers a refused request: one of each single-value header, a bad To untouched', () => {
    const req = request(['CSeq: 8 INVITE'], 'To: "unterminated <sip:bob@example.com>');
    const res = buildResponse(req, 400, { toTag: 't', reason: 'Bad Request (x)' });
    expect(res.headers.getAll('CSeq')).toEqual(['7 INVITE']);
    expect(res.headers.get('To')).toBe('"unterminated <sip:bob@example.com>');
    expect(res.reason).toBe('Bad Request (x)');
  });
});
