import { describe, expect, it } from '@jest/globals';
import { serializeDigestCredentials } from '../../../../sip/auth/authParams.js';
import {
  DigestAuthenticator,
  type DigestAuthenticatorOptions,
  type StoredCredentials,
} from '../../../../sip/auth/authenticator.js';
import { computeHa1 } from '../../../../sip/auth/digest.js';
import { FakeClock, answer, challengeParams } from './helpers.js';

const REALM = 'callwatch.test';
const LIFETIME = 60_000;

const USERS: Record<string, StoredCredentials> = {
  alice: { password: 'wonderland' },
  bob: {
    ha1: {
      md5: computeHa1('md5', 'bob', REALM, 'builder'),
      sha256: computeHa1('sha256', 'bob', REALM, 'builder'),
    },
  },
  carol: { ha1: { md5: computeHa1('md5', 'carol', REALM, 'md5only') } },
};

function setup(extra: Partial<DigestAuthenticatorOptions> = {}): {
  auth: DigestAuthenticator;
  clock: FakeClock;
} {
  const clock = new FakeClock();
  const auth = new DigestAuthenticator({
    realm: REALM,
    algorithms: ['SHA-256', 'MD5'],
    nonceLifetimeMs: LIFETIME,
    lookupCredentials: (username) => USERS[username],
    clock,
    sourceLimits: { maxFailures: 5, windowMs: 60_000, lockoutMs: 300_000 },
    userLimits: { maxFailures: 10, windowMs: 60_000, lockoutMs: 120_000 },
    ...extra,
  });
  return { auth, clock };
}

const SRC = '192.0.2.10';

/** One REGISTER carrying `authorization` from `source`. */
function register(auth: DigestAuthenticator, authorization: string | string[], source = SRC) {
  const values = Array.isArray(authorization) ? authorization : [authorization];
  return auth.verify({
    method: 'REGISTER',
    authorizationHeaderValues: values,
    sourceAddress: source,
  });
}

/** The SHA-256 (first) challenge value. */
function firstChallenge(auth: DigestAuthenticator, stale = false): string {
  const [value] = auth.challenge({ stale });
  if (value === undefined) throw new Error('no challenge');
  return value;
}

describe('DigestAuthenticator.challenge', () => {
  it('issues one challenge per algorithm in the configured order, sharing a nonce, with qop=auth', () => {
    const { auth } = setup({ algorithms: ['SHA-256', 'MD5'] });
    const values = auth.challenge();
    expect(values).toHaveLength(2);
    const [sha, md5] = values.map(challengeParams);
    expect(sha?.get('algorithm')).toBe('SHA-256');
    expect(md5?.get('algorithm')).toBe('MD5');
    expect(sha?.get('nonce')).toBe(md5?.get('nonce'));
    expect(sha?.get('realm')).toBe(REALM);
    expect(sha?.get('qop')).toBe('auth');
    expect(sha?.has('stale')).toBe(false);
    expect(values[0]).toMatch(
      /^Digest realm="callwatch\.test", nonce="[\w-]{46}", algorithm=SHA-256, qop="auth"$/,
    );
  });

  it('keeps MD5 first when configured so (phones that answer only the first challenge)', () => {
    const { auth } = setup({ algorithms: ['MD5', 'SHA-256', 'MD5'] });
    expect(auth.challenge().map((v) => challengeParams(v).get('algorithm'))).toEqual([
      'MD5',
      'SHA-256',
    ]);
  });

  it('marks stale=true on request and carries a configured opaque', () => {
    const { auth } = setup({ opaque: 'op"aque' });
    const p = challengeParams(firstChallenge(auth, true));
    expect(p.get('stale')).toBe('true');
    expect(p.get('opaque')).toBe('op"aque');
  });

  it('refuses bad configuration', () => {
    expect(() => setup({ realm: '' })).toThrow(RangeError);
    expect(() => setup({ realm: 'a\r\nb' })).toThrow(RangeError);
    expect(() => setup({ algorithms: [] })).toThrow(RangeError);
    expect(() => setup({ algorithms: ['SHA-512-256' as 'MD5'] })).toThrow(RangeError);
  });
});

describe('DigestAuthenticator.verify: success', () => {
  it('asks for credentials when there are none', () => {
    const { auth } = setup();
    expect(register(auth, [])).toMatchObject({
      outcome: 'challenge',
      stale: false,
      reason: 'no-credentials',
    });
  });

  it.each([
    ['SHA-256 with a stored password', 0, 'alice', 'wonderland'],
    ['MD5 with a stored password', 1, 'alice', 'wonderland'],
    ['SHA-256 with a stored HA1', 0, 'bob', 'builder'],
    ['MD5 with a stored HA1', 1, 'bob', 'builder'],
  ])('accepts %s', (_name, index, username, password) => {
    const { auth } = setup();
    const challenge = auth.challenge()[index] ?? '';
    const result = register(auth, answer(challenge, { username, password }));
    expect(result).toEqual({
      outcome: 'ok',
      username,
      algorithm: index === 0 ? 'SHA-256' : 'MD5',
      uri: 'sip:example.com',
      uriMatchesRequest: undefined,
    });
  });

  it('accepts the -sess algorithms', () => {
    const { auth } = setup({ algorithms: ['SHA-256-sess', 'MD5-sess'] });
    // Both challenges share one nonce, so the second answer uses the next nc.
    auth.challenge().forEach((challenge, i) => {
      const creds = answer(challenge, { username: 'bob', password: 'builder', nc: i + 1 });
      expect(register(auth, creds)).toMatchObject({
        outcome: 'ok',
        algorithm: `${i === 0 ? 'SHA-256' : 'MD5'}-sess`,
      });
    });
  });

  it('reports whether the signed uri is the Request-URI, without enforcing it', () => {
    const { auth } = setup();
    const challenge = firstChallenge(auth);
    const creds = (nc: number) =>
      answer(challenge, { username: 'alice', password: 'wonderland', uri: 'sip:a.test', nc });
    const verify = (requestUri: string, nc: number) =>
      auth.verify({
        method: 'REGISTER',
        authorizationHeaderValues: [creds(nc)],
        sourceAddress: SRC,
        requestUri,
      });
    expect(verify('sip:a.test', 1)).toMatchObject({ outcome: 'ok', uriMatchesRequest: true });
    expect(verify('sip:b.test', 2)).toMatchObject({ outcome: 'ok', uriMatchesRequest: false });
  });

  it('hashes the method: a response for REGISTER does not authorise an INVITE', () => {
    const { auth } = setup();
    const creds = answer(firstChallenge(auth), { username: 'alice', password: 'wonderland' });
    const result = auth.verify({
      method: 'INVITE',
      authorizationHeaderValues: [creds],
      sourceAddress: SRC,
    });
    expect(result).toMatchObject({ outcome: 'challenge', reason: 'bad-credentials' });
  });

  it('picks the credentials for our realm among several, whatever their order', () => {
    const { auth } = setup();
    const challenge = firstChallenge(auth);
    const foreign = answer(challenge, { username: 'x', password: 'y', realm: 'other.test' });
    const ours = answer(challenge, { username: 'alice', password: 'wonderland' });
    expect(
      register(auth, ['Basic YWxhZGRpbjpvcGVuc2VzYW1l', 'garbage "', foreign, ours]),
    ).toMatchObject({
      outcome: 'ok',
      username: 'alice',
    });
    expect(register(auth, [foreign])).toMatchObject({
      outcome: 'challenge',
      stale: false,
      reason: 'no-matching-realm',
    });
  });

  it('prefers, for our realm, the credentials using an algorithm we offer', () => {
    const { auth } = setup({ algorithms: ['SHA-256'] });
    const challenge = firstChallenge(auth);
    const ok = answer(challenge, { username: 'alice', password: 'wonderland' });
    const md5 = ok.replace('algorithm=SHA-256', 'algorithm=MD5');
    expect(register(auth, [md5, ok])).toMatchObject({ outcome: 'ok' });
    expect(register(auth, [md5])).toMatchObject({
      outcome: 'challenge',
      reason: 'unsupported-algorithm',
    });
  });

  it('checks the opaque when one is configured', () => {
    const { auth } = setup({ opaque: 'abc' });
    const good = answer(firstChallenge(auth), { username: 'alice', password: 'wonderland' });
    expect(register(auth, good.replace('opaque="abc"', 'opaque="abd"'))).toMatchObject({
      outcome: 'challenge',
      reason: 'opaque-mismatch',
    });
    expect(register(auth, good)).toMatchObject({ outcome: 'ok' });
  });

  it('challenges when the user has no HA1 for the chosen hash, without counting a failure', () => {
    const { auth } = setup({ sourceLimits: { maxFailures: 1 } });
    const [sha, md5] = auth.challenge();
    expect(
      register(auth, answer(sha ?? '', { username: 'carol', password: 'md5only' })),
    ).toMatchObject({
      outcome: 'challenge',
      reason: 'ha1-unavailable',
    });
    expect(
      register(auth, answer(md5 ?? '', { username: 'carol', password: 'md5only' })),
    ).toMatchObject({
      outcome: 'ok',
    });
  });
});

describe('DigestAuthenticator.verify: failures and lock-out', () => {
  it('challenges a wrong password until the source limit, then forbids', () => {
    const { auth } = setup();
    for (let i = 1; i <= 4; i++) {
      const creds = answer(firstChallenge(auth), { username: 'alice', password: `guess${i}` });
      expect(register(auth, creds)).toEqual({
        outcome: 'challenge',
        stale: false,
        reason: 'bad-credentials',
        detail: undefined,
        username: 'alice',
      });
    }
    const fifth = answer(firstChallenge(auth), { username: 'alice', password: 'guess5' });
    expect(register(auth, fifth)).toMatchObject({
      outcome: 'forbidden',
      reason: 'source-locked',
      retryAfterMs: 300_000,
    });
    // Even the right password is refused from that source while it is locked...
    const right = answer(firstChallenge(auth), { username: 'alice', password: 'wonderland' });
    expect(register(auth, right)).toMatchObject({ outcome: 'forbidden', reason: 'source-locked' });
    // ...but not from another one: the user itself is not locked yet.
    expect(register(auth, right, '192.0.2.99')).toMatchObject({ outcome: 'ok' });
  });

  it('lifts a source lock-out after L ms', () => {
    const { auth, clock } = setup();
    for (let i = 0; i < 5; i++) {
      register(auth, answer(firstChallenge(auth), { username: 'alice', password: 'nope' }));
    }
    clock.advance(299_999);
    const creds = () => answer(firstChallenge(auth), { username: 'alice', password: 'wonderland' });
    expect(register(auth, creds())).toMatchObject({ outcome: 'forbidden', retryAfterMs: 1 });
    clock.advance(1);
    expect(register(auth, creds())).toMatchObject({ outcome: 'ok' });
  });

  it('locks a user attacked from many sources, and lifts it after L ms', () => {
    const { auth, clock } = setup({ userLimits: { maxFailures: 3, lockoutMs: 120_000 } });
    const guess = (source: string) =>
      register(auth, answer(firstChallenge(auth), { username: 'alice', password: 'x' }), source);
    expect(guess('203.0.113.1').outcome).toBe('challenge');
    expect(guess('203.0.113.2').outcome).toBe('challenge');
    expect(guess('203.0.113.3')).toMatchObject({ outcome: 'forbidden', reason: 'user-locked' });
    const right = () => answer(firstChallenge(auth), { username: 'alice', password: 'wonderland' });
    expect(register(auth, right())).toMatchObject({
      outcome: 'forbidden',
      reason: 'user-locked',
      retryAfterMs: 120_000,
      username: 'alice',
    });
    expect(
      register(auth, answer(firstChallenge(auth), { username: 'bob', password: 'builder' })),
    ).toMatchObject({ outcome: 'ok' });
    clock.advance(120_000);
    expect(register(auth, right())).toMatchObject({ outcome: 'ok' });
  });

  it('clears the user count on success', () => {
    const { auth } = setup({
      sourceLimits: { maxFailures: 100 },
      userLimits: { maxFailures: 3 },
    });
    const attempt = (password: string) =>
      register(auth, answer(firstChallenge(auth), { username: 'alice', password })).outcome;
    expect([attempt('x'), attempt('x'), attempt('wonderland')]).toEqual([
      'challenge',
      'challenge',
      'ok',
    ]);
    expect([attempt('x'), attempt('x'), attempt('x')]).toEqual([
      'challenge',
      'challenge',
      'forbidden',
    ]);
  });

  it('answers an unknown user exactly like a wrong password, and counts it', () => {
    const { auth } = setup({ sourceLimits: { maxFailures: 2 } });
    const unknown = register(
      auth,
      answer(firstChallenge(auth), { username: 'mallory', password: 'x' }),
    );
    const wrong = register(
      auth,
      answer(firstChallenge(auth), { username: 'alice', password: 'x' }),
      '192.0.2.11',
    );
    expect(unknown).toEqual({ ...wrong, username: 'mallory' });
    expect(
      register(auth, answer(firstChallenge(auth), { username: 'nobody', password: 'x' })),
    ).toMatchObject({ outcome: 'forbidden', reason: 'source-locked' });
  });

  it('keeps limiter memory bounded under a flood of sources', () => {
    const { auth } = setup({
      sourceLimits: { maxTrackedKeys: 1000 },
      userLimits: { maxTrackedKeys: 500 },
    });
    const challenge = firstChallenge(auth);
    for (let i = 0; i < 5000; i++) {
      const source = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      register(auth, answer(challenge, { username: `user${i}`, password: 'x', nc: i + 1 }), source);
    }
    expect(auth.sizes.sources).toBe(1000);
    expect(auth.sizes.users).toBe(500);
    expect(auth.sizes.nonces).toBe(0); // failed requests never create nonce state
  });
});

describe('DigestAuthenticator.verify: nonces and replay', () => {
  it('accepts increasing nc on one nonce and rejects a replayed nc without counting it', () => {
    const { auth } = setup({ sourceLimits: { maxFailures: 2 } });
    const challenge = firstChallenge(auth);
    const creds = (nc: number) =>
      answer(challenge, { username: 'alice', password: 'wonderland', nc });
    expect(register(auth, creds(1))).toMatchObject({ outcome: 'ok' });
    expect(register(auth, creds(2))).toMatchObject({ outcome: 'ok' });
    for (let i = 0; i < 5; i++) {
      expect(register(auth, creds(2))).toEqual({
        outcome: 'challenge',
        stale: false,
        reason: 'nc-replay',
        detail: '00000002',
        username: 'alice',
      });
    }
    expect(register(auth, creds(3))).toMatchObject({ outcome: 'ok' });
  });

  it('with ncWindow 1, a lower nc is a replay', () => {
    const { auth } = setup({ ncWindow: 1 });
    const challenge = firstChallenge(auth);
    const creds = (nc: number) =>
      answer(challenge, { username: 'alice', password: 'wonderland', nc });
    expect(register(auth, creds(3)).outcome).toBe('ok');
    expect(register(auth, creds(2))).toMatchObject({ outcome: 'challenge', reason: 'nc-replay' });
  });

  it('answers an expired nonce with stale=true when the digest is right', () => {
    const { auth, clock } = setup();
    const challenge = firstChallenge(auth);
    clock.advance(LIFETIME);
    expect(
      register(auth, answer(challenge, { username: 'alice', password: 'wonderland' })),
    ).toEqual({
      outcome: 'challenge',
      stale: true,
      reason: 'stale-nonce',
      detail: 'expired',
      username: 'alice',
    });
    // A wrong password on an expired nonce is a plain failure: stale is only for the right one.
    expect(register(auth, answer(challenge, { username: 'alice', password: 'x' }))).toMatchObject({
      outcome: 'challenge',
      stale: false,
      reason: 'bad-credentials',
    });
    // The client retries on the fresh challenge without asking its user.
    const fresh = firstChallenge(auth, true);
    expect(
      register(auth, answer(fresh, { username: 'alice', password: 'wonderland' })).outcome,
    ).toBe('ok');
  });

  it('answers a nonce it did not issue with stale=true when the digest is right', () => {
    const { auth } = setup();
    const { auth: other } = setup();
    const creds = answer(firstChallenge(other), { username: 'alice', password: 'wonderland' });
    expect(register(auth, creds)).toMatchObject({
      outcome: 'challenge',
      stale: true,
      detail: 'invalid',
    });
  });

  it('accepts nonces across instances sharing a secret', () => {
    const secret = new Uint8Array(32).fill(3);
    const { auth } = setup({ secret });
    const other = new DigestAuthenticator({
      realm: REALM,
      lookupCredentials: (u) => USERS[u],
      clock: new FakeClock(),
      secret,
    });
    const creds = answer(firstChallenge(other), { username: 'alice', password: 'wonderland' });
    expect(register(auth, creds).outcome).toBe('ok');
  });

  it('sweep() releases expired nonce state', () => {
    const { auth, clock } = setup();
    for (let i = 0; i < 3; i++) {
      register(auth, answer(firstChallenge(auth), { username: 'alice', password: 'wonderland' }));
    }
    expect(auth.sizes.nonces).toBe(3);
    clock.advance(LIFETIME);
    expect(auth.sweep()).toEqual({ nonces: 3, sources: 0, users: 0 });
    expect(auth.sizes).toEqual({ nonces: 0, sources: 0, users: 0 });
  });

  it('caps nonce state; an evicted nonce is answered stale, never replayable', () => {
    const { auth } = setup({ maxTrackedNonces: 2 });
    const challenges = [firstChallenge(auth), firstChallenge(auth), firstChallenge(auth)];
    const creds = challenges.map((c) => answer(c, { username: 'alice', password: 'wonderland' }));
    for (const c of creds) expect(register(auth, c).outcome).toBe('ok');
    expect(auth.sizes.nonces).toBe(2);
    expect(register(auth, creds[0] ?? '')).toMatchObject({
      outcome: 'challenge',
      stale: true,
      detail: 'forgotten',
    });
  });
});

describe('DigestAuthenticator.verify: malformed and legacy credentials', () => {
  const base = {
    username: 'alice',
    realm: REALM,
    nonce: 'n',
    uri: 'sip:example.com',
    response: '0'.repeat(64),
  };

  it.each([
    ['an unparseable value', 'Digest username="alice', 'malformed-header'],
    [
      'a missing uri',
      `Digest username="alice", realm="${REALM}", nonce="n", response="0"`,
      'missing-parameter',
    ],
    [
      'qop without nc',
      serializeDigestCredentials({ ...base, qop: 'auth', cnonce: 'c' }),
      'missing-parameter',
    ],
    [
      'qop without cnonce',
      serializeDigestCredentials({ ...base, qop: 'auth', nc: '00000001' }),
      'missing-parameter',
    ],
    [
      'a non-hex nc',
      serializeDigestCredentials({ ...base, qop: 'auth', nc: '0000000g', cnonce: 'c' }),
      'invalid-nc',
    ],
    [
      'nc zero',
      serializeDigestCredentials({ ...base, qop: 'auth', nc: '00000000', cnonce: 'c' }),
      'invalid-nc',
    ],
    [
      'a 9-digit nc',
      serializeDigestCredentials({ ...base, qop: 'auth', nc: '000000001', cnonce: 'c' }),
      'invalid-nc',
    ],
    [
      'qop=auth-int',
      serializeDigestCredentials({ ...base, qop: 'auth-int', nc: '1', cnonce: 'c' }),
      'unsupported-qop',
    ],
    [
      'no qop (legacy disabled)',
      serializeDigestCredentials({ ...base, algorithm: 'SHA-256' }),
      'missing-qop',
    ],
    ['userhash=true', `${serializeDigestCredentials(base)}, userhash=true`, 'userhash-unsupported'],
  ])('answers 400 to %s', (_name, value, reason) => {
    const { auth } = setup();
    expect(register(auth, value)).toMatchObject({ outcome: 'bad-request', reason });
  });

  it('does not count malformed requests as failures', () => {
    const { auth } = setup({ sourceLimits: { maxFailures: 1 } });
    for (let i = 0; i < 10; i++) register(auth, 'Digest username="alice');
    expect(auth.sizes.sources).toBe(0);
  });

  it('challenges an algorithm it does not know', () => {
    const { auth } = setup();
    const value = serializeDigestCredentials({
      ...base,
      algorithm: 'SHA-512-256',
      qop: 'auth',
      nc: '1',
      cnonce: 'c',
    });
    expect(register(auth, value)).toMatchObject({
      outcome: 'challenge',
      reason: 'unsupported-algorithm',
    });
  });

  it('accepts a scheme name in any case', () => {
    const { auth } = setup();
    const creds = answer(firstChallenge(auth), { username: 'alice', password: 'wonderland' });
    expect(register(auth, creds.replace(/^Digest/, 'dIGEST')).outcome).toBe('ok');
  });

  it('when enabled, accepts RFC 2069 answers once per nonce, then re-challenges with stale=true', () => {
    const { auth } = setup({ allowLegacyNoQop: true });
    const challenge = auth.challenge()[1] ?? ''; // MD5, as an old phone would pick
    const creds = answer(challenge, { username: 'alice', password: 'wonderland', qop: false });
    expect(creds).not.toMatch(/qop|nc=|cnonce/);
    expect(register(auth, creds)).toMatchObject({ outcome: 'ok', algorithm: 'MD5' });
    expect(register(auth, creds)).toMatchObject({
      outcome: 'challenge',
      stale: true,
      reason: 'nonce-reused',
    });
  });
});
