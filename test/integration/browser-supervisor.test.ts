/**
 * A supervisor in the browser: the phone page in Debian's Chromium, registered as 1005
 * with an 1800 Hz fake microphone, monitors a call between two baresip phones (customer
 * 1002 at 440 Hz calls agent 1001 at 1000 Hz). The page runs with `?processing=off`: the
 * browser's noise suppression and gain control take a steady tone for noise and bring it
 * down by about 15 dB. It dials *90 + 1001 from the page and
 * steers with DTMF sent by the browser (RFC 4733 over its WebRTC leg): 5 whisper, 6
 * barge, 7 takeover. Every route is checked by tone on what each party received: the
 * page through a WebAudio analyser on its remote track, the desk phones from their
 * decoded-audio recordings, cut into the phases by time. And the other way round: a
 * desk-phone supervisor monitors a call whose agent is the page, called by a raw desk
 * phone on a trunk (test/helpers/rawDesk.ts) whose packets are cut into the phases by
 * their arrival. Each test has its own server: a killed phone's binding must not ring
 * beside the next test's page.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { measureTone, withBrowser } from '../helpers/browser.js';
import { type PcmAudio } from '../helpers/goertzel.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  dialAndAnswer,
  expectTones,
  heardAudio,
  PhonePool,
  SETTLE_MS,
  sleep,
  startPhoneServer,
  SUPERVISOR_HZ,
  toneWindow,
  waitFor,
} from '../helpers/phoneScene.js';
import { allocatePort } from '../helpers/ports.js';
import { RawDesk } from '../helpers/rawDesk.js';
import { type ServerHandle } from '../helpers/server.js';

const EXTENSIONS = [
  { number: '1001', password: 'pw1001', role: 'agent' as const },
  { number: '1002', password: 'pw1002', role: 'agent' as const },
  { number: '1005', password: 'pw1005', role: 'supervisor' as const },
];
/** Each phase lasts this long: settle, then the page measures two tones of 1 s each. */
const PHASE_MS = 3600;
const MEASURE_MS = 1000;
/** A tone the page hears has at least this share of the energy (two tones: about half each). */
const PRESENT = 0.2;
/** A tone the page must not hear stays under this share. */
const ABSENT = 0.05;

let server: ServerHandle;
const phones = new PhonePool(() => server);
const desks: RawDesk[] = [];
/** A trunk whose DID rings the agent 1001 (the raw desk phone of the second test). */
const CUSTOMER_DID = '5550101';
let customerTrunkPort = 0;

// A server per test: the phones of a test are killed (no un-REGISTER), so their bindings
// would outlive it on a shared server, and a later test's extension would ring a dead
// desk phone beside the page (a call to 1001 then forks to both, and the page's fork is
// offered plain RTP: not every contact is a browser).
beforeEach(async () => {
  customerTrunkPort = await allocatePort();
  server = await startPhoneServer(
    {
      trunks: [
        {
          name: 'customers',
          host: '127.0.0.1',
          port: customerTrunkPort,
          sourcePort: customerTrunkPort,
          dids: { [CUSTOMER_DID]: '1001' },
        },
      ],
    },
    EXTENSIONS,
  );
}, 30000);

afterEach(async () => {
  await phones.killAll();
  await Promise.all(desks.splice(0).map((d) => d.close()));
  await server?.stop();
});

/** The contacts `extension` is registered with on the server. */
async function bindingsOf(extension: string): Promise<number> {
  const regs = await server.registrations();
  return regs.find((r) => r.extension === extension)?.contacts.length ?? 0;
}

type PageGlobals = { callwatchPhone: { engine: { sendDtmf(digit: string): Promise<void> } } };

async function sendDtmf(page: Page, digit: string): Promise<void> {
  await page.evaluate(
    (d) => (globalThis as unknown as PageGlobals).callwatchPhone.engine.sendDtmf(d),
    digit,
  );
}

/** Each measurement's level and block count, for a failed verdict's message. */
const measured = new WeakMap<Record<number, number>, string>();

/** What the page heard of each tone in `hz`, measured one after the other. */
async function pageShares(page: Page, hz: readonly number[]): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  const detail: string[] = [];
  for (const f of hz) {
    const m = await measureTone(page, f, MEASURE_MS);
    out[f] = m.share;
    detail.push(`${f} Hz share ${m.share.toFixed(3)}, rms ${m.rms.toFixed(4)}, ${m.blocks} blocks`);
  }
  measured.set(out, detail.join('; '));
  return out;
}

/** The page's verdict in one phase: every tone of `present` heard, none of `absent`. */
function expectPage(
  label: string,
  shares: Record<number, number>,
  present: readonly number[],
  absent: readonly number[],
): void {
  // The label carries what was measured, so a failure says how the page heard it.
  const said = `${label}: ${measured.get(shares) ?? ''}`;
  expect({
    label: said,
    shares,
    missing: present.filter((f) => !((shares[f] ?? 0) > PRESENT)),
    unwanted: absent.filter((f) => !((shares[f] ?? 1) < ABSENT)),
  }).toMatchObject({ label: said, missing: [], unwanted: [] });
}

describe('a supervisor in the browser', () => {
  it('listens, whispers, barges and takes over by the page’s DTMF; every route by tone', async () => {
    await withBrowser({ toneHz: SUPERVISOR_HZ }, async (browser) => {
      const page = await browser.context.newPage();
      await page.goto(`http://127.0.0.1:${server.httpPort}/phone?extension=1005&processing=off`);
      await page.fill('#password', 'pw1005');
      await page.click('#register');
      await page.waitForSelector('#status[data-registration="registered"]', { timeout: 10000 });

      const agent = await phones.phone('1001', AGENT_HZ);
      const customer = await phones.phone('1002', CUSTOMER_HZ);
      await dialAndAnswer(server, customer, agent, '1001');
      const callAt = Date.now();
      await sleep(1000);

      await page.fill('#number', '*901001');
      await page.click('#call');
      await page.waitForSelector('#status[data-call="answered"]', { timeout: 10000 });
      const C = CUSTOMER_HZ;
      const A = AGENT_HZ;
      const S = SUPERVISOR_HZ;

      /** One phase: settle, measure the page, fill the phase; returns its start. */
      const phase = async (tones: number[]): Promise<[number, Record<number, number>]> => {
        const at = Date.now();
        await sleep(SETTLE_MS);
        const shares = await pageShares(page, tones);
        await sleep(Math.max(0, at + PHASE_MS - Date.now()));
        return [at, shares];
      };

      const [listenAt, listen] = await phase([C, A, S]);
      await sendDtmf(page, '5');
      const [whisperAt, whisper] = await phase([C, A]);
      await sendDtmf(page, '6');
      const [bargeAt, barge] = await phase([C, A]);
      await sendDtmf(page, '7');
      // The agent's phone is released with a BYE; the customer now talks to the page.
      await agent.waitForEvent('CALL_CLOSED', 10000);
      const [takeoverAt, takeover] = await phase([C, A]);
      const endAt = Date.now();

      // The supervisor heard both parties until the takeover (its own voice never comes
      // back), then only the customer.
      expectPage('page, listen', listen, [C, A], [S]);
      expectPage('page, whisper', whisper, [C, A], []);
      expectPage('page, barge', barge, [C, A], []);
      expectPage('page, takeover', takeover, [C], [A]);

      await page.click('#hangup');
      await customer.waitForEvent('CALL_CLOSED', 10000);
      const customerHeard = heardAudio(customer);
      const agentHeard = heardAudio(agent);
      const c = (from: number, to: number) => toneWindow(customerHeard, callAt, from, to);
      const a = (from: number, to: number) => toneWindow(agentHeard, callAt, from, to);
      const phases: Array<[string, PcmAudio, number[], number[]]> = [
        ['agent, listen', a(listenAt + SETTLE_MS, whisperAt), [C], [S]],
        ['customer, listen', c(listenAt + SETTLE_MS, whisperAt), [A], [S]],
        ['agent, whisper', a(whisperAt + SETTLE_MS, bargeAt), [C, S], []],
        ['customer, whisper', c(whisperAt + SETTLE_MS, bargeAt), [A], [S]],
        ['agent, barge', a(bargeAt + SETTLE_MS, takeoverAt), [C, S], []],
        ['customer, barge', c(bargeAt + SETTLE_MS, takeoverAt), [A, S], []],
        ['customer, takeover', c(takeoverAt + SETTLE_MS, endAt), [S], [A]],
      ];
      for (const [label, audio, present, absent] of phases) {
        expectTones(label, audio, present, absent);
      }
      expect(
        await waitFor(async () => {
          const r = await server.httpGet('/v1/calls');
          return (r.json as { calls: unknown[] }).calls.length === 0;
        }),
      ).toBe(true);
    });
  }, 120000);

  it('a desk-phone supervisor monitors a browser agent: listen, whisper, barge by tone', async () => {
    await withBrowser({ toneHz: AGENT_HZ }, async (browser) => {
      // The agent is the page (1001, 1000 Hz), unprocessed as above; the supervisor is a
      // baresip desk phone. The customer is the raw desk phone on a trunk (its DID rings
      // 1001): the customer hears the page through the mixer (Opus to PCMU), and what it
      // heard is cut into phases by each packet's arrival time. baresip's recording has
      // no time of its own: a frame the mixer skips on a starved core is missing from it,
      // and every later phase would be read early by that much.
      const page = await browser.context.newPage();
      await page.goto(`http://127.0.0.1:${server.httpPort}/phone?extension=1001&processing=off`);
      await page.fill('#password', 'pw1001');
      await page.click('#register');
      await page.waitForSelector('#status[data-registration="registered"]', { timeout: 10000 });
      const supervisor = await phones.phone('1005', SUPERVISOR_HZ);
      const customer = await RawDesk.open(customerTrunkPort, server.sipPort);
      desks.push(customer);
      // The page is the agent's only phone: the call goes to it alone, as WebRTC.
      expect(await bindingsOf('1001')).toBe(1);
      const dialing = customer.dial(CUSTOMER_DID, CUSTOMER_HZ);
      await page.waitForSelector('#status[data-call="ringing"]', { timeout: 10000 });
      await page.click('#answer');
      await dialing;
      await sleep(1000);

      expect((await supervisor.command('dial', `sip:*901001@127.0.0.1:${server.sipPort}`)).ok).toBe(
        true,
      );
      await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
      const C = CUSTOMER_HZ;
      const A = AGENT_HZ;
      const S = SUPERVISOR_HZ;
      /** One phase: settle, measure what the agent's page hears, fill the phase. */
      const phase = async (): Promise<[number, Record<number, number>]> => {
        const at = performance.now();
        await sleep(SETTLE_MS);
        const shares = await pageShares(page, [C, S]);
        await sleep(Math.max(0, at + PHASE_MS - performance.now()));
        return [at, shares];
      };
      const [listenAt, listen] = await phase();
      const listenWall = Date.now();
      expect((await supervisor.command('sndcode', '5')).ok).toBe(true);
      const [whisperAt, whisper] = await phase();
      expect((await supervisor.command('sndcode', '6')).ok).toBe(true);
      const [bargeAt, barge] = await phase();
      const endAt = performance.now();

      expectPage('agent page, listen', listen, [C], [S]);
      expectPage('agent page, whisper', whisper, [C, S], []);
      expectPage('agent page, barge', barge, [C, S], []);

      await supervisor.command('hangup');
      await supervisor.waitForEvent('CALL_CLOSED', 10000);
      await customer.hangUp();
      await page.waitForSelector('#status[data-call="ended"], #status[data-call="none"]', {
        timeout: 10000,
      });
      const c = (from: number, to: number) => customer.heard(from, to);
      // The supervisor's recording starts when it joined; its one window is the first.
      const wallOf = (perf: number) => listenWall + (perf - listenAt);
      const s = (from: number, to: number) =>
        toneWindow(heardAudio(supervisor), listenWall, wallOf(from), wallOf(to));
      const phases: Array<[string, PcmAudio, number[], number[]]> = [
        ['supervisor, listen', s(listenAt + SETTLE_MS, whisperAt), [C, A], [S]],
        ['customer, listen', c(listenAt + SETTLE_MS, whisperAt), [A], [S]],
        ['customer, whisper', c(whisperAt + SETTLE_MS, bargeAt), [A], [S]],
        ['customer, barge', c(bargeAt + SETTLE_MS, endAt), [A, S], []],
      ];
      for (const [label, audio, present, absent] of phases) {
        expectTones(label, audio, present, absent);
      }
    });
  }, 120000);
});
