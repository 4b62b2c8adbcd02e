import { describe, it, expect } from '@jest/globals';
import { DigestAuthenticator } from '../../../../sip/auth/authenticator.js';
import { computeDigestResponse, computeHa1 } from '../../../../sip/auth/digest.js';
import { parseMessage, type SipRequest } from '../../../../sip/message/index.js';
import { identifyCaller, type IdentifyDeps } from '../../../../src/calls/identifyCaller.js';
import { parseConfig } from '../../../../src/config/load.js';

const config = parseConfig({
  extensions: [
    { number: '1001', password: 'pw1001' },
    { number: '1002', password: 'pw1002' },
  ],
  trunks: [
    { name: 'open', host: '127.0.0.1', sourcePort: 5080, dids: {} },
    {
      name: 'locked',
      host: '127.0.0.1',
      sourcePort: 5090,
      inboundAuth: { username: 'carrier', password: 'trunkpw' },
      dids: {},
    },
  ],
});
const passwords = new Map([
  ['1001', 'pw1001'],
  ['1002', 'pw1002'],
  ['carrier', 'trunkpw'],
]);
/** The test's authenticator over `passwords`, with `options` on top. */
const makeAuthenticator = (
  options: Partial<ConstructorParameters<typeof DigestAuthenticator>[0]> = {},
): DigestAuthenticator =>
  new DigestAuthenticator({
    realm: 'callwatch',
    algorithms: ['MD5'],
    lookupCredentials: (u) => {
      const password = passwords.get(u);
      return password === undefined ? undefined : { password };
    },
    clock: { now: () => 1000 },
    ...options,
  });
const authenticator = makeAuthenticator();
const deps: IdentifyDeps = {
  trunks: config.trunks,
  authenticator,
  isExtension: (n) => n === '1001' || n === '1002',
};
const at = (port: number) => ({ protocol: 'udp' as const, address: '127.0.0.1', port });

function invite(
  from: string,
  credentials?: { user: string; password: string },
  issuer: DigestAuthenticator = authenticator,
): SipRequest {
  const uri = 'sip:1002@127.0.0.1';
  const lines = [
    `INVITE ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK1',
    `From: <sip:${from}@127.0.0.1>;tag=a`,
    `To: <${uri}>`,
    'Call-ID: c1',
    'CSeq: 1 INVITE',
  ];
  if (credentials) {
    const nonce = /nonce="([^"]+)"/.exec(issuer.challenge()[0] ?? '')?.[1] ?? '';
    const ha1 = computeHa1('md5', credentials.user, 'callwatch', credentials.password);
    const response = computeDigestResponse({
      algorithm: 'MD5',
      ha1,
      method: 'INVITE',
      uri,
      nonce,
      qop: 'auth',
      nc: '00000001',
      cnonce: 'x',
    });
    lines.push(
      `Proxy-Authorization: Digest username="${credentials.user}", realm="callwatch", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="x"`,
    );
  }
  const r = parseMessage(Buffer.from([...lines, 'Content-Length: 0', '', ''].join('\r\n')));
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad fixture');
  return r.message;
}

describe('identifyCaller', () => {
  it('takes a trunk without inboundAuth by its source address alone', () => {
    expect(identifyCaller(invite('anyone'), at(5080), deps)).toMatchObject({
      ok: true,
      caller: { kind: 'trunk', trunk: 'open' },
    });
  });

  it('challenges a trunk with inboundAuth (407) and accepts its own credentials', () => {
    expect(identifyCaller(invite('anyone'), at(5090), deps)).toMatchObject({
      ok: false,
      status: 407,
    });
    const ok = identifyCaller(
      invite('anyone', { user: 'carrier', password: 'trunkpw' }),
      at(5090),
      deps,
    );
    expect(ok).toMatchObject({ ok: true, caller: { kind: 'trunk', trunk: 'locked' } });
  });

  it("refuses an extension's credentials from a trunk that must authenticate", () => {
    const r = identifyCaller(invite('1001', { user: '1001', password: 'pw1001' }), at(5090), deps);
    expect(r).toMatchObject({ ok: false, status: 403 });
  });

  it("never lets a trunk's credentials place a call as an extension", () => {
    const r = identifyCaller(
      invite('carrier', { user: 'carrier', password: 'trunkpw' }),
      at(6000),
      deps,
    );
    expect(r).toMatchObject({ ok: false, status: 403, reason: 'Not An Extension' });
  });

  it('accepts an extension as itself, challenges without credentials, refuses another From', () => {
    expect(identifyCaller(invite('1001'), at(6000), deps)).toMatchObject({
      ok: false,
      status: 407,
    });
    expect(
      identifyCaller(invite('1001', { user: '1001', password: 'pw1001' }), at(6000), deps),
    ).toMatchObject({ ok: true, caller: { kind: 'extension', extension: '1001' } });
    expect(
      identifyCaller(invite('1002', { user: '1001', password: 'pw1001' }), at(6000), deps),
    ).toMatchObject({ ok: false, status: 403 });
  });

  it("behind a trusted proxy, a phone's wrong passwords lock out its own address, not the proxy's", () => {
    const proxied = makeAuthenticator({
      trustedProxies: ['127.0.0.1'],
      sourceLimits: { maxFailures: 2 },
    });
    const proxyDeps: IdentifyDeps = { ...deps, authenticator: proxied };
    // The proxy's Via is the topmost (invite()'s 127.0.0.1), the phone's below it.
    const from = (phone: string, user: string, password: string): SipRequest => {
      const request = invite(user, { user, password }, proxied);
      request.headers.append('Via', `SIP/2.0/UDP ${phone}:5060;branch=z9hG4bKphone`);
      return request;
    };
    for (let i = 0; i < 3; i++)
      identifyCaller(from('10.0.0.5', '1001', 'wrong'), at(6000), proxyDeps);
    expect(identifyCaller(from('10.0.0.5', '1002', 'pw1002'), at(6000), proxyDeps)).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(identifyCaller(from('10.0.0.6', '1002', 'pw1002'), at(6000), proxyDeps)).toMatchObject({
      ok: true,
      caller: { kind: 'extension', extension: '1002' },
    });
  });

  it('refuses a trunk username that is also an extension number at config load', () => {
    expect(() =>
      parseConfig({
        extensions: [{ number: '1001', password: 'pw1001' }],
        trunks: [
          { name: 't', host: '127.0.0.1', inboundAuth: { username: '1001', password: 'xxxx' } },
        ],
      }),
    ).toThrow(/trunks\[0\]\.inboundAuth\.username/);
  });
});
