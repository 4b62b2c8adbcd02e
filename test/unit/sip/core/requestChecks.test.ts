import { describe, it, expect } from '@jest/globals';
import { parseMessage, type SipRequest } from '../../../../sip/message/index.js';
import {
  checkRequest,
  KNOWN_METHODS,
  type RequestCheckOptions,
} from '../../../../sip/core/index.js';

const opts: RequestCheckOptions = {
  allowedMethods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'UPDATE'],
  supportedExtensions: ['timer', 'Path'],
  uriSchemes: ['sip', 'SIPS'],
};

interface Req {
  method?: string;
  uri?: string;
  cseq?: string;
  to?: string;
  headers?: string[];
  body?: string;
}

function req({
  method = 'INVITE',
  uri = 'sip:bob@example.com',
  cseq,
  to,
  headers = [],
  body = '',
}: Req = {}): SipRequest {
  const text = [
    `${method} ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1',
    'From: <sip:alice@example.com>;tag=a',
    `To: ${to ?? '<sip:bob@example.com>'}`,
    'Call-ID: c1',
    `CSeq: ${cseq ?? `1 ${method}`}`,
    'Max-Forwards: 70',
    ...headers,
    '',
    body,
  ].join('\r\n');
  const r = parseMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== 'request') {
    throw new Error(`fixture did not parse: ${r.ok ? 'response' : r.error.message}`);
  }
  return r.message;
}

const SDP =
  'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

describe('checkRequest', () => {
  it('passes an ordinary request', () => {
    expect(
      checkRequest(req({ headers: ['Content-Type: application/sdp'], body: SDP }), opts),
    ).toBeUndefined();
    expect(checkRequest(req({ method: 'OPTIONS' }), opts)).toBeUndefined();
  });

  describe('method (RFC 3261 §8.2.1)', () => {
    it('answers 405 with Allow to a known method it does not allow', () => {
      expect(checkRequest(req({ method: 'SUBSCRIBE' }), opts)).toEqual({
        status: 405,
        headers: [['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, UPDATE']],
      });
    });

    it('answers 501 with Allow to a method it does not know', () => {
      const v = checkRequest(req({ method: 'NEWMETHOD' }), opts);
      expect(v?.status).toBe(501);
      expect(v?.headers?.[0]?.[0]).toBe('Allow');
    });

    it('treats methods case-sensitively (RFC 3261 §7.1)', () => {
      expect(checkRequest(req({ method: 'invite' }), opts)?.status).toBe(501);
    });

    it('checks the method before the CSeq, so unknown + mismatch is 501 (RFC 4475 §3.1.2.18)', () => {
      expect(checkRequest(req({ method: 'NEWMETHOD', cseq: '8 INVITE' }), opts)?.status).toBe(501);
    });

    it('knows the RFC 3261 family of methods', () => {
      for (const m of [
        'PRACK',
        'SUBSCRIBE',
        'NOTIFY',
        'PUBLISH',
        'INFO',
        'REFER',
        'MESSAGE',
        'UPDATE',
      ]) {
        expect(KNOWN_METHODS.has(m)).toBe(true);
      }
    });
  });

  describe('Request-URI (RFC 3261 §8.2.2.1)', () => {
    it('answers 416 to a scheme it does not serve', () => {
      expect(checkRequest(req({ uri: 'tel:+1-201-555-0123' }), opts)?.status).toBe(416);
      expect(checkRequest(req({ uri: 'nobodyKnowsThisScheme:opaque' }), opts)?.status).toBe(416);
    });

    it('compares schemes case-insensitively', () => {
      expect(checkRequest(req({ uri: 'SIPS:bob@example.com' }), opts)).toBeUndefined();
    });

    it('answers 400 to headers in a SIP Request-URI (RFC 4475 §3.1.2.11)', () => {
      const v = checkRequest(req({ uri: 'sip:bob@example.com?Route=%3Csip:x%3E' }), opts);
      expect(v?.status).toBe(400);
    });
  });

  describe('CSeq', () => {
    it('answers 400 when its method is not the request method (RFC 4475 §3.1.2.17)', () => {
      expect(checkRequest(req({ method: 'OPTIONS', cseq: '8 INVITE' }), opts)?.status).toBe(400);
      expect(checkRequest(req({ method: 'CANCEL', cseq: '8 INVITE' }), opts)?.status).toBe(400);
    });

    it('answers 400 to an unreadable CSeq on a hand-built request', () => {
      const r = req();
      r.headers.set('CSeq', 'garbage');
      expect(checkRequest(r, opts)?.status).toBe(400);
    });
  });

  describe('REGISTER', () => {
    it('answers 400 when To is not a SIP or SIPS URI (RFC 4475 §3.3.4)', () => {
      expect(checkRequest(req({ method: 'REGISTER', to: 'isbn:2983792873' }), opts)?.status).toBe(
        400,
      );
      expect(checkRequest(req({ method: 'REGISTER', to: '<tel:+123>' }), opts)?.status).toBe(400);
      expect(checkRequest(req({ method: 'REGISTER' }), opts)).toBeUndefined();
    });
  });

  describe('Max-Forwards', () => {
    const zero = (method: string): SipRequest => {
      const r = req({ method });
      r.headers.set('Max-Forwards', '0');
      return r;
    };

    it('lets a UAS answer a request with Max-Forwards 0 itself (RFC 4475 §3.3.11)', () => {
      expect(checkRequest(zero('OPTIONS'), opts)).toBeUndefined();
      expect(checkRequest(zero('INVITE'), opts)).toBeUndefined();
    });

    it('answers 483 when the method would be relayed', () => {
      const relaying = { ...opts, forwardedMethods: ['INVITE'] };
      expect(checkRequest(zero('INVITE'), relaying)).toEqual({ status: 483 });
      expect(checkRequest(zero('OPTIONS'), relaying)).toBeUndefined();
      expect(checkRequest(req(), relaying)).toBeUndefined();
    });
  });

  describe('Require (RFC 3261 §8.2.2.3)', () => {
    it('answers 420 listing every unsupported option-tag in Unsupported', () => {
      const v = checkRequest(req({ headers: ['Require: timer, foo', 'Require: bar'] }), opts);
      expect(v).toEqual({ status: 420, headers: [['Unsupported', 'foo, bar']] });
    });

    it('matches option-tags case-insensitively and ignores Proxy-Require', () => {
      expect(
        checkRequest(req({ headers: ['Require: path, TIMER', 'Proxy-Require: foo'] }), opts),
      ).toBeUndefined();
    });

    it('never refuses CANCEL or ACK for Require', () => {
      expect(
        checkRequest(req({ method: 'CANCEL', headers: ['Require: foo'] }), opts),
      ).toBeUndefined();
      expect(checkRequest(req({ method: 'ACK', headers: ['Require: foo'] }), opts)).toBeUndefined();
    });
  });

  describe('body (RFC 3261 §8.2.3)', () => {
    it('answers 415 with Accept to a body type it does not understand (RFC 4475 §3.3.6)', () => {
      const v = checkRequest(
        req({ headers: ['Content-Type: application/unknownformat'], body: '<x/>' }),
        opts,
      );
      expect(v).toEqual({ status: 415, headers: [['Accept', 'application/sdp, multipart/mixed']] });
    });

    it('answers 415 with Accept-Encoding to an encoded body', () => {
      const v = checkRequest(
        req({ headers: ['Content-Type: application/sdp', 'Content-Encoding: gzip'], body: SDP }),
        opts,
      );
      expect(v).toEqual({
        status: 415,
        reason: 'Unsupported Media Type (Content-Encoding)',
        headers: [['Accept-Encoding', 'identity']],
      });
    });

    it('answers 400 to a body without Content-Type', () => {
      expect(checkRequest(req({ body: SDP }), opts)?.status).toBe(400);
    });

    it('understands multipart/mixed holding an SDP part', () => {
      const body = [
        '--b1',
        'Content-Type: application/sdp',
        '',
        SDP,
        '--b1',
        'Content-Type: application/isup',
        '',
        'xx',
        '--b1--',
        '',
      ].join('\r\n');
      const ok = req({ headers: ['Content-Type: multipart/mixed;boundary="b1"'], body });
      expect(checkRequest(ok, opts)).toBeUndefined();
      const noSdp = body.replace('application/sdp', 'text/plain');
      expect(
        checkRequest(
          req({ headers: ['Content-Type: multipart/mixed;boundary=b1'], body: noSdp }),
          opts,
        )?.status,
      ).toBe(415);
      const noBoundary = req({ headers: ['Content-Type: multipart/mixed'], body });
      expect(checkRequest(noBoundary, opts)?.status).toBe(415);
    });

    it('does not look at bodies of other methods, nor at an empty body', () => {
      expect(
        checkRequest(
          req({ method: 'BYE', headers: ['Content-Type: text/plain'], body: 'x' }),
          opts,
        ),
      ).toBeUndefined();
      expect(checkRequest(req({ headers: ['Content-Type: text/plain'] }), opts)).toBeUndefined();
      expect(
        checkRequest(
          req({ method: 'UPDATE', headers: ['Content-Type: text/plain'], body: 'x' }),
          opts,
        )?.status,
      ).toBe(415);
    });
  });

  describe('Accept on INVITE (RFC 4475 §3.3.15)', () => {
    it('answers 406 when the answer could not carry SDP', () => {
      expect(checkRequest(req({ headers: ['Accept: text/nobodyKnowsThis'] }), opts)?.status).toBe(
        406,
      );
      expect(
        checkRequest(req({ headers: ['Accept: application/sdp;q=0, */*'] }), opts)?.status,
      ).toBe(406);
    });

    it('passes when SDP is acceptable', () => {
      expect(
        checkRequest(req({ headers: ['Accept: application/sdp, application/isup'] }), opts),
      ).toBeUndefined();
      expect(checkRequest(req({ headers: ['Accept: application/*'] }), opts)).toBeUndefined();
      expect(
        checkRequest(req({ method: 'OPTIONS', headers: ['Accept: text/plain'] }), opts),
      ).toBeUndefined();
    });
  });

  it('never refuses an ACK: it cannot be answered', () => {
    expect(
      checkRequest(req({ method: 'ACK', cseq: '1 INVITE', uri: 'tel:+1' }), {
        ...opts,
        allowedMethods: [],
      }),
    ).toBeUndefined();
  });
});
