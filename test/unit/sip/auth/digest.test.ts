import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  computeDigestResponse,
  computeHa1,
  digestEquals,
  hashFunctionOf,
  isSessionAlgorithm,
  parseDigestAlgorithm,
} from '../../../../sip/auth/digest.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

describe('computeDigestResponse', () => {
  it('matches the RFC 2617 §3.5 example (MD5, qop=auth)', () => {
    const ha1 = computeHa1('md5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
    expect(
      computeDigestResponse({
        algorithm: 'MD5',
        ha1,
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  const rfc7616 = {
    method: 'GET',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    qop: 'auth' as const,
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };

  it('matches the RFC 7616 §3.9.1 example (SHA-256)', () => {
    const ha1 = computeHa1('sha256', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
    expect(computeDigestResponse({ ...rfc7616, algorithm: 'SHA-256', ha1 })).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });

  it('matches the RFC 7616 §3.9.1 example (MD5)', () => {
    const ha1 = computeHa1('md5', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
    expect(computeDigestResponse({ ...rfc7616, algorithm: 'MD5', ha1 })).toBe(
      '8ca523f5e9506fed4657c9700eebdbec',
    );
  });

  it('accepts a precomputed HA1 in either hex case', () => {
    const ha1 = computeHa1('sha256', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
    expect(
      computeDigestResponse({ ...rfc7616, algorithm: 'SHA-256', ha1: ha1.toUpperCase() }),
    ).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('derives the -sess HA1 from the base HA1, nonce and cnonce (RFC 2617 §3.2.2.2)', () => {
    const base = md5('bob:biloxi.com:zanzibar');
    const sessHa1 = md5(`${base}:n1:c1`);
    const ha2 = md5('INVITE:sip:bob@biloxi.com');
    expect(
      computeDigestResponse({
        algorithm: 'MD5-sess',
        ha1: base,
        method: 'INVITE',
        uri: 'sip:bob@biloxi.com',
        nonce: 'n1',
        qop: 'auth',
        nc: '00000002',
        cnonce: 'c1',
      }),
    ).toBe(md5(`${sessHa1}:n1:00000002:c1:auth:${ha2}`));
  });

  it('computes the RFC 2069 form when there is no qop', () => {
    const ha1 = md5('bob:biloxi.com:zanzibar');
    expect(
      computeDigestResponse({
        algorithm: 'MD5',
        ha1,
        method: 'REGISTER',
        uri: 'sip:biloxi.com',
        nonce: 'n1',
      }),
    ).toBe(md5(`${ha1}:n1:${md5('REGISTER:sip:biloxi.com')}`));
  });

  it('hashes text as UTF-8', () => {
    expect(computeHa1('md5', 'jörg', 'r', 'pässwörd')).toBe(md5('jörg:r:pässwörd'));
  });
});

describe('algorithm helpers', () => {
  it('parses names case-insensitively, defaults to MD5, refuses unknown ones', () => {
    expect(parseDigestAlgorithm(undefined)).toBe('MD5');
    expect(parseDigestAlgorithm('sha-256')).toBe('SHA-256');
    expect(parseDigestAlgorithm('md5-SESS')).toBe('MD5-sess');
    expect(parseDigestAlgorithm('SHA-512-256')).toBeUndefined();
    expect(parseDigestAlgorithm('')).toBeUndefined();
  });

  it('knows the hash and the session flavour of each algorithm', () => {
    expect(hashFunctionOf('SHA-256-sess')).toBe('sha256');
    expect(hashFunctionOf('MD5')).toBe('md5');
    expect(isSessionAlgorithm('SHA-256-sess')).toBe(true);
    expect(isSessionAlgorithm('SHA-256')).toBe(false);
  });
});

describe('digestEquals', () => {
  it('compares hex responses, ignoring case, refusing other lengths', () => {
    expect(digestEquals('6629fae4', '6629FAE4')).toBe(true);
    expect(digestEquals('6629fae4', '6629fae5')).toBe(false);
    expect(digestEquals('6629fae4', '6629fae')).toBe(false);
    expect(digestEquals('6629fae4', '')).toBe(false);
  });
});
