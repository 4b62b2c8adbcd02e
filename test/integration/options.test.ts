/**
 * OPTIONS (RFC 3261 §11) over UDP and TCP with a raw client: 200 with Allow and Accept,
 * the request's Via/From/Call-ID/CSeq echoed, a To tag added.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startServer, type ServerHandle } from '../helpers/server.js';
import { buildRequest, SipClient, type SipMessageView } from '../helpers/sipClient.js';

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.stop();
});

function expectOptionsOk(
  res: SipMessageView,
  req: { callId: string; branch: string; fromTag: string },
): void {
  expect(res.status).toBe(200);
  const allow = res.headerValues('allow').map((m) => m.toUpperCase());
  expect(allow).toEqual(expect.arrayContaining(['OPTIONS', 'REGISTER']));
  for (const m of allow) expect(m).toMatch(/^[A-Z]+$/);
  const accept = res.headerValues('accept').map((a) => a.split(';')[0]!.trim().toLowerCase());
  expect(accept).toContain('application/sdp');
  expect(res.callId).toBe(req.callId);
  expect(res.cseq).toBe(1);
  expect(res.cseqMethod).toBe('OPTIONS');
  expect(res.branch).toBe(req.branch);
  expect(res.header('from')).toContain(`tag=${req.fromTag}`);
  expect(res.header('to')).toMatch(/;\s*tag=\S+/);
}

describe('OPTIONS', () => {
  it('answers 200 with Allow and Accept over UDP', async () => {
    const c = await SipClient.udp();
    try {
      const { request, response } = await c.request(
        {
          method: 'OPTIONS',
          target: `127.0.0.1:${server.sipPort}`,
          headers: ['Accept: application/sdp'],
        },
        server.sipPort,
      );
      expectOptionsOk(response, request);
    } finally {
      await c.close();
    }
  });

  it('fills in rport and received on the top Via over UDP (RFC 3581)', async () => {
    const c = await SipClient.udp();
    try {
      const { response } = await c.request(
        { method: 'OPTIONS', target: `127.0.0.1:${server.sipPort}` },
        server.sipPort,
      );
      const via = response.headerValues('via')[0] ?? '';
      expect(via).toMatch(new RegExp(`;\\s*rport=${c.localPort}(;|$)`));
    } finally {
      await c.close();
    }
  });

  it('answers 200 with Allow and Accept over TCP', async () => {
    const c = await SipClient.tcp(server.sipPort);
    try {
      const { request, response } = await c.request(
        { method: 'OPTIONS', target: `127.0.0.1:${server.sipPort}` },
        server.sipPort,
      );
      expectOptionsOk(response, request);
    } finally {
      await c.close();
    }
  });

  it('answers two OPTIONS written in one TCP segment, each on its own', async () => {
    const c = await SipClient.tcp(server.sipPort);
    try {
      const spec = {
        method: 'OPTIONS',
        target: `127.0.0.1:${server.sipPort}`,
        transport: 'TCP' as const,
        localPort: c.localPort,
      };
      const a = buildRequest(spec);
      const b = buildRequest(spec);
      c.send(a.text + b.text);
      expectOptionsOk(await c.waitForResponse(a.callId, 'OPTIONS'), a);
      expectOptionsOk(await c.waitForResponse(b.callId, 'OPTIONS'), b);
    } finally {
      await c.close();
    }
  });

  it('understands compact header forms', async () => {
    const c = await SipClient.udp();
    try {
      const text = [
        `OPTIONS sip:127.0.0.1:${server.sipPort} SIP/2.0`,
        `v: SIP/2.0/UDP 127.0.0.1:${c.localPort};branch=z9hG4bKcompact1;rport`,
        'f: <sip:test@127.0.0.1>;tag=ct1',
        `t: <sip:127.0.0.1:${server.sipPort}>`,
        'i: compact-1@127.0.0.1',
        'CSeq: 1 OPTIONS',
        'Max-Forwards: 70',
        'l: 0',
        '',
        '',
      ].join('\r\n');
      c.send(text, server.sipPort);
      const res = await c.waitForResponse('compact-1@127.0.0.1', 'OPTIONS');
      expectOptionsOk(res, {
        callId: 'compact-1@127.0.0.1',
        branch: 'z9hG4bKcompact1',
        fromTag: 'ct1',
      });
    } finally {
      await c.close();
    }
  });
});
