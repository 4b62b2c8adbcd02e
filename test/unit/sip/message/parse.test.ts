import { describe, it, expect } from '@jest/globals';
import {
  cseqOf,
  maxForwardsOf,
  parseMessage,
  topVia,
  type ParseResult,
  type SipMessage,
} from '../../../../sip/message/index.js';

const HEAD = [
  'OPTIONS sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1',
  'From: <sip:alice@example.com>;tag=a',
  'To: <sip:bob@example.com>',
  'Call-ID: c1@192.0.2.1',
  'CSeq: 1 OPTIONS',
  'Max-Forwards: 70',
];

function msg(lines: string[], body = '', eol = '\r\n'): Buffer {
  return Buffer.from(lines.join(eol) + eol + eol + body, 'utf8');
}

function ok(result: ParseResult): SipMessage {
  if (!result.ok) throw new Error(`expected success: ${result.error.message}`);
  return result.message;
}

/** Refused but answerable with `status`. */
function answerable(result: ParseResult, status = 400): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error.status).toBe(status);
  expect(result.request).toBeDefined();
}

/** Refused and dropped. */
function dropped(result: ParseResult): void {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.request).toBeUndefined();
}

describe('parseMessage: headers', () => {
  it('expands compact names and matches names case-insensitively', () => {
    const m = ok(
      parseMessage(
        msg(
          [
            'INVITE sip:bob@example.com SIP/2.0',
            'v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1',
            'f: <sip:alice@example.com>;tag=a',
            't: <sip:bob@example.com>',
            'i: c1',
            'cSeQ: 1 INVITE',
            'm: <sip:alice@192.0.2.1>',
            'k: timer, 100rel',
            's: hello',
            'c: application/sdp',
            'e: identity',
            'o: presence',
            'l: 3',
          ],
          'v=0',
        ),
      ),
    );
    expect(m.headers.entries().map((f) => f.name)).toEqual([
      'Via',
      'From',
      'To',
      'Call-ID',
      'CSeq',
      'Contact',
      'Supported',
      'Supported',
      'Subject',
      'Content-Type',
      'Content-Encoding',
      'Event',
      'Content-Length',
    ]);
    expect(m.headers.get('call-id')).toBe('c1');
    expect(m.body.toString()).toBe('v=0');
  });

  it('unfolds continuation lines (SP or HTAB)', () => {
    const m = ok(parseMessage(msg([...HEAD, 'Subject: a', ' b', '\tc', 'X-Y:', '  z'])));
    expect(m.headers.get('Subject')).toBe('a b c');
    expect(m.headers.get('X-Y')).toBe('z');
  });

  it('splits list headers on commas outside quotes and <>', () => {
    const m = ok(
      parseMessage(
        msg([...HEAD, 'Contact: "a, b" <sip:a@x;p=1>;x="1,2", <sip:b@y>,sip:c@z', 'Subject: a, b']),
      ),
    );
    expect(m.headers.getAll('Contact')).toEqual([
      '"a, b" <sip:a@x;p=1>;x="1,2"',
      '<sip:b@y>',
      'sip:c@z',
    ]);
    expect(m.headers.get('Subject')).toBe('a, b');
  });

  it('keeps unknown header values byte-exact (no Unicode trimming)', () => {
    const m = ok(parseMessage(msg([...HEAD, 'X-Odd:\ufeff\u00a0value\u00a0 '])));
    expect(m.headers.get('X-Odd')).toBe('\ufeff\u00a0value\u00a0');
  });

  it('accepts Contact: * and leading zeros in Max-Forwards and CSeq', () => {
    const m = ok(
      parseMessage(
        msg([...HEAD.slice(0, 5), 'CSeq: 0009 OPTIONS', 'Max-Forwards: 0068', 'Contact: *']),
      ),
    );
    expect(maxForwardsOf(m)).toBe(68);
    expect(cseqOf(m).seq).toBe(9);
  });

  it.each([
    ['a line without a colon', [...HEAD, 'Bogus']],
    ['a header name with a space', [...HEAD, 'Bad Name: x']],
    ['a missing Call-ID', HEAD.filter((l) => !l.startsWith('Call-ID'))],
    ['two Call-IDs', [...HEAD, 'Call-ID: other']],
    ['two Max-Forwards', [...HEAD, 'Max-Forwards: 5']],
    ['Max-Forwards above 255', [...HEAD.slice(0, 6), 'Max-Forwards: 256']],
    ['a Call-ID with a space', [...HEAD.slice(0, 4), 'Call-ID: a b', ...HEAD.slice(5)]],
    ['an unterminated quote in a list header', [...HEAD, 'Contact: "a <sip:a@b>, <sip:c@d>']],
    ['a bad Contact', [...HEAD, 'Contact: <sip:a@b']],
    ['a bad Content-Type', [...HEAD, 'Content-Type: sdp']],
    ['two Content-Types', [...HEAD, 'Content-Type: a/b', 'Content-Type: c/d']],
    ['a CSeq above 2^32-1', [...HEAD.slice(0, 5), 'CSeq: 4294967296 OPTIONS', HEAD[6] as string]],
    ['an empty Via element', [...HEAD, 'Via: SIP/2.0/UDP a,,SIP/2.0/UDP b']],
    ['a bad second Via', [...HEAD, 'Via: SIP/2.0/UDP']],
  ])('answers 400 to %s', (_what, lines) => {
    answerable(parseMessage(msg(lines)));
  });

  it('answers 400 to a bare CR inside a header line', () => {
    answerable(parseMessage(Buffer.from(HEAD.join('\r\n') + '\r\nSubject: a\rb\r\n\r\n')));
  });

  it('answers 400 to a folded start line', () => {
    answerable(parseMessage(msg([HEAD[0] as string, ' continued', ...HEAD.slice(1)])));
  });
});

describe('parseMessage: framing', () => {
  it('takes Content-Length octets of body and ignores the rest of the datagram', () => {
    const m = ok(parseMessage(msg([...HEAD, 'Content-Length: 4'], 'abcdTRAILING')));
    expect(m.body.toString()).toBe('abcd');
  });

  it('takes the rest of the datagram without Content-Length', () => {
    expect(ok(parseMessage(msg(HEAD, 'a\r\n\r\nb'))).body.toString()).toBe('a\r\n\r\nb');
  });

  it('accepts repeated equal Content-Length values, refuses different ones', () => {
    expect(ok(parseMessage(msg([...HEAD, 'l: 2', 'Content-Length: 2'], 'ab'))).body.length).toBe(2);
    answerable(parseMessage(msg([...HEAD, 'Content-Length: 2', 'Content-Length: 1'], 'ab')));
  });

  it.each(['-1', '1x', '', ' ', '99999999999999999999'])('refuses Content-Length %j', (cl) => {
    answerable(parseMessage(msg([...HEAD, `Content-Length: ${cl}`], 'ab')));
  });

  it('refuses a Content-Length beyond the datagram', () => {
    answerable(parseMessage(msg([...HEAD, 'Content-Length: 3'], 'ab')));
  });

  it('keeps a binary body with NUL, CR and LF exactly', () => {
    const body = Buffer.from([0, 13, 10, 13, 10, 255, 0]);
    const data = Buffer.concat([msg([...HEAD, `Content-Length: ${body.length}`]), body]);
    expect(ok(parseMessage(data)).body.equals(body)).toBe(true);
  });

  it('tolerates bare LF line ends and leading CRLFs', () => {
    const m = ok(parseMessage(Buffer.concat([Buffer.from('\r\n\r\n'), msg(HEAD, 'x', '\n')])));
    expect(m.body.toString()).toBe('x');
    expect(topVia(m).params.get('branch')).toBe('z9hG4bK1');
  });

  it('answers 400 when the empty line after the headers is missing', () => {
    answerable(parseMessage(Buffer.from(HEAD.join('\r\n') + '\r\n')));
  });

  it('drops keep-alives and empty datagrams', () => {
    dropped(parseMessage(Buffer.from('\r\n\r\n')));
    dropped(parseMessage(Buffer.alloc(0)));
  });
});

describe('parseMessage: error codes', () => {
  const code = (r: ParseResult): string | undefined => (r.ok ? undefined : r.error.code);

  it('tells framing, header-count, syntax and version faults apart', () => {
    expect(code(parseMessage(msg([...HEAD, 'Content-Length: 9'], 'ab')))).toBe('SIP_BAD_FRAMING');
    expect(code(parseMessage(msg([...HEAD, 'To: <sip:x@y>'])))).toBe('SIP_BAD_HEADER_COUNT');
    expect(code(parseMessage(msg([...HEAD, 'Contact: <sip:x@y'])))).toBe('SIP_BAD_SYNTAX');
    const v3 = ['OPTIONS sip:bob@example.com SIP/3.0', ...HEAD.slice(1)];
    expect(code(parseMessage(msg(v3)))).toBe('SIP_VERSION_NOT_SUPPORTED');
  });
});

describe('parseMessage: start lines', () => {
  it('reads responses, with or without a reason phrase', () => {
    const lines = ['SIP/2.0 180 Ringing now', ...HEAD.slice(1)];
    const a = ok(parseMessage(msg(lines)));
    expect(a.kind === 'response' && [a.status, a.reason]).toEqual([180, 'Ringing now']);
    const b = ok(parseMessage(msg(['sip/2.0 200', ...HEAD.slice(1)])));
    expect(b.kind === 'response' && [b.status, b.reason, b.version]).toEqual([200, '', 'SIP/2.0']);
  });

  it.each([
    'SIP/2.0 099 Low',
    'SIP/2.0 700 High',
    'SIP/2.0 2000 Long',
    'SIP/2.0 20 Short',
    'SIP/3.0 200 OK',
    'SIP/2.0200 OK',
  ])('drops the response %j', (line) => {
    dropped(parseMessage(msg([line, ...HEAD.slice(1)])));
  });

  it('drops a response with bad headers (responses are never answered)', () => {
    dropped(parseMessage(msg(['SIP/2.0 200 OK', ...HEAD.slice(1, 4)])));
  });

  it('answers 505 to another SIP version, whatever else is wrong', () => {
    const lines = ['OPTIONS sip:bob@example.com SIP/3.0', HEAD[1] as string, 'CSeq: x', 'Bogus'];
    answerable(parseMessage(msg(lines)), 505);
  });

  it('answers 400 to a malformed SIP version', () => {
    answerable(parseMessage(msg(['OPTIONS sip:bob@example.com SIP/2', ...HEAD.slice(1)])));
    answerable(parseMessage(msg(['OPTIONS sip:bob@example.com SIP/2.x', ...HEAD.slice(1)])));
  });

  it('accepts the version case-insensitively', () => {
    const m = ok(parseMessage(msg(['OPTIONS sip:bob@example.com sip/2.0', ...HEAD.slice(1)])));
    expect(m.version).toBe('SIP/2.0');
  });

  it.each([
    'OPTIONS  sip:bob@example.com SIP/2.0',
    'OPTIONS sip:bob@example.com SIP/2.0 ',
    'OPTIONS sip:bob@ex ample.com SIP/2.0',
    'OPTIONS <sip:bob@example.com> SIP/2.0',
    'OPT@ONS sip:bob@example.com SIP/2.0',
  ])('answers 400 to the request line %j', (line) => {
    answerable(parseMessage(msg([line, ...HEAD.slice(1)])));
  });

  it('drops what is not a SIP request at all', () => {
    dropped(parseMessage(msg(['GET / HTTP/1.1', 'Host: x'])));
    dropped(parseMessage(msg(['OPTIONS sip:bob@example.com', ...HEAD.slice(1)])));
    dropped(parseMessage(Buffer.from('garbage')));
  });

  it('never attaches a refused ACK: ACKs are not answered', () => {
    const lines = ['ACK sip:bob@example.com SIP/2.0', ...HEAD.slice(1, 5), 'CSeq: 1 ACK', 'Bogus'];
    dropped(parseMessage(msg(lines)));
  });

  it('attaches a refused request only if its top Via and CSeq can be read', () => {
    dropped(parseMessage(msg([...HEAD.filter((l) => !l.startsWith('Via')), 'Bogus'])));
    dropped(parseMessage(msg([...HEAD.filter((l) => !l.startsWith('CSeq')), 'Bogus'])));
    dropped(parseMessage(msg([HEAD[0] as string, 'Via: SIP/2.0/UDP', ...HEAD.slice(2)])));
    dropped(parseMessage(msg([HEAD[0] as string, 'Via: SIP/2.0/UDP "a, b', ...HEAD.slice(1)])));
  });
});
