/**
 * SIP over WebSocket (RFC 7118) against the running server: a `ws` client speaking raw
 * SIP the way a browser with SIP.js does (`.invalid` Via host, `;transport=ws` Contact),
 * a SIPp trunk over UDP calling it, and bad input on the socket. Media is plain RTP/AVP
 * here: what a WebSocket carries is signalling only.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  allocatePort,
  allocatePortBlock,
  allocateRtpRange,
  waitForUdpBound,
} from '../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../helpers/processes.js';
import { PEER_AUTH, TEST_ADMIN_TOKEN, startServer, type ServerHandle } from '../helpers/server.js';
import {
  SipClient,
  digestAuthorization,
  parseDigestChallenge,
  randomToken,
  type SipMessageView,
} from '../helpers/sipClient.js';
import { authRow, runSipp, sippScenario, type SippResult } from '../helpers/sipp.js';
import { WebRtcPeer } from '../helpers/webrtcPeer.js';
import { WsSipClient, plainAudioSdp } from '../helpers/wsSipClient.js';
import { selfSignedCertificate } from '../helpers/tlsCert.js';

let server: ServerHandle;
let dir: string;
let tone: string;
let trunkPort: number;
/** Where the "browser" says it receives RTP (a socket that only absorbs it). */
let rtpSink: dgram.Socket;

beforeAll(async () => {
  dir = makeTempDir('sip-ws');
  tone = path.join(dir, 'tone.alaw');
  execFileSync('sox', [
    '-n',
    '-r',
    '8000',
    '-c',
    '1',
    '-e',
    'a-law',
    '-t',
    'raw',
    tone,
    'synth',
    '10',
    'sine',
    '1000',
  ]);
  trunkPort = await allocatePort();
  rtpSink = dgram.createSocket('udp4');
  rtpSink.on('message', () => {});
  await new Promise<void>((r) => rtpSink.bind(0, '127.0.0.1', () => r()));
  server = await startServer(
    {
      ...PEER_AUTH,
      media: { workers: 1, portRange: await allocateRtpRange() },
      calls: { noAnswerTimeoutSec: 10 },
      // Overload shedding off: on a busy test machine a late timer would turn the first
      // REGISTERs into 503s, which is not what these tests are about.
      sip: {
        maxMessageBytes: 4000,
        // Pings run during the file, but a pong may come late: the werift peers share
        // this process, and a DTLS handshake under load stalls it for over a second
        // (a 1 s interval dropped a connection mid-call that way). The pong deadline
        // itself is unit-tested with a fake clock.
        webSocket: { pingIntervalSec: 10 },
        overload: { enabled: false },
      },
      trunks: [
        {
          name: 'carrier',
          host: '127.0.0.1',
          port: trunkPort,
          sourcePort: trunkPort,
          prefixes: ['0'],
          stripPrefix: true,
          dids: { '5550102': '1002', '5550103': '1003' },
        },
      ],
    },
    {
      extensions: [
        ...['1001', '1002', '1003'].map((n) => ({ number: n, password: `pw${n}` })),
        { number: '1005', password: 'pw1005', role: 'supervisor' as const },
      ],
    },
  );
}, 30000);

afterAll(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await server?.stop();
  rtpSink?.close();
  if (dir) removeTempDir(dir);
});

/** call_uac.xml as the trunk, hanging up itself ('caller') or waiting for our BYE ('callee'). */
/**
 * SIPp's RTP ports, taken right before SIPp starts: a block handed out long before its use
 * can be taken meanwhile by another test run on the machine (EADDRINUSE, exit 254).
 */
const sippMediaPort = () => allocatePortBlock(6);

async function trunkCall(service: string, hangup: 'caller' | 'callee'): Promise<SippResult> {
  let text = readFileSync(sippScenario('call_uac.xml'), 'utf8').replaceAll('TONE_FILE', tone);
  const drop = hangup === 'caller' ? 'BYE-CALLEE' : 'BYE-CALLER';
  text = text.replace(new RegExp(`<!-- ${drop} -->[\\s\\S]*?<!-- /${drop} -->`), '');
  const file = path.join(dir, `call_uac-${hangup}-${randomToken(3)}.xml`);
  writeFileSync(file, text);
  return runSipp({
    scenario: file,
    remote: `127.0.0.1:${server.sipPort}`,
    localPort: trunkPort,
    calls: 1,
    timeoutSec: 20,
    traceMessages: true,
    extraArgs: ['-s', service, '-mi', '127.0.0.1', '-mp', String(await sippMediaPort())],
  });
}

/** The trunk's INVITE on the socket; when it does not come, what SIPp and the server said. */
async function inviteFrom(ws: WsSipClient, caller: Promise<SippResult>): Promise<SipMessageView> {
  try {
    return await ws.waitFor((m) => m.method === 'INVITE', 10000);
  } catch (err) {
    const logs = server
      .logs()
      .slice(-20)
      .map((l) => JSON.stringify(l))
      .join('\n');
    throw new Error(
      `${(err as Error).message}\n--- SIPp ---\n${describeSipp(await caller)}\n--- server ---\n${logs}`,
    );
  }
}

function describeSipp(r: SippResult): string {
  return `exit ${r.exitCode}\n${r.stderr}\n${r.errLog}\n${r.messages.slice(-3000)}`;
}

/** A plain RTP/AVP offer (a WebSocket client may call without WebRTC: its leg is plain RTP). */
const plainOffer = () => plainAudioSdp(rtpSink.address().port);

/** Browsers answering calls in these tests (werift), closed after the tests. */
const peers: WebRtcPeer[] = [];

/**
 * Answers an INVITE that arrived on the socket (180, 200, ACK) as a browser would: the
 * server offers a WebSocket contact UDP/TLS/RTP/SAVPF, so the answer comes from a WebRTC
 * peer (ICE, DTLS and SRTP then run against the call's leg).
 */
const answer = async (ws: WsSipClient, invite: SipMessageView, user: string): Promise<string> => {
  expect(invite.body).toContain('UDP/TLS/RTP/SAVPF');
  const peer = await WebRtcPeer.create(['opus', 'PCMU']);
  peers.push(peer);
  return ws.answerCall(invite, user, await peer.answer(invite.body));
};

const ackFor = (ws: WsSipClient, response: SipMessageView, uri: string, cseq: number) =>
  ws.ack(response, uri, cseq);

const byeAsCallee = (ws: WsSipClient, invite: SipMessageView, tag: string) =>
  ws.byeAsCallee(invite, tag);

async function contactsOf(extension: string) {
  return (await server.registrations()).find((r) => r.extension === extension)?.contacts ?? [];
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('SIP over WebSocket (RFC 7118)', () => {
  it('refuses an upgrade without the sip subprotocol, and a plain GET', async () => {
    expect(await WsSipClient.refusal(server.httpPort, [])).toBe(400);
    expect(await WsSipClient.refusal(server.httpPort, ['chat'])).toBe(400);
    expect((await server.httpGet('/sip', { token: null })).status).toBe(426);
    // Offered among others, sip is chosen.
    const ws = await WsSipClient.connect(server.httpPort, ['chat', 'sip']);
    expect(ws.socket.protocol).toBe('sip');
    await ws.close();
  });

  it('registers with digest (401, then 200) and keeps the ;transport=ws Contact until the socket closes', async () => {
    const ws = await WsSipClient.connect(server.httpPort);
    const { challenge, final } = await ws.register('1002', 'pw1002');
    expect(challenge.status).toBe(401);
    expect(final.status).toBe(200);
    expect(final.header('Contact')).toContain(`sip:1002@${ws.host};transport=ws`);
    // RFC 3581 / RFC 7118 §5: the .invalid sent-by gets received and rport stamped.
    expect(final.header('Via')).toMatch(
      new RegExp(
        `^SIP/2\\.0/WS ${ws.host};branch=\\S+;rport=${ws.localPort};received=127\\.0\\.0\\.1$`,
      ),
    );
    // This one open (the previous test's are closed, maybe a moment after their close).
    await waitUntil(
      'one open WebSocket connection',
      async () => (await server.metric('callwatch_sip_websocket_connections')) === 1,
    );
    const contacts = await contactsOf('1002');
    expect(contacts).toEqual([
      expect.objectContaining({
        uri: `sip:1002@${ws.host};transport=ws`,
        source: `ws:127.0.0.1:${ws.localPort}`,
      }),
    ]);
    await ws.close();
    await waitUntil('the binding to go', async () => (await contactsOf('1002')).length === 0);
    await server.waitForLog(
      (e) => e.msg === 'unregistered' && e.reason === 'flow-closed' && e.extension === '1002',
    );
  });

  it('answers OPTIONS and a CRLF keep-alive on the socket', async () => {
    const ws = await WsSipClient.connect(server.httpPort);
    const res = await ws.request({ method: 'OPTIONS', uri: 'sip:127.0.0.1', fromUser: 'x' });
    expect(res.status).toBe(200);
    ws.send('\r\n\r\n');
    await waitUntil('the CRLF pong', async () => ws.otherFrames.includes('\r\n'));
    await ws.close();
  });

  it('rings the WebSocket extension for a call from a UDP trunk; the trunk hangs up, the BYE comes down the socket', async () => {
    const ws = await WsSipClient.connect(server.httpPort);
    expect((await ws.register('1002', 'pw1002')).final.status).toBe(200);
    const caller = trunkCall('5550102', 'caller');
    const invite = await inviteFrom(ws, caller);
    expect(invite.uri).toBe(`sip:1002@${ws.host};transport=ws`);
    expect(invite.header('Via')).toMatch(/^SIP\/2\.0\/WS 127\.0\.0\.1:\d+;branch=/);
    expect(invite.header('Contact')).toMatch(/;transport=ws>/);
    // A browser's contact is offered WebRTC (ICE-lite, DTLS-SRTP, rtcp-mux).
    expect(invite.body).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF /);
    await answer(ws, invite, '1002');
    const bye = await ws.waitFor((m) => m.method === 'BYE' && m.callId === invite.callId, 10000);
    ws.respond(bye, 200, 'OK');
    const result = await caller;
    if (result.exitCode !== 0) throw new Error(describeSipp(result));
    await ws.close();
  }, 30000);

  it('the browser hangs up: its BYE over the socket reaches the trunk', async () => {
    const ws = await WsSipClient.connect(server.httpPort);
    try {
      expect((await ws.register('1002', 'pw1002')).final.status).toBe(200);
      const caller = trunkCall('5550102', 'callee');
      const invite = await inviteFrom(ws, caller);
      const tag = await answer(ws, invite, '1002');
      // The hang-up right after the answer: the server holds the trunk's BYE until the
      // trunk ACKs its 200 (RFC 3261 §15), so SIPp never sees a BYE before its 200.
      byeAsCallee(ws, invite, tag);
      const ok = await ws.waitFor(
        (m) => m.isResponse && m.cseqMethod === 'BYE' && m.callId === invite.callId,
      );
      expect(ok.status).toBe(200);
      const result = await caller;
      if (result.exitCode !== 0) throw new Error(describeSipp(result));
    } finally {
      // Closed also when the test fails: a binding left behind fails the next test.
      await ws.close();
    }
  }, 30000);

  it('closing the socket mid-call removes the binding and BYEs the trunk within seconds', async () => {
    const ws = await WsSipClient.connect(server.httpPort);
    expect((await ws.register('1002', 'pw1002')).final.status).toBe(200);
    const caller = trunkCall('5550102', 'callee');
    const invite = await inviteFrom(ws, caller);
    await answer(ws, invite, '1002');
    await new Promise((r) => setTimeout(r, 500));
    const closedAt = Date.now();
    ws.socket.terminate(); // a crashed tab: no closing handshake
    const result = await caller;
    if (result.exitCode !== 0) throw new Error(describeSipp(result));
    expect(Date.now() - closedAt).toBeLessThan(3000);
    expect(await contactsOf('1002')).toEqual([]);
    const ended = await server.waitForLog(
      (e) => e.msg === 'call ended' && e.reason === 'connection-lost',
    );
    expect(ended).toMatchObject({ answered: true });
  }, 30000);

  it('the browser calls a desk phone: 407 and digest over the socket, the phone answers, the browser hangs up', async () => {
    // The desk phone: SIPp registered as 1003 over UDP, then answering one call.
    const phonePort = await allocatePort();
    const reg = await runSipp({
      scenario: 'reg_auth.xml',
      remote: `127.0.0.1:${server.sipPort}`,
      localPort: phonePort,
      calls: 1,
      injection: { rows: [authRow('1003', 'pw1003', `sip:1003@127.0.0.1:${phonePort}`, '600')] },
    });
    if (reg.exitCode !== 0) throw new Error(describeSipp(reg));
    let text = readFileSync(sippScenario('call_uas.xml'), 'utf8').replaceAll('TONE_FILE', tone);
    text = text.replace(/<!-- BYE-CALLEE -->[\s\S]*?<!-- \/BYE-CALLEE -->/, '');
    const uasFile = path.join(dir, 'call_uas-ws.xml');
    writeFileSync(uasFile, text);
    const phone = runSipp({
      scenario: uasFile,
      localPort: phonePort,
      calls: 1,
      timeoutSec: 20,
      traceMessages: true,
      extraArgs: ['-mi', '127.0.0.1', '-mp', String(await sippMediaPort())],
    });
    await waitForUdpBound(phonePort);

    const ws = await WsSipClient.connect(server.httpPort);
    let unreg: SippResult;
    try {
      expect((await ws.register('1001', 'pw1001')).final.status).toBe(200);
      const offer = plainOffer();
      const base = {
        method: 'INVITE',
        uri: 'sip:1003@127.0.0.1',
        fromUser: '1001',
        toUser: '1003',
        callId: randomToken(10),
        fromTag: randomToken(4),
        body: offer,
      };
      const headers = [`Contact: ${ws.contact('1001')}`, 'Content-Type: application/sdp'];
      const challenge = await ws.request({ ...base, cseq: 1, headers });
      expect(challenge.status).toBe(407);
      ws.send(ackFor(ws, challenge, base.uri, 1));
      const params = parseDigestChallenge(challenge.header('Proxy-Authenticate') ?? '');
      const auth = digestAuthorization(
        params,
        { username: '1001', password: 'pw1001' },
        'INVITE',
        base.uri,
      );
      const ok = await ws.request(
        { ...base, cseq: 2, headers: [...headers, `Proxy-Authorization: ${auth}`] },
        10000,
      );
      expect(ok.status).toBe(200);
      expect(ok.body).toMatch(/m=audio \d+ RTP\/AVP /);
      const target = /<([^>]+)>/.exec(ok.header('Contact') ?? '')?.[1] ?? '';
      expect(target).toMatch(/;transport=ws$/);
      ws.send(ackFor(ws, ok, target, 2));
      await new Promise((r) => setTimeout(r, 500));
      const bye = await ws.request({
        method: 'BYE',
        uri: target,
        fromUser: '1001',
        toUser: '1003',
        callId: base.callId,
        fromTag: base.fromTag,
        toTag: /;\s*tag=([^;>\s]+)/.exec(ok.header('To') ?? '')?.[1] ?? '',
        cseq: 3,
      });
      expect(bye.status).toBe(200);
      const answered = await phone;
      if (answered.exitCode !== 0) throw new Error(describeSipp(answered));
    } finally {
      await ws.close();
      // The desk phone's binding goes, so later tests ring 1003 in the browser only.
      unreg = await runSipp({
        scenario: 'unreg.xml',
        remote: `127.0.0.1:${server.sipPort}`,
        localPort: phonePort,
        calls: 1,
        injection: { rows: [authRow('1003', 'pw1003', '*')] },
      });
    }
    if (unreg.exitCode !== 0) throw new Error(describeSipp(unreg));
  }, 40000);

  it('a supervisor in a browser monitors by feature code; closing its socket ends the session, the call goes on', async () => {
    const agent = await WsSipClient.connect(server.httpPort);
    const supervisor = await WsSipClient.connect(server.httpPort);
    try {
      expect((await agent.register('1002', 'pw1002')).final.status).toBe(200);
      expect((await supervisor.register('1005', 'pw1005')).final.status).toBe(200);
      const caller = trunkCall('5550102', 'callee');
      const invite = await inviteFrom(agent, caller);
      const tag = await answer(agent, invite, '1002');

      // *90 + agent: listen (407, then digest, as for any call from an extension).
      const base = {
        method: 'INVITE',
        uri: 'sip:*901002@127.0.0.1',
        fromUser: '1005',
        toUser: '*901002',
        callId: randomToken(10),
        fromTag: randomToken(4),
        body: plainOffer(),
      };
      const headers = [`Contact: ${supervisor.contact('1005')}`, 'Content-Type: application/sdp'];
      const challenge = await supervisor.request({ ...base, cseq: 1, headers });
      expect(challenge.status).toBe(407);
      supervisor.send(ackFor(supervisor, challenge, base.uri, 1));
      const params = parseDigestChallenge(challenge.header('Proxy-Authenticate') ?? '');
      const auth = digestAuthorization(
        params,
        { username: '1005', password: 'pw1005' },
        'INVITE',
        base.uri,
      );
      const ok = await supervisor.request(
        { ...base, cseq: 2, headers: [...headers, `Proxy-Authorization: ${auth}`] },
        10000,
      );
      expect(ok.status).toBe(200);
      supervisor.send(
        ackFor(supervisor, ok, /<([^>]+)>/.exec(ok.header('Contact') ?? '')?.[1] ?? '', 2),
      );
      await server.waitForLog((e) => e.msg === 'monitoring started' && e.supervisor === '1005');

      supervisor.socket.terminate();
      await waitUntil('the stop in the audit log', async () => {
        const audit = await server.httpGet('/v1/audit');
        return JSON.stringify(audit.json).includes('connection-lost');
      });
      // The agent's call is untouched: the agent hangs up normally.
      expect(agent.isOpen).toBe(true);
      byeAsCallee(agent, invite, tag);
      const bye = await agent.waitFor(
        (m) => m.isResponse && m.cseqMethod === 'BYE' && m.callId === invite.callId,
      );
      expect(bye.status).toBe(200);
      const result = await caller;
      if (result.exitCode !== 0) throw new Error(describeSipp(result));
    } finally {
      await agent.close();
      await supervisor.close();
    }
  }, 40000);

  it('a BLF subscription made over the socket ends when the socket closes, as its bindings do', async () => {
    const ws = await WsSipClient.connect(server.httpPort);
    try {
      const base = {
        method: 'SUBSCRIBE',
        uri: 'sip:1002@127.0.0.1',
        fromUser: '1005',
        toUser: '1002',
        callId: randomToken(10),
        fromTag: randomToken(4),
      };
      const headers = [
        'Event: dialog',
        'Accept: application/dialog-info+xml',
        'Expires: 600',
        `Contact: ${ws.contact('1005')}`,
      ];
      const challenge = await ws.request({ ...base, cseq: 1, headers });
      expect(challenge.status).toBe(401);
      const params = parseDigestChallenge(challenge.header('WWW-Authenticate') ?? '');
      const auth = digestAuthorization(
        params,
        { username: '1005', password: 'pw1005' },
        'SUBSCRIBE',
        base.uri,
      );
      const ok = await ws.request({
        ...base,
        cseq: 2,
        headers: [...headers, `Authorization: ${auth}`],
      });
      expect(ok.status).toBe(200);
      // The first NOTIFY comes down the socket; answered like a browser would.
      const notify = await ws.waitFor((m) => m.method === 'NOTIFY' && m.callId === base.callId);
      ws.send(
        [
          'SIP/2.0 200 OK',
          ...['Via', 'From', 'To', 'Call-ID', 'CSeq'].flatMap((n) =>
            notify.headerAll(n).map((v) => `${n}: ${v}`),
          ),
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
      await waitUntil(
        'the subscription to run',
        async () => (await server.metric('callwatch_blf_subscriptions_active')) === 1,
      );
    } finally {
      await ws.close();
    }
    // Its NOTIFYs have nowhere to go: it ends with the connection (it had 600 s to run).
    await waitUntil(
      'the subscription to end with its socket',
      async () => (await server.metric('callwatch_blf_subscriptions_active')) === 0,
    );
    await server.waitForLog(
      (e) =>
        e.msg === 'BLF subscription ended' &&
        e.reason === 'flow-closed' &&
        e.watcher === '1005' &&
        e.watched === '1002',
    );
  });

  it('a ringing browser whose socket closes fails its fork at once: the caller gets 480', async () => {
    const ws = await WsSipClient.connect(server.httpPort);
    expect((await ws.register('1003', 'pw1003')).final.status).toBe(200);
    const caller = trunkCall('5550103', 'callee');
    const invite = await inviteFrom(ws, caller);
    ws.respond(invite, 180, 'Ringing', { toTag: randomToken(4), contactUser: '1003' });
    await new Promise((r) => setTimeout(r, 300));
    const closedAt = Date.now();
    ws.socket.terminate();
    const result = await caller; // call_uac expects a 200: it fails, promptly
    expect(result.exitCode).not.toBe(0);
    expect(result.messages).toMatch(/SIP\/2\.0 480 Temporarily Unavailable/);
    expect(Date.now() - closedAt).toBeLessThan(3000);
    expect(await contactsOf('1003')).toEqual([]);
  }, 30000);

  it('bad input closes only the connection that sent it, and everyone else is still served', async () => {
    const good = await WsSipClient.connect(server.httpPort);
    expect((await good.register('1001', 'pw1001')).final.status).toBe(200);

    const binary = await WsSipClient.connect(server.httpPort);
    binary.sendBinary(Buffer.from('OPTIONS sip:127.0.0.1 SIP/2.0\r\n\r\n'));
    expect(await binary.closed).toEqual({ code: 1003, reason: expect.stringMatching(/text/) });

    const big = await WsSipClient.connect(server.httpPort);
    const padding = 'x'.repeat(5000);
    big.send(
      big.build({
        method: 'OPTIONS',
        uri: 'sip:127.0.0.1',
        fromUser: 'x',
        headers: [`X-Pad: ${padding}`],
      }).text,
    );
    expect(await big.closed).toEqual({ code: 1009, reason: expect.stringMatching(/exceeds 4000/) });

    const garbage = await WsSipClient.connect(server.httpPort);
    garbage.send('\u0000\u0001 hello, this is not SIP \r\n\r\n');
    expect(await garbage.closed).toEqual({
      code: 1002,
      reason: expect.stringMatching(/not a SIP message/),
    });

    // A request that parses far enough to be answered gets 400 and the socket stays.
    const answerable = await WsSipClient.connect(server.httpPort);
    const bad = answerable.build({ method: 'OPTIONS', uri: 'sip:127.0.0.1', fromUser: 'x' });
    answerable.send(bad.text.replace(/\r\nMax-Forwards: 70/, '\r\nMax-Forwards: seventy'));
    const refused = await answerable.waitFor((m) => m.isResponse && m.callId === bad.callId);
    expect(refused.status).toBe(400);
    expect(answerable.isOpen).toBe(true);
    await answerable.close();

    // The registered browser and a UDP phone are untouched.
    expect(good.isOpen).toBe(true);
    expect(
      (await good.request({ method: 'OPTIONS', uri: 'sip:127.0.0.1', fromUser: '1001' })).status,
    ).toBe(200);
    expect(await contactsOf('1001')).toHaveLength(1);
    const udp = await SipClient.udp();
    try {
      const { response } = await udp.request(
        { method: 'OPTIONS', target: `127.0.0.1:${server.sipPort}` },
        server.sipPort,
      );
      expect(response.status).toBe(200);
    } finally {
      await udp.close();
    }
    await good.close();
  }, 30000);

  it('torture: malformed messages over the socket get their RFC 4475 answer or a close, alone', async () => {
    const head = (first: string, branch: string, rest: string) =>
      `${first}\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK${branch}\r\n${rest}\r\n`;
    const dialogHeaders = (callId: string, cseq: string) =>
      `From: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: ${callId}\r\nCSeq: ${cseq}\r\nMax-Forwards: 70\r\n`;
    type Outcome = { status: number } | { close: number } | 'nothing';
    const cases: Array<[string, string, Outcome]> = [
      [
        'unknown SIP version (RFC 4475 §3.3.15): 505',
        head('INVITE sip:1002@127.0.0.1 SIP/7.0', 't1', dialogHeaders('t1', '1 INVITE')),
        { status: 505 },
      ],
      [
        'Content-Length larger than the message (§3.1.2.7): 400',
        head(
          'OPTIONS sip:127.0.0.1 SIP/2.0',
          't2',
          `${dialogHeaders('t2', '1 OPTIONS')}Content-Length: 9999\r\n`,
        ),
        { status: 400 },
      ],
      [
        'no CSeq, From or To: cannot be answered, so the connection goes',
        head('OPTIONS sip:127.0.0.1 SIP/2.0', 't3', 'Call-ID: t3\r\n'),
        { close: 1002 },
      ],
      [
        'a response matching no transaction: dropped',
        'SIP/2.0 200 OK\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKnomatch\r\n' +
          dialogHeaders('t4', '1 INVITE') +
          '\r\n',
        'nothing',
      ],
      [
        'an ACK with Max-Forwards 0: never answered',
        head('ACK sip:127.0.0.1 SIP/2.0', 't5', dialogHeaders('t5', '1 ACK').replace('70', '0')),
        'nothing',
      ],
      ['three CRLFs: not a ping, not SIP', '\r\n\r\n\r\n', { close: 1002 }],
      ['text that is not SIP at all', 'x'.repeat(3999), { close: 1002 }],
    ];
    for (const [what, text, expected] of cases) {
      const ws = await WsSipClient.connect(server.httpPort);
      ws.send(text);
      if (expected === 'nothing' || 'status' in expected) {
        await new Promise((r) => setTimeout(r, 300));
        const got = ws.received.filter((m) => m.isResponse).map((m) => m.status);
        expect({ what, got, open: ws.isOpen }).toEqual({
          what,
          got: expected === 'nothing' ? [] : [expected.status],
          open: true,
        });
        await ws.close();
      } else {
        const closed = await ws.closed;
        expect({ what, code: closed.code }).toEqual({ what, code: expected.close });
      }
    }
    const ws = await WsSipClient.connect(server.httpPort);
    expect(
      (await ws.request({ method: 'OPTIONS', uri: 'sip:127.0.0.1', fromUser: 'x' })).status,
    ).toBe(200);
    await ws.close();
  }, 30000);
});

describe('SIP over secure WebSocket (wss) when the HTTP server has a certificate', () => {
  let tlsServer: ServerHandle;
  let cert: Buffer;

  beforeAll(async () => {
    const { certFile, keyFile, cert: pem } = selfSignedCertificate(dir);
    cert = pem;
    tlsServer = await startServer(
      {
        ...PEER_AUTH,
        media: { workers: 1, portRange: await allocateRtpRange() },
        http: { tls: { cert: certFile, key: keyFile } },
        sip: { overload: { enabled: false } },
      },
      { extensions: [{ number: '1002', password: 'pw1002' }] },
    );
  }, 30000);

  afterAll(async () => {
    await tlsServer?.stop();
  });

  it('registers over wss: Via SIP/2.0/WSS, the binding is a wss flow, and it goes with the socket', async () => {
    const ws = await WsSipClient.connectUrl(
      `wss://127.0.0.1:${tlsServer.httpPort}/sip`,
      ['sip'],
      cert,
    );
    const { final } = await ws.register('1002', 'pw1002');
    expect(final.status).toBe(200);
    expect(final.header('Via')).toMatch(/^SIP\/2\.0\/WSS /);
    const reg = (await tlsRegistrations()).find((r) => r.extension === '1002');
    expect(reg?.contacts).toEqual([
      expect.objectContaining({ source: `wss:127.0.0.1:${ws.localPort}` }),
    ]);
    await ws.close();
    await waitUntil('the wss binding to go', async () =>
      (await tlsRegistrations()).every((r) => r.extension !== '1002'),
    );
  });

  async function tlsRegistrations(): Promise<Array<{ extension: string; contacts: unknown[] }>> {
    const https = await import('node:https');
    return new Promise((resolve, reject) => {
      const req = https.get(
        {
          host: '127.0.0.1',
          port: tlsServer.httpPort,
          path: '/v1/registrations',
          ca: cert,
          agent: false,
          headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN.token}` },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve((JSON.parse(body) as { registrations: [] }).registrations));
        },
      );
      req.on('error', reject);
    });
  }
});
