/** Random and mutated Authorization values never throw and always get a typed answer. */
import { describe, expect, it } from '@jest/globals';
import { parseAuthHeader } from '../../../../sip/auth/authParams.js';
import { DigestAuthenticator } from '../../../../sip/auth/authenticator.js';
import { FakeClock, answer, seededRandom } from './helpers.js';

const ALPHABET = [
  ...'Digest realm="nonce" uri=response,qop=auth nc=00000001 cnonce algorithm=SHA-256 MD5-sess',
  ...'\\"\\",,== \t\r\n\r\n \u0000\u007f\u00e9\u{1F600}/;:@<>[]{}',
];
const OUTCOMES = ['ok', 'challenge', 'forbidden', 'bad-request'];

function randomString(rand: () => number, maxLength: number): string {
  const length = Math.floor(rand() * maxLength);
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return s;
}

/** Deletes, duplicates or replaces a few characters of a valid value. */
function mutate(rand: () => number, value: string): string {
  let s = value;
  const edits = 1 + Math.floor(rand() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (s.length + 1));
    const op = Math.floor(rand() * 3);
    const ch = ALPHABET[Math.floor(rand() * ALPHABET.length)] ?? '';
    if (op === 0) s = s.slice(0, at) + s.slice(at + 1);
    else if (op === 1) s = s.slice(0, at) + ch + s.slice(at);
    else s = s.slice(0, at) + ch + s.slice(at + 1);
  }
  return s;
}

describe('garbage Authorization values', () => {
  const clock = new FakeClock();
  const auth = new DigestAuthenticator({
    realm: 'realm',
    lookupCredentials: (u) => (u === 'alice' ? { password: 'secret' } : undefined),
    clock,
    sourceLimits: { maxFailures: 1_000_000 },
    userLimits: { maxFailures: 1_000_000 },
  });

  it('parseAuthHeader returns a result for random strings (seed 20240601)', () => {
    const rand = seededRandom(20240601);
    for (let i = 0; i < 3000; i++) {
      const value = randomString(rand, 120);
      const r = parseAuthHeader(value);
      expect(typeof r.ok).toBe('boolean');
    }
  });

  it('verify() returns a typed outcome for random and mutated values (seed 7)', () => {
    const rand = seededRandom(7);
    const [challenge] = auth.challenge();
    const valid = answer(challenge ?? '', { username: 'alice', password: 'secret' });
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const values =
        i % 2 === 0 ? [mutate(rand, valid)] : [randomString(rand, 200), randomString(rand, 40)];
      const result = auth.verify({
        method: 'REGISTER',
        authorizationHeaderValues: values,
        sourceAddress: `10.0.0.${i % 7}`,
      });
      expect(OUTCOMES).toContain(result.outcome);
      counts.set(result.outcome, (counts.get(result.outcome) ?? 0) + 1);
    }
    // A harmless mutation (say, trailing whitespace) may authenticate, but only once: every
    // copy carries the same nonce and nc, so later ones are replays.
    expect(counts.get('ok') ?? 0).toBeLessThanOrEqual(1);
    expect(counts.get('challenge')).toBeGreaterThan(100);
    expect(counts.get('bad-request')).toBeGreaterThan(100);
  });
});
