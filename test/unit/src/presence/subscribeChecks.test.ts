import { describe, expect, it } from '@jest/globals';
import { parseMessage, type SipRequest } from '../../../../sip/message/index.js';
import { readSubscribe } from '../../../../src/presence/subscribeChecks.js';

function subscribe(headers: string[], body = ''): SipRequest {
  const text = [
    'SUBSCRIBE sip:1002@127.0.0.1 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc',
    'Max-Forwards: 70',
    'From: <sip:1005@127.0.0.1>;tag=f1',
    'To: <sip:1002@127.0.0.1>',
    'Call-ID: c1@127.0.0.1',
    'CSeq: 1 SUBSCRIBE',
    'Contact: <sip:1005@127.0.0.1:5070>',
    ...headers,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
  const parsed = parseMessage(Buffer.from(text));
  if (!parsed.ok || parsed.message.kind !== 'request')
    throw new Error('test message did not parse');
  return parsed.message;
}

const status = (headers: string[], body?: string) => {
  const r = readSubscribe(subscribe(headers, body));
  return r.ok ? 'ok' : `${r.status} ${r.reason}`;
};

describe('readSubscribe', () => {
  it('takes Event: dialog, with its id and the Expires asked for', () => {
    expect(readSubscribe(subscribe(['Event: dialog;id=7', 'Expires: 300']))).toEqual({
      ok: true,
      event: { type: 'dialog', id: '7' },
      expires: 300,
    });
    expect(readSubscribe(subscribe(['o: dialog']))).toMatchObject({ ok: true, expires: undefined });
  });

  it('489 with Allow-Events for an unknown or a missing Event; 400 for an unreadable one', () => {
    const r = readSubscribe(subscribe(['Event: presence']));
    expect(r).toMatchObject({ ok: false, status: 489, headers: [['Allow-Events', 'dialog']] });
    expect(status([])).toBe('489 bad-event');
    expect(status(['Event: dia log'])).toBe('400 bad-request');
    expect(status(['Event: dialog', 'Event: presence'])).toBe('400 bad-request');
  });

  it('refuses bodies: 400 without Content-Type, else 415 (no filters)', () => {
    expect(status(['Event: dialog'], '<x/>')).toBe('400 bad-request');
    expect(status(['Event: dialog', 'Content-Type: application/simple-filter+xml'], '<f/>')).toBe(
      '415 unsupported-body',
    );
  });

  it('406 when Accept leaves out dialog-info+xml (an empty Accept accepts nothing)', () => {
    expect(status(['Event: dialog', 'Accept: application/dialog-info+xml'])).toBe('ok');
    expect(status(['Event: dialog', 'Accept: application/*, text/plain'])).toBe('ok');
    expect(status(['Event: dialog', 'Accept: application/pidf+xml'])).toBe('406 not-acceptable');
    expect(status(['Event: dialog', 'Accept: '])).toBe('406 not-acceptable');
  });

  it('400 for an Expires that is not delta-seconds', () => {
    expect(status(['Event: dialog', 'Expires: soon'])).toBe('400 bad-request');
  });
});
