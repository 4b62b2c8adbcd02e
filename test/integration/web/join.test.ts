/**
 * Join from the Call Monitor with the audio in this browser: the supervisor's page
 * (1005, an 1800 Hz fake microphone) registers its phone with a ticket and answers the
 * server's monitoring call by itself. A customer (baresip 1002, 440 Hz) calls an agent
 * (baresip 1001, 1000 Hz) whose own page is open. Checked on what each party received:
 * Listen only: the page hears 440 and 1000 Hz, no phone hears 1800 Hz; Talk to agent: the
 * agent hears 1800 Hz, the customer does not; Take over: the agent's phone gets a BYE;
 * Leave ends the supervisor's leg and, after a takeover, the call (the customer gets a
 * BYE; the call ends as supervisor-hangup, the monitor session says who). The agent's page names the supervisor and the mode, and
 * the raised hand goes down when the supervisor joins. Refusals are shown in words: a
 * call that is full, and a supervisor who is not available.
 *
 * The supervisor's page runs with ?processing=off: the browser's noise suppression and
 * gain control take a steady tone for noise (as on the phone page's tests).
 */
import { describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { measureTone, withBrowser } from '../../helpers/browser.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  dialAndAnswer,
  expectTones,
  heardAudio,
  SETTLE_MS,
  sleep,
  SUPERVISOR_HZ,
  toneWindow,
  waitFor,
} from '../../helpers/phoneScene.js';
import { apiRequest } from '../../helpers/api.js';
import { EventStreamClient } from '../../helpers/eventStream.js';
import { TEST_ADMIN_TOKEN } from '../../helpers/server.js';
import { useWebScene } from '../../helpers/webScene.js';
import { consoleErrors, screenshot, signIn } from './helpers.js';

const EXTENSIONS = [
  { number: '1001', password: 'pw1001', displayName: 'Alice', role: 'agent' as const },
  { number: '1002', password: 'pw1002', displayName: 'Bob', role: 'agent' as const },
  { number: '1005', password: 'pw1005', displayName: 'Sam', role: 'supervisor' as const },
  { number: '1006', password: 'pw1006', displayName: 'Sue', role: 'supervisor' as const },
];
const MEASURE_MS = 1000;
const PRESENT = 0.2;
const ABSENT = 0.05;

const scene = useWebScene({ monitoring: { enabled: true } }, EXTENSIONS);
const { phones, supervisorBase, agentBase } = scene;

/** What the supervisor's page hears of each tone, one after the other. */
async function pageShares(page: Page, hz: readonly number[]): Promise<Record<number, number>> {
  // measureTone reads the phone page's global; the app's browser phone has the same method.
  await page.evaluate(() => {
    const g = globalThis as unknown as {
      callwatchApp: { phone: unknown };
      callwatchPhone: { engine: unknown };
    };
    g.callwatchPhone = { engine: g.callwatchApp.phone };
  });
  const out: Record<number, number> = {};
  for (const f of hz) out[f] = (await measureTone(page, f, MEASURE_MS)).share;
  return out;
}

/** Opens Join on the only call and picks `mode` with the audio in this browser. */
async function join(page: Page, mode: string): Promise<void> {
  await page.locator('tr[data-call-id]').getByRole('button', { name: 'Join' }).click();
  await page.getByLabel('This browser').check();
  await page.getByRole('button', { name: mode }).click();
}

describe('Join from the Call Monitor', () => {
  it('listens, talks to the agent and takes over with the audio in this browser; Leave ends the leg', async () => {
    await withBrowser({ toneHz: SUPERVISOR_HZ }, async (browser) => {
      const sup = await browser.context.newPage();
      const supErrors = consoleErrors(sup);
      await signIn(sup, supervisorBase(), '1005', 'pw1005', '?processing=off');
      expect(new URL(sup.url()).search).toBe('?processing=off');

      const agentPhone = await phones.phone('1001', AGENT_HZ);
      const customerPhone = await phones.phone('1002', CUSTOMER_HZ);
      await dialAndAnswer(scene.server, customerPhone, agentPhone, '1001');
      const callAt = Date.now();
      const agent = await browser.context.newPage();
      const agentErrors = consoleErrors(agent);
      await signIn(agent, agentBase(), '1001', 'pw1001');
      await agent.getByRole('button', { name: 'Raise hand' }).click();
      await sup.locator('tr[data-hand="raised"]').waitFor({ timeout: 5000 });

      // Listen only: the mode in words, the agent told by name, the hand lowered.
      const listenAt = Date.now();
      await join(sup, 'Listen only');
      await sup
        .locator('[data-testid="joined"][data-mode="listen"][data-state="active"]')
        .waitFor({ timeout: 20000 });
      await expect(sup.getByTestId('joined').textContent()).resolves.toContain(
        'You are listening. Nobody hears you.',
      );
      await agent
        .locator('[data-testid="monitored-banner"][data-mode="listen"]')
        .waitFor({ timeout: 5000 });
      await expect(agent.getByTestId('monitored-banner').textContent()).resolves.toBe(
        'Sam is listening to this call.',
      );
      // Joining lowered the hand: on the server, and so on the page.
      const handOnPage = () => sup.locator('tr[data-call-id]').getAttribute('data-hand');
      const handOnServer = async () => {
        const r = await scene.server.httpGet('/v1/calls');
        return (r.json as { calls: Array<{ hand: { raised: boolean } }> }).calls[0]?.hand;
      };
      await waitFor(async () => (await handOnPage()) === 'down', 5000);
      expect({ page: await handOnPage(), server: await handOnServer() }).toEqual({
        page: 'down',
        server: expect.objectContaining({ raised: false }),
      });
      await sleep(SETTLE_MS);
      const listen = await pageShares(sup, [CUSTOMER_HZ, AGENT_HZ, SUPERVISOR_HZ]);
      await screenshot(sup, 'call-monitor-joined', true);
      await screenshot(agent, 'agent-monitored');

      // Talk to agent.
      const whisperAt = Date.now();
      await sup.getByTestId('joined').getByRole('button', { name: 'Talk to agent' }).click();
      await sup.locator('[data-testid="joined"][data-mode="whisper"]').waitFor({ timeout: 5000 });
      await agent
        .locator('[data-testid="monitored-banner"][data-mode="whisper"]')
        .waitFor({ timeout: 5000 });
      await sleep(SETTLE_MS + 2500);

      // Take over: the agent's phone is released with a BYE.
      const callId = await sup.locator('tr[data-call-id]').getAttribute('data-call-id');
      const takeoverAt = Date.now();
      await sup.getByTestId('joined').getByRole('button', { name: 'Take over' }).click();
      await agentPhone.waitForEvent('CALL_CLOSED', 10000);
      await sup.locator('[data-testid="joined"][data-mode="takeover"]').waitFor({ timeout: 5000 });

      // Leave: the supervisor's leg ends (and with it, after a takeover, the call).
      await sup.getByTestId('joined').getByRole('button', { name: 'Leave' }).click();
      await sup.getByTestId('joined').waitFor({ state: 'detached', timeout: 10000 });
      expect(
        await waitFor(async () => {
          const status = await sup.getByTestId('browser-phone').textContent();
          return status?.includes('ended') === true;
        }, 10000),
      ).toBe(true);
      // Nobody else is on the call: the customer gets a BYE, and the call's end says the
      // supervisor (1005, who left) ended it.
      await customerPhone.waitForEvent('CALL_CLOSED', 10000);
      const events = await EventStreamClient.connect(scene.server.httpPort, {
        token: TEST_ADMIN_TOKEN.token,
        since: 0,
      });
      try {
        // The session's end and the call's, in either order.
        const endOf = (type: string) =>
          events.received.find((e) => e.type === type && e.callId === callId);
        await waitFor(async () => !!endOf('monitor.ended') && !!endOf('call.ended'), 5000);
        const ends = events.received.filter(
          (e) => e.callId === callId && (e.type === 'monitor.ended' || e.type === 'call.ended'),
        );
        expect(ends).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              type: 'monitor.ended',
              supervisor: '1005',
              reason: 'stopped',
            }),
            expect.objectContaining({ type: 'call.ended', endReason: 'supervisor-hangup' }),
          ]),
        );
      } finally {
        await events.close();
      }

      // The page hears both parties, and never its own voice.
      expect({
        listen,
        missing: [CUSTOMER_HZ, AGENT_HZ].filter((f) => !((listen[f] ?? 0) > PRESENT)),
        unwanted: (listen[SUPERVISOR_HZ] ?? 1) < ABSENT ? [] : [SUPERVISOR_HZ],
      }).toMatchObject({ missing: [], unwanted: [] });
      const c = (from: number, to: number) =>
        toneWindow(heardAudio(customerPhone), callAt, from, to);
      const a = (from: number, to: number) => toneWindow(heardAudio(agentPhone), callAt, from, to);
      expectTones('agent, listen', a(listenAt + 4000, whisperAt), [CUSTOMER_HZ], [SUPERVISOR_HZ]);
      expectTones('customer, listen', c(listenAt + 4000, whisperAt), [AGENT_HZ], [SUPERVISOR_HZ]);
      expectTones(
        'agent, whisper',
        a(whisperAt + SETTLE_MS, takeoverAt),
        [CUSTOMER_HZ, SUPERVISOR_HZ],
        [],
      );
      expectTones(
        'customer, whisper',
        c(whisperAt + SETTLE_MS, takeoverAt),
        [AGENT_HZ],
        [SUPERVISOR_HZ],
      );
      expect({ supErrors, agentErrors }).toEqual({ supErrors: [], agentErrors: [] });
    });
  }, 150000);

  it('says in words why Join is refused: the call is full, the supervisor is away', async () => {
    await withBrowser({}, async (browser) => {
      const sup = await browser.context.newPage();
      const errors = consoleErrors(sup);
      await signIn(sup, supervisorBase(), '1005', 'pw1005');
      await sup.getByTestId('browser-phone').getByText('registered').waitFor({ timeout: 15000 });
      const agentPhone = await phones.phone('1001', AGENT_HZ);
      const customerPhone = await phones.phone('1002', CUSTOMER_HZ);
      const other = await phones.phone('1006', SUPERVISOR_HZ);
      await dialAndAnswer(scene.server, customerPhone, agentPhone, '1001');
      await sup.locator('tr[data-call-id]').waitFor({ timeout: 5000 });
      const joinButton = sup.getByRole('button', { name: 'Join' });
      await expect(joinButton.isDisabled()).resolves.toBe(false);

      // Another supervisor joins from the desk phone: three legs, the call is full.
      const callId = await sup.locator('tr[data-call-id]').getAttribute('data-call-id');
      const r = await apiRequest(scene.server.httpPort, 'POST', `/v1/calls/${callId}/monitors`, {
        body: { supervisor: '1006', mode: 'listen', device: 'phone' },
      });
      expect(r.status).toBe(201);
      await other.waitForEvent('CALL_ESTABLISHED', 10000);
      await sup.getByTestId('join-reason').waitFor({ timeout: 5000 });
      await expect(joinButton.isDisabled()).resolves.toBe(true);
      await expect(sup.getByTestId('join-reason').textContent()).resolves.toBe(
        'The call is full: it already has the most participants allowed.',
      );
      await expect(sup.getByTestId('monitors').textContent()).resolves.toBe(
        'Sue (1006): Listen only',
      );
      await screenshot(sup, 'call-monitor-refused');
      expect((await other.command('hangup')).ok).toBe(true);
      await sup.getByTestId('join-reason').waitFor({ state: 'detached', timeout: 5000 });

      // Away: Join says the supervisor is not available.
      await sup.getByLabel('My status').selectOption('away');
      await sup.locator('select[name="presence"][data-status="away"]').waitFor();
      await expect(sup.getByTestId('join-reason').textContent()).resolves.toBe(
        'You are not available. Set yourself to Available to join calls.',
      );
      await sup.getByLabel('My status').selectOption('available');
      await sup.getByTestId('join-reason').waitFor({ state: 'detached', timeout: 5000 });
      await expect(joinButton.isDisabled()).resolves.toBe(false);
      expect(errors).toEqual([]);
    });
  }, 90000);
});
