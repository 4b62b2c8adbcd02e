/**
 * A browser is a phone: the phone page (/phone, SIP.js over /sip) in Debian's Chromium,
 * registered as 1002 with a 1000 Hz fake microphone, and a baresip desk phone 1003
 * playing 440 Hz. The desk phone calls the browser, and the browser calls the desk phone:
 * in each call the browser's leg is WebRTC (ICE-lite, DTLS-SRTP) and the desk phone's
 * plain RTP in PCMU. With the server's default codecs the browser's leg is Opus (the
 * server transcodes to PCMU); with the server limited to PCMU it is PCMU (relayed) — read
 * from the page's own RTCPeerConnection statistics. A tab closed mid-call ends the call
 * with a BYE to the desk phone and leaves no port, DTLS or SRTP session behind.
 * What each side heard is measured on what it actually received: the page through a
 * WebAudio analyser on the remote track, baresip from its decoded-audio recording.
 * Afterwards no call is live and the call's media ports are free.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { measureTone, withBrowser } from '../helpers/browser.js';
import { analyzeTone, describeTone, hasTone, lacksTone } from '../helpers/goertzel.js';
import {
  expectTones,
  heardAudio,
  PhonePool,
  rtpPortRange,
  sleep,
  startPhoneServer,
  waitFor,
} from '../helpers/phoneScene.js';
import { allocatePort, boundUdpPorts } from '../helpers/ports.js';
import { RawDesk } from '../helpers/rawDesk.js';
import { type ServerHandle } from '../helpers/server.js';

const BROWSER_HZ = 1000;
const DESK_HZ = 440;
const EXTENSIONS = [
  { number: '1002', password: 'pw1002' },
  { number: '1003', password: 'pw1003' },
];

let server: ServerHandle;
const phones = new PhonePool(() => server);
/** A trunk whose DID rings the browser: the raw desk phone of the hold test calls it. */
const DESK_DID = '5550102';
let deskTrunkPort = 0;

afterEach(async () => {
  await phones.killAll();
});

type PageSession = {
  callwatchPhone: {
    engine: {
      session?: { sessionDescriptionHandler?: { peerConnection?: PeerStats } };
    };
  };
};
type PeerStats = { getStats(): Promise<Map<string, Record<string, unknown>>> };

/** The codec (mimeType) of what the page's peer connection receives and sends. */
async function pageCodecs(page: Page): Promise<{ inbound?: string; outbound?: string }> {
  return page.evaluate(async () => {
    const g = globalThis as unknown as PageSession;
    const pc = g.callwatchPhone.engine.session?.sessionDescriptionHandler?.peerConnection;
    if (!pc) return {};
    const stats = await pc.getStats();
    const out: { inbound?: string; outbound?: string } = {};
    stats.forEach((r) => {
      const dir =
        r.type === 'inbound-rtp' ? 'inbound' : r.type === 'outbound-rtp' ? 'outbound' : null;
      if (dir === null || r.kind !== 'audio') return;
      const codec = stats.get(String(r.codecId));
      if (codec) out[dir] = String(codec.mimeType);
    });
    return out;
  });
}

async function liveCalls(): Promise<unknown[]> {
  const r = await server.httpGet('/v1/calls');
  expect(r.status).toBe(200);
  return (r.json as { calls: unknown[] }).calls;
}

async function registerPage(page: Page): Promise<void> {
  await page.goto(`http://127.0.0.1:${server.httpPort}/phone?extension=1002`);
  await page.fill('#password', 'pw1002');
  await page.click('#register');
  await page.waitForSelector('#status[data-registration="registered"]', { timeout: 10000 });
}

/** The page's share of `hz` in what it hears, and of its own tone (which it must not hear). */
async function pageHears(page: Page): Promise<{ other: number; own: number }> {
  const other = await measureTone(page, DESK_HZ, 1500);
  const own = await measureTone(page, BROWSER_HZ, 1500);
  return { other: other.share, own: own.share };
}

function expectDeskHeardBrowser(): void {
  const desk = phones.all[0]!;
  const heard = heardAudio(desk);
  expect({
    heard: describeTone(analyzeTone(heard, BROWSER_HZ)),
    ok: hasTone(heard, BROWSER_HZ),
  }).toMatchObject({ ok: true });
  expect(lacksTone(heard, DESK_HZ)).toBe(true);
}

async function expectCallGone(): Promise<void> {
  expect(await waitFor(async () => (await liveCalls()).length === 0, 5000)).toBe(true);
  const { min, max } = rtpPortRange(server);
  expect(await waitFor(async () => boundUdpPorts(min, max).length === 0, 5000)).toBe(true);
}

for (const scene of [
  { codecs: null, browser: 'audio/opus' },
  { codecs: ['PCMU'], browser: 'audio/PCMU' },
] as const) {
  describe(`a browser phone and a desk phone, server codecs ${scene.codecs?.join(',') ?? 'default'}`, () => {
    beforeAll(async () => {
      deskTrunkPort = await allocatePort();
      const trunks = [
        {
          name: 'desk',
          host: '127.0.0.1',
          port: deskTrunkPort,
          sourcePort: deskTrunkPort,
          dids: { [DESK_DID]: '1002' },
        },
      ];
      server = await startPhoneServer(
        scene.codecs === null ? { trunks } : { trunks, calls: { codecs: [...scene.codecs] } },
        EXTENSIONS,
        40,
      );
    }, 30000);

    afterAll(async () => {
      await server?.stop();
    });

    it(`the desk phone calls the browser: each hears the other, the browser in ${scene.browser}`, async () => {
      await withBrowser({ toneHz: BROWSER_HZ }, async (browser) => {
        const page = await browser.context.newPage();
        await registerPage(page);
        const desk = await phones.phone('1003', DESK_HZ);
        expect((await desk.command('dial', `sip:1002@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
        await page.waitForSelector('#status[data-call="ringing"]', { timeout: 10000 });
        await page.click('#answer');
        await page.waitForSelector('#status[data-call="answered"]', { timeout: 10000 });
        await desk.waitForEvent('CALL_ESTABLISHED', 10000);
        await sleep(1000); // ICE, DTLS and the jitter buffers settle
        const heard = await pageHears(page);
        expect({ ...heard, ok: heard.other > 0.5 && heard.own < 0.1 }).toMatchObject({ ok: true });
        expect(await pageCodecs(page)).toEqual({ inbound: scene.browser, outbound: scene.browser });
        await page.click('#hangup');
        await desk.waitForEvent('CALL_CLOSED', 10000);
        expectDeskHeardBrowser();
        await expectCallGone();
      });
    }, 90000);

    // Calling out is shown once, in the default scene (the codec is the first test's matter).
    if (scene.codecs !== null) return;
    it('the browser calls the desk phone: each hears the other, and the desk phone hangs up', async () => {
      await withBrowser({ toneHz: BROWSER_HZ }, async (browser) => {
        const page = await browser.context.newPage();
        await registerPage(page);
        const desk = await phones.phone('1003', DESK_HZ);
        await page.fill('#number', '1003');
        await page.click('#call');
        await desk.waitForEvent('CALL_ESTABLISHED', 10000); // the test phones answer by themselves
        await page.waitForSelector('#status[data-call="answered"]', { timeout: 10000 });
        await sleep(1000);
        const heard = await pageHears(page);
        expect({ ...heard, ok: heard.other > 0.5 && heard.own < 0.1 }).toMatchObject({
          ok: true,
        });
        expect((await desk.command('hangup')).ok).toBe(true);
        await page.waitForSelector('#status[data-call="ended"], #status[data-call="none"]', {
          timeout: 10000,
        });
        await desk.waitForEvent('CALL_CLOSED', 10000);
        expectDeskHeardBrowser();
        await expectCallGone();
      });
    }, 90000);

    it('hold and resume from either side (re-INVITEs across the WebRTC leg): after each resume each side hears the other', async () => {
      // The desk phone is the raw one (test/helpers/rawDesk.ts): baresip's own recording
      // of what it heard ends at the first hold, though its audio goes on.
      await withBrowser({ toneHz: BROWSER_HZ }, async (browser) => {
        const page = await browser.context.newPage();
        await registerPage(page);
        const desk = await RawDesk.open(deskTrunkPort, server.sipPort);
        try {
          const dialing = desk.dial(DESK_DID, DESK_HZ);
          await page.waitForSelector('#status[data-call="ringing"]', { timeout: 10000 });
          await page.click('#answer');
          await dialing;
          await page.waitForSelector('#status[data-call="answered"]', { timeout: 10000 });
          const now = () => performance.now();
          const deskHears = (label: string, from: number, to: number, hears: boolean) =>
            expectTones(
              label,
              desk.heard(from, to),
              hears ? [BROWSER_HZ] : [],
              hears ? [] : [BROWSER_HZ],
            );
          await sleep(2000);
          const t0 = now();
          await sleep(1500);
          const before = await pageHears(page);
          deskHears('desk, before any hold', t0, now(), true);

          // The browser holds: its offer is sendonly, the desk answers recvonly.
          const browserHold = now();
          const answering = desk.answerReinvite();
          await page.click('#hold');
          expect(await answering).toBe('recvonly');
          await page.waitForSelector('#status[data-call="held"]', { timeout: 10000 });
          await sleep(2500);
          deskHears('desk, browser holding', browserHold + 1000, now(), false);

          // The browser resumes: media flows both ways again over the same DTLS-SRTP.
          const resuming = desk.answerReinvite();
          await page.click('#resume');
          expect(await resuming).toBe('sendrecv');
          await page.waitForSelector('#status[data-call="answered"]', { timeout: 10000 });
          const browserResumed = now();
          await sleep(1000);
          const afterBrowserResume = await pageHears(page);
          deskHears('desk, after the browser resumed', browserResumed + 1000, now(), true);

          // The desk phone holds (sendonly: it stops sending), then resumes; the re-INVITE
          // is relayed as an offer to the browser, which answers.
          await desk.reinvite('sendonly');
          const deskHold = now();
          await sleep(2500);
          expect(desk.packetsBetween(deskHold + 500, now())).toBe(0);
          await desk.reinvite('sendrecv');
          const deskResumed = now();
          await sleep(1000);
          const afterDeskResume = await pageHears(page);
          deskHears('desk, after it resumed', deskResumed + 1000, now(), true);

          for (const [label, heard] of [
            ['page, before any hold', before],
            ['page, after the browser resumed', afterBrowserResume],
            ['page, after the desk resumed', afterDeskResume],
          ] as const) {
            expect({ label, ...heard, ok: heard.other > 0.5 && heard.own < 0.1 }).toMatchObject({
              label,
              ok: true,
            });
          }
          await desk.hangUp();
          await page.waitForSelector('#status[data-call="ended"], #status[data-call="none"]', {
            timeout: 10000,
          });
          await expectCallGone();
        } finally {
          await desk.close();
        }
      });
    }, 120000);

    it('a closed tab ends its call within seconds and frees its ports, DTLS and SRTP sessions', async () => {
      // The workers report their live WebRTC objects every few seconds (a gauge).
      const live = async () => (await server.metric('callwatch_webrtc_live_objects')) ?? 0;
      expect(await waitFor(async () => (await live()) === 0, 12000)).toBe(true);
      await withBrowser({ toneHz: BROWSER_HZ }, async (browser) => {
        const page = await browser.context.newPage();
        await registerPage(page);
        const desk = await phones.phone('1003', DESK_HZ);
        expect((await desk.command('dial', `sip:1002@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
        await page.waitForSelector('#status[data-call="ringing"]', { timeout: 10000 });
        await page.click('#answer');
        await desk.waitForEvent('CALL_ESTABLISHED', 10000);
        // Counted while the call runs (so the check below can fail): a secure pair, its
        // DTLS and SRTP sessions.
        expect(await waitFor(async () => (await live()) >= 3, 12000)).toBe(true);
        const closedAt = Date.now();
        await page.close();
        await desk.waitForEvent('CALL_CLOSED', 10000);
        expect(Date.now() - closedAt).toBeLessThan(5000);
        await expectCallGone();
        expect(await waitFor(async () => (await live()) === 0, 12000)).toBe(true);
        expect(await waitFor(async () => (await server.registrations()).length === 1, 5000)).toBe(
          true,
        ); // only the desk phone's binding is left
      });
    }, 90000);
  });
}
