/**
 * The phone page (/phone) in a real Chromium: it registers over SIP over WebSocket with
 * digest, shows it in its status line, the server lists the binding, and closing the tab
 * removes it. Audio through the page needs the WebRTC media side (tested with it).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { allocateRtpRange } from '../helpers/ports.js';
import { withBrowser } from '../helpers/browser.js';
import { PEER_AUTH, startServer, type ServerHandle } from '../helpers/server.js';
import { apiRequest } from '../helpers/api.js';
import { digestAuthorization, parseDigestChallenge, randomToken } from '../helpers/sipClient.js';
import { WebRtcPeer } from '../helpers/webrtcPeer.js';
import { WsSipClient, plainAudioSdp } from '../helpers/wsSipClient.js';

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer(
    {
      ...PEER_AUTH,
      media: { workers: 1, portRange: await allocateRtpRange() },
      // No overload shedding: a busy test machine must not turn the REGISTER into a 503.
      sip: { overload: { enabled: false } },
    },
    {
      extensions: [
        { number: '1001', password: 'pw1001' },
        { number: '1002', password: 'pw1002' },
        { number: '1005', password: 'pw1005', role: 'supervisor' },
      ],
    },
  );
}, 30000);

/** Browsers (werift) answering calls in these tests, closed after them. */
const peers: WebRtcPeer[] = [];

afterAll(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await server?.stop();
});

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

/**
 * `caller` (1001) calls `agent` (1002, registered) with digest; the agent answers. Both
 * are raw WebSocket SIP clients: the caller offers plain RTP/AVP, the agent answers the
 * server's WebRTC offer with a werift peer. Returns the server's call id.
 */
async function callThrough(caller: WsSipClient, agent: WsSipClient): Promise<string> {
  const base = {
    method: 'INVITE',
    uri: 'sip:1002@127.0.0.1',
    fromUser: '1001',
    toUser: '1002',
    callId: randomToken(10),
    fromTag: randomToken(4),
    body: plainAudioSdp(9),
  };
  const headers = [`Contact: ${caller.contact('1001')}`, 'Content-Type: application/sdp'];
  const challenge = await caller.request({ ...base, cseq: 1, headers });
  expect(challenge.status).toBe(407);
  caller.send(caller.ack(challenge, base.uri, 1));
  const params = parseDigestChallenge(challenge.header('Proxy-Authenticate') ?? '');
  const auth = digestAuthorization(
    params,
    { username: '1001', password: 'pw1001' },
    'INVITE',
    base.uri,
  );
  const answered = caller.request(
    { ...base, cseq: 2, headers: [...headers, `Proxy-Authorization: ${auth}`] },
    10000,
  );
  const invite = await agent.waitFor((m) => m.method === 'INVITE', 10000);
  // The server offers the agent's WebSocket contact WebRTC: it answers as a browser would.
  expect(invite.body).toContain('UDP/TLS/RTP/SAVPF');
  const peer = await WebRtcPeer.create(['opus', 'PCMU']);
  peers.push(peer);
  await agent.answerCall(invite, '1002', await peer.answer(invite.body));
  const ok = await answered;
  expect(ok.status).toBe(200);
  caller.send(caller.ack(ok, /<([^>]+)>/.exec(ok.header('Contact') ?? '')?.[1] ?? '', 2));
  let id: string | undefined;
  await waitUntil('the call in /v1/calls', async () => {
    const calls = (await server.httpGet('/v1/calls')).json as {
      calls: Array<{ id: string; state: string }>;
    };
    id = calls.calls.find((c) => c.state === 'answered')?.id;
    return id !== undefined;
  });
  return id as string;
}

async function register(page: Page, extension: string, password: string): Promise<void> {
  await page.goto(`http://127.0.0.1:${server.httpPort}/phone?extension=${extension}`);
  await page.fill('#password', password);
  await page.click('#register');
}

describe('the phone page', () => {
  it('is served at /phone with its bundled script', async () => {
    const html = await server.httpGet('/phone', { token: null });
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.body).toContain('<output id="status"');
    const js = await server.httpGet('/phone/phone.js', { token: null });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.body.length).toBeGreaterThan(10_000); // SIP.js is in the bundle
  });

  it('registers over WebSocket with digest, shows it, and a closed tab removes the binding', async () => {
    await withBrowser({ toneHz: 1000 }, async (browser) => {
      const page = await browser.context.newPage();
      await register(page, '1002', 'pw1002');
      await page.waitForSelector('#status[data-registration="registered"]', { timeout: 10000 });
      const contacts = await contactsOf('1002');
      expect(contacts).toEqual([
        expect.objectContaining({
          uri: expect.stringMatching(/^sip:[^@]+@[a-z0-9]+\.invalid;transport=ws$/),
          source: expect.stringMatching(/^ws:127\.0\.0\.1:\d+$/),
        }),
      ]);
      await page.close();
      await waitUntil('the binding to go', async () => (await contactsOf('1002')).length === 0);
    });
  }, 60000);

  it('auto-answers the INVITE the server rings a supervisor with (Call-Info answer-after=0)', async () => {
    // An answered call: 1001 (a raw WebSocket client) calls agent 1002 (another one).
    const agent = await WsSipClient.connect(server.httpPort);
    const caller = await WsSipClient.connect(server.httpPort);
    try {
      expect((await agent.register('1002', 'pw1002')).final.status).toBe(200);
      const callId = await callThrough(caller, agent);
      await withBrowser({ toneHz: 1800 }, async (browser) => {
        const page = await browser.context.newPage();
        await register(page, '1005', 'pw1005');
        await page.waitForSelector('#status[data-registration="registered"]', { timeout: 10000 });
        // The API rings 1005's phone, the page, to listen to the call.
        const started = apiRequest(server.httpPort, 'POST', `/v1/calls/${callId}/monitors`, {
          body: { supervisor: '1005', mode: 'listen' },
          timeoutMs: 20000,
        });
        await page.waitForFunction(
          () =>
            (
              globalThis as unknown as {
                callwatchPhone?: { history: Array<{ autoAnswered?: boolean }> };
              }
            ).callwatchPhone?.history.some((s) => s.autoAnswered === true) === true,
          undefined,
          { timeout: 10000 },
        );
        const history = (await page.evaluate(
          () =>
            (globalThis as unknown as { callwatchPhone: { history: unknown[] } }).callwatchPhone
              .history,
        )) as Array<{ call: string; detail: string; remote?: string }>;
        expect(history).toContainEqual(
          expect.objectContaining({
            call: 'ringing',
            detail: expect.stringMatching(/auto-answer/),
          }),
        );
        // Whether the answer's media works is the WebRTC side's; here the API just ends.
        await started;
      });
    } finally {
      await caller.close();
      await agent.close();
    }
  }, 90000);

  it('a wrong password shows the refusal and registers nothing', async () => {
    await withBrowser({}, async (browser) => {
      const page = await browser.context.newPage();
      await register(page, '1002', 'wrong-password');
      await page.waitForSelector('#status[data-registration="failed"]', { timeout: 10000 });
      expect(await page.textContent('#status')).toMatch(/registration refused: 40[13]/);
      expect(await contactsOf('1002')).toEqual([]);
    });
  }, 60000);
});
