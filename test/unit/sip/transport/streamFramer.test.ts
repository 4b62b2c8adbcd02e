import { describe, it, expect } from '@jest/globals';
import { StreamFramer } from '../../../../sip/transport/streamFramer.js';

const msg = (body = '') =>
  `OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

const texts = (events: ReturnType<StreamFramer['push']>) =>
  events.map((e) => (e.kind === 'message' ? e.data.toString() : e.kind));

describe('StreamFramer', () => {
  it('frames back-to-back messages in one chunk', () => {
    const f = new StreamFramer(65535);
    expect(texts(f.push(Buffer.from(msg('abc') + msg())))).toEqual([msg('abc'), msg()]);
    expect(f.pending).toBe(0);
  });

  it('reassembles a message split at every byte', () => {
    const f = new StreamFramer(65535);
    const whole = Buffer.from(msg('v=0\r\n'));
    const out: string[] = [];
    for (let i = 0; i < whole.length; i++) out.push(...texts(f.push(whole.subarray(i, i + 1))));
    expect(out).toEqual([msg('v=0\r\n')]);
  });

  it('accepts the compact form l: for Content-Length', () => {
    const f = new StreamFramer(65535);
    const text = 'OPTIONS sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhi';
    expect(texts(f.push(Buffer.from(text)))).toEqual([text]);
  });

  it('reports a double-CRLF keep-alive as a ping and skips single CRLFs', () => {
    const f = new StreamFramer(65535);
    expect(texts(f.push(Buffer.from('\r\n\r\n')))).toEqual(['ping']);
    expect(texts(f.push(Buffer.from('\r\n' + msg())))).toEqual([msg()]);
  });

  it('fails on a missing Content-Length and then ignores the stream', () => {
    const f = new StreamFramer(65535);
    const events = f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n'));
    expect(events).toEqual([{ kind: 'error', reason: expect.stringMatching(/Content-Length/) }]);
    expect(f.push(Buffer.from(msg()))).toEqual([]);
  });

  it('fails on a message over the maximum size without buffering it all', () => {
    const f = new StreamFramer(2000);
    const events = f.push(Buffer.from(msg('x'.repeat(5000))));
    expect(events[0]?.kind).toBe('error');
    const g = new StreamFramer(2000);
    expect(g.push(Buffer.from('INVITE sip:a@b SIP/2.0\r\nX: ' + 'y'.repeat(3000)))[0]?.kind).toBe(
      'error',
    );
  });
});
