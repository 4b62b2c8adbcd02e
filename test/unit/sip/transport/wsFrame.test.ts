import { describe, it, expect } from '@jest/globals';
import { classifyFrame, WS_CLOSE } from '../../../../sip/transport/wsFrame.js';

const options = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\n\r\n';

describe('classifyFrame (RFC 7118 §5.2)', () => {
  it('passes a text message up whole, without needing Content-Length', () => {
    const data = Buffer.from(options);
    expect(classifyFrame(data, false, 65535)).toEqual({ kind: 'message', data });
  });

  it('closes on a binary frame with 1003', () => {
    expect(classifyFrame(Buffer.from(options), true, 65535)).toEqual({
      kind: 'close',
      code: WS_CLOSE.unsupportedData,
      reason: expect.stringMatching(/text frames only/),
    });
  });

  it('closes on a message over the limit with 1009, and takes one at the limit', () => {
    const max = 1500;
    const at = Buffer.alloc(max, 0x41);
    expect(classifyFrame(at, false, max).kind).toBe('message');
    expect(classifyFrame(Buffer.alloc(max + 1, 0x41), false, max)).toEqual({
      kind: 'close',
      code: WS_CLOSE.tooBig,
      reason: `SIP message of ${max + 1} bytes exceeds ${max}`,
    });
  });

  it('reads CRLFCRLF as an RFC 5626 ping and a lone CRLF as nothing', () => {
    expect(classifyFrame(Buffer.from('\r\n\r\n'), false, 65535)).toEqual({ kind: 'ping' });
    expect(classifyFrame(Buffer.from('\r\n'), false, 65535)).toEqual({ kind: 'ignore' });
    expect(classifyFrame(Buffer.from(''), false, 65535)).toEqual({ kind: 'ignore' });
    // Not all line ends: goes to the parser (which refuses it).
    expect(classifyFrame(Buffer.from('\r\nx'), false, 65535).kind).toBe('message');
  });
});
