import { describe, expect, it } from '@jest/globals';
import { DigestAuthenticator } from '../../../../sip/auth/authenticator.js';
import { failureSourceKey } from '../../../../sip/auth/proxiedSource.js';
import { FakeClock, answer } from './helpers.js';

const PROXY = '10.0.0.1';
const TRUSTED = new Set([PROXY]);
const proxyVia = `SIP/2.0/UDP ${PROXY}:5060;branch=z9hG4bKproxy`;

describe('failureSourceKey', () => {
  it('keys a request from an untrusted address by that address, whatever its Via says', () => {
    expect(
      failureSourceKey('192.0.2.7', ['SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK1'], TRUSTED),
    ).toBe('192.0.2.7');
  });

  it('keys a request from a trusted proxy by the received address below the proxy Via', () => {
    const via = [
      proxyVia,
      'SIP/2.0/UDP 192.168.1.20:5062;rport=40000;received=203.0.113.9;branch=z9hG4bKa',
    ];
    expect(failureSourceKey(PROXY, via, TRUSTED)).toBe('203.0.113.9');
  });

  it('uses the sent-by host when the proxy added no received (it matched the source)', () => {
    const via = [proxyVia, 'SIP/2.0/UDP 203.0.113.9:5062;branch=z9hG4bKa'];
    expect(failureSourceKey(PROXY, via, TRUSTED)).toBe('203.0.113.9');
  });

  it('walks down a chain of trusted proxies', () => {
    const trusted = new Set([PROXY, '10.0.0.2']);
    const via = [
      proxyVia,
      'SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb',
      'SIP/2.0/UDP 172.16.0.4;received=[2001:db8::5];branch=z9hG4bKa',
    ];
    expect(failureSourceKey(PROXY, via, trusted)).toBe('2001:db8::5');
  });

  it('has no address (user only) without a Via below, with a bad Via or a host name', () => {
    expect(failureSourceKey(PROXY, undefined, TRUSTED)).toBeUndefined();
    expect(failureSourceKey(PROXY, [proxyVia], TRUSTED)).toBeUndefined();
    expect(failureSourceKey(PROXY, [proxyVia, 'garbage'], TRUSTED)).toBeUndefined();
    expect(
      failureSourceKey(PROXY, [proxyVia, 'SIP/2.0/UDP phone.example;branch=z9hG4bKa'], TRUSTED),
    ).toBeUndefined();
    // A chain that ends in trusted proxies names no client either.
    expect(
      failureSourceKey(PROXY, [proxyVia, `SIP/2.0/UDP ${PROXY};branch=z9hG4bKa`], TRUSTED),
    ).toBeUndefined();
  });
});

describe('DigestAuthenticator behind a trusted proxy', () => {
  function setup() {
    const clock = new FakeClock();
    const auth = new DigestAuthenticator({
      realm: 'callwatch.test',
      algorithms: ['MD5'],
      lookupCredentials: (u) => ({ '1001': { password: 'one' }, '1002': { password: 'two' } })[u],
      clock,
      sourceLimits: { maxFailures: 3, windowMs: 60_000, lockoutMs: 300_000 },
      userLimits: { maxFailures: 5, windowMs: 60_000, lockoutMs: 120_000 },
      trustedProxies: [PROXY],
    });
    return { auth, clock };
  }
  const viaOf = (phone: string) => [proxyVia, `SIP/2.0/UDP ${phone}:5060;branch=z9hG4bK${phone}`];
  function attempt(
    auth: DigestAuthenticator,
    user: string,
    password: string,
    phone: string | undefined,
  ) {
    const [challenge] = auth.challenge();
    return auth.verify({
      method: 'REGISTER',
      authorizationHeaderValues: [answer(challenge as string, { username: user, password })],
      sourceAddress: PROXY,
      via: phone === undefined ? undefined : viaOf(phone),
    });
  }

  it("locks out one phone's address, not the proxy's: another phone still registers", () => {
    const { auth } = setup();
    const outcomes = [1, 2, 3].map(() => attempt(auth, '1001', 'wrong', '192.0.2.1').outcome);
    expect(outcomes).toEqual(['challenge', 'challenge', 'forbidden']);
    // The locked phone is refused even with the right password of another extension...
    expect(attempt(auth, '1002', 'two', '192.0.2.1')).toMatchObject({
      outcome: 'forbidden',
      reason: 'source-locked',
    });
    // ...while another phone behind the same proxy is not.
    expect(attempt(auth, '1002', 'two', '192.0.2.2')).toMatchObject({ outcome: 'ok' });
  });

  it('limits by user only when the client address is unknown, never by the proxy', () => {
    const { auth } = setup();
    // More failures than the source limit (3), all from the proxy without Via below it.
    const outcomes = [1, 2, 3, 4].map(() => attempt(auth, '1001', 'wrong', undefined).outcome);
    expect(outcomes).toEqual(['challenge', 'challenge', 'challenge', 'challenge']);
    expect(attempt(auth, '1001', 'wrong', undefined)).toMatchObject({
      outcome: 'forbidden',
      reason: 'user-locked',
    });
    expect(attempt(auth, '1002', 'two', undefined)).toMatchObject({ outcome: 'ok' });
  });

  it('still locks the proxy address itself out when it is not trusted', () => {
    const clock = new FakeClock();
    const auth = new DigestAuthenticator({
      realm: 'callwatch.test',
      algorithms: ['MD5'],
      lookupCredentials: (u) => (u === '1001' ? { password: 'one' } : undefined),
      clock,
      sourceLimits: { maxFailures: 2 },
    });
    const verify = (password: string) =>
      auth.verify({
        method: 'REGISTER',
        authorizationHeaderValues: [
          answer(auth.challenge()[0] as string, { username: '1001', password }),
        ],
        sourceAddress: PROXY,
        via: viaOf('192.0.2.1'),
      });
    expect([verify('x').outcome, verify('x').outcome]).toEqual(['challenge', 'forbidden']);
    expect(verify('one')).toMatchObject({ outcome: 'forbidden', reason: 'source-locked' });
  });
});
