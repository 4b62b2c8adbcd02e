/**
 * The Call Monitor web app end to end: the real server, real baresip phones as customer
 * (1002, 440 Hz) and agent (1001, 1000 Hz), the app in Debian's Chromium. The supervisor
 * (1005) signs in and sees the call within 1 s of its answer with its columns; a filter
 * hides and shows it; the agent's Raise hand puts the orange hand on the supervisor's
 * screen within 1 s; a dropped event stream resumes with ?since= and misses no call; an
 * agent cannot open the Call Monitor; a wrong password is refused in words; the admin
 * sees the extensions; a call of an agent who opted out is shown with Join disabled and
 * the reason in words. Screenshots of each screen go to test/out/web-screens/.
 *
 * The agent's page runs on http://localhost:PORT and the supervisor's on
 * http://127.0.0.1:PORT: one browser, two origins, so two cookie jars (two sign-ins).
 */
import { describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { withBrowser } from '../../helpers/browser.js';
import { AGENT_HZ, CUSTOMER_HZ, dialAndAnswer, sleep } from '../../helpers/phoneScene.js';
import { useWebScene } from '../../helpers/webScene.js';
import { consoleErrors, screenshot, signIn } from './helpers.js';

const EXTENSIONS = [
  { number: '1001', password: 'pw1001', displayName: 'Alice', role: 'agent' as const },
  { number: '1002', password: 'pw1002', displayName: 'Bob', role: 'agent' as const },
  { number: '1003', password: 'pw1003', displayName: 'Carol', role: 'agent' as const },
  // Opted out of being monitored (in the supervisor's group all the same).
  {
    number: '1004',
    password: 'pw1004',
    displayName: 'Dan',
    role: 'agent' as const,
    allowMonitoring: false,
  },
  { number: '1005', password: 'pw1005', displayName: 'Sam', role: 'supervisor' as const },
  { number: '1009', password: 'pw1009', displayName: 'Ada', role: 'admin' as const },
];

const scene = useWebScene({ monitoring: { enabled: true } }, EXTENSIONS);
const { phones, supervisorBase, agentBase } = scene;

/** The rows of the live calls. */
const rowOf = (page: Page) => page.locator('tr[data-call-id]');

describe('the Call Monitor web app', () => {
  it('refuses a wrong password in words, and lets an agent not open the Call Monitor', async () => {
    await withBrowser({}, async (browser) => {
      const page = await browser.context.newPage();
      const errors = consoleErrors(page);
      await page.goto(`${supervisorBase()}/monitor`);
      // Not signed in: the sign-in screen, at its own path.
      await page.getByRole('heading', { name: 'Sign in to callwatch' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/signin');
      await screenshot(page, 'signin', true);
      await page.getByLabel('Extension').fill('1005');
      await page.getByLabel('Password').fill('not-the-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toBe(
        'Wrong extension or password.',
      );
      await screenshot(page, 'signin-refused');

      await signIn(page, supervisorBase(), '1001', 'pw1001');
      expect(new URL(page.url()).pathname).toBe('/agent');
      await page.goto(`${supervisorBase()}/monitor`);
      await expect(page.getByTestId('screen-refused').textContent()).resolves.toContain(
        'The Call Monitor is for supervisors and admins.',
      );
      // Only "My call" is offered to an agent.
      await expect(page.getByRole('navigation').textContent()).resolves.toBe('My call');
      await screenshot(page, 'agent-refused-monitor');
      expect(errors).toEqual([]);
    });
  }, 60000);

  it('shows the call within 1 s of its answer, filters it, and shows a raised hand within 1 s', async () => {
    await withBrowser({}, async (browser) => {
      const sup = await browser.context.newPage();
      const supErrors = consoleErrors(sup);
      await signIn(sup, supervisorBase(), '1005', 'pw1005');
      expect(new URL(sup.url()).pathname).toBe('/monitor');
      await sup.locator('[data-testid="stream"][data-connected="true"]').waitFor();

      const agentPhone = await phones.phone('1001', AGENT_HZ);
      const customerPhone = await phones.phone('1002', CUSTOMER_HZ);
      await dialAndAnswer(scene.server, customerPhone, agentPhone, '1001');
      const answeredAt = Date.now();
      await rowOf(sup).waitFor({ timeout: 5000 });
      const seenAfterMs = Date.now() - answeredAt;
      expect(seenAfterMs).toBeLessThan(1000);

      // The columns: customer number, agent with name, direction, group, nobody monitoring.
      const cells = await rowOf(sup).locator('td').allTextContents();
      expect(cells.slice(2, 8)).toEqual(['1002 Bob', 'Alice (1001)', 'Internal', '', 'test', '—']);
      // The duration ticks: it shows another second within a few (the page's 1 s timer,
      // which a loaded machine or a page in the background may run late).
      const d1 = await sup.getByTestId('duration').textContent();
      expect(d1).toMatch(/^\d+:\d\d$/);
      const tickedBy = Date.now() + 5000;
      let d2 = d1;
      while (d2 === d1 && Date.now() < tickedBy) {
        await sleep(200);
        d2 = await sup.getByTestId('duration').textContent();
      }
      expect(d2).toMatch(/^\d+:\d\d$/);
      expect(d2).not.toBe(d1);
      await screenshot(sup, 'call-monitor', true);

      // A filter hides it and shows it again.
      await sup.getByLabel('Direction').selectOption('outbound');
      await expect(rowOf(sup).count()).resolves.toBe(0);
      await expect(sup.getByText('No call matches the filters.').count()).resolves.toBe(1);
      await sup.getByLabel('Direction').selectOption('internal');
      await expect(rowOf(sup).count()).resolves.toBe(1);
      await sup.getByLabel('Min. duration (s)').fill('3600');
      await expect(rowOf(sup).count()).resolves.toBe(0);
      await sup.getByRole('button', { name: 'Clear filters' }).click();
      await expect(rowOf(sup).count()).resolves.toBe(1);

      // The call details.
      await sup.getByRole('button', { name: 'Details' }).click();
      await expect(sup.getByTestId('details-monitors').textContent()).resolves.toBe('Nobody');
      expect(new URL(sup.url()).pathname).toMatch(/^\/monitor\/calls\//);
      await screenshot(sup, 'call-details');
      await sup.keyboard.press('Escape');
      await expect(sup.getByTestId('details').count()).resolves.toBe(0);

      // The agent raises a hand from its page: the supervisor sees it within 1 s.
      const agent = await browser.context.newPage();
      const agentErrors = consoleErrors(agent);
      await signIn(agent, agentBase(), '1001', 'pw1001');
      await agent.getByRole('heading', { name: /Bob \(1002\)/ }).waitFor();
      await screenshot(agent, 'agent-call', true);
      const raisedAt = Date.now();
      await agent.getByRole('button', { name: 'Raise hand' }).click();
      await sup.locator('tr[data-hand="raised"]').waitFor({ timeout: 5000 });
      expect(Date.now() - raisedAt).toBeLessThan(1000);
      await expect(
        sup.getByRole('img', { name: 'Hand raised: the agent asks for help' }).count(),
      ).resolves.toBe(1);
      await agent.getByTestId('hand-banner').waitFor();
      await screenshot(sup, 'call-monitor-hand');
      await sup.getByLabel('Raised hands only').check();
      await expect(rowOf(sup).count()).resolves.toBe(1);
      // Lowered: the "raised hands only" filter hides it; without the filter it is back, hand down.
      await agent.getByRole('button', { name: 'Lower hand' }).click();
      await rowOf(sup).waitFor({ state: 'detached', timeout: 5000 });
      await sup.getByLabel('Raised hands only').uncheck();
      await sup.locator('tr[data-hand="down"]').waitFor({ timeout: 5000 });

      // The call ends: its row goes.
      expect((await customerPhone.command('hangup')).ok).toBe(true);
      await rowOf(sup).waitFor({ state: 'detached', timeout: 5000 });
      // The agent's page has its own event stream: it may learn of the end a moment after the
      // supervisor's, so it gets the same 5 s to say so.
      await agent.getByText('You are not in a call.').waitFor({ timeout: 5000 });
      await expect(agent.getByText('You are not in a call.').count()).resolves.toBe(1);
      expect(supErrors).toEqual([]);
      expect(agentErrors).toEqual([]);
    });
  }, 90000);

  it('shows the call of an agent who opted out, with Join disabled and the reason in words', async () => {
    await withBrowser({}, async (browser) => {
      const sup = await browser.context.newPage();
      const errors = consoleErrors(sup);
      await signIn(sup, supervisorBase(), '1005', 'pw1005');
      await sup.locator('[data-testid="stream"][data-connected="true"]').waitFor();
      const agentPhone = await phones.phone('1004', AGENT_HZ);
      const customerPhone = await phones.phone('1002', CUSTOMER_HZ);
      await dialAndAnswer(scene.server, customerPhone, agentPhone, '1004');
      await rowOf(sup).waitFor({ timeout: 5000 });
      await expect(rowOf(sup).locator('td').nth(3).textContent()).resolves.toBe('Dan (1004)');
      const join = rowOf(sup).getByRole('button', { name: 'Join' });
      await expect(join.isDisabled()).resolves.toBe(true);
      await expect(rowOf(sup).getByTestId('join-reason').textContent()).resolves.toBe(
        'This agent has opted out of being monitored.',
      );
      // The reason is the button's description, for a screen reader too.
      const reasonId = await join.getAttribute('aria-describedby');
      await expect(sup.locator(`[id="${reasonId}"]`).textContent()).resolves.toMatch(/opted out/);
      await screenshot(sup, 'call-monitor-opted-out');
      expect((await customerPhone.command('hangup')).ok).toBe(true);
      await rowOf(sup).waitFor({ state: 'detached', timeout: 5000 });
      expect(errors).toEqual([]);
    });
  }, 60000);

  it('resumes a dropped event stream with ?since= and misses no call', async () => {
    await withBrowser({}, async (browser) => {
      const sup = await browser.context.newPage();
      const errors = consoleErrors(sup);
      await signIn(sup, supervisorBase(), '1005', 'pw1005');
      await sup.locator('[data-testid="stream"][data-connected="true"]').waitFor();
      const sockets: string[] = [];
      sup.on('websocket', (ws) => sockets.push(ws.url()));

      const agentPhone = await phones.phone('1001', AGENT_HZ);
      const customerPhone = await phones.phone('1002', CUSTOMER_HZ);
      await dialAndAnswer(scene.server, customerPhone, agentPhone, '1001');
      await rowOf(sup).waitFor({ timeout: 5000 });

      // The stream drops (the socket closes under the page) and stays down while the call
      // ends and another one starts.
      type Globals = { callwatchEvents: { stop(): void; start(): void; lastSeq: number } };
      const lastSeq = await sup.evaluate(() => {
        const g = globalThis as unknown as Globals;
        g.callwatchEvents.stop();
        return g.callwatchEvents.lastSeq;
      });
      expect(lastSeq).toBeGreaterThan(0);
      await sup.locator('[data-testid="stream"][data-connected="false"]').waitFor();
      expect((await customerPhone.command('hangup')).ok).toBe(true);
      await agentPhone.waitForEvent('CALL_CLOSED', 10000);
      const third = await phones.phone('1003', CUSTOMER_HZ);
      await dialAndAnswer(scene.server, third, agentPhone, '1001');
      await sleep(500);
      // Still the old call on screen: the page heard nothing.
      await expect(rowOf(sup).locator('td').nth(2).textContent()).resolves.toBe('1002 Bob');

      await sup.evaluate(() => (globalThis as unknown as Globals).callwatchEvents.start());
      await sup.locator('[data-testid="stream"][data-connected="true"]').waitFor();
      expect(sockets.at(-1)).toMatch(new RegExp(`/v1/events\\?since=${lastSeq}$`));
      await sup.locator('tr[data-call-id] td:nth-child(3)', { hasText: '1003' }).waitFor({
        timeout: 3000,
      });
      await expect(rowOf(sup).count()).resolves.toBe(1);
      expect(errors).toEqual([]);
    });
  }, 90000);

  it('shows the admin the extensions with registration, the groups and the audit log', async () => {
    await withBrowser({}, async (browser) => {
      await phones.phone('1001', AGENT_HZ);
      const page = await browser.context.newPage();
      const errors = consoleErrors(page);
      await signIn(page, supervisorBase(), '1009', 'pw1009');
      await expect(page.getByRole('navigation').textContent()).resolves.toBe('Call MonitorAdmin');
      await page.getByRole('link', { name: 'Admin' }).click();
      await page.locator('[data-extension="1001"] [data-registered="true"]').waitFor();
      await expect(
        page.locator('[data-extension="1005"] [data-registered]').getAttribute('data-registered'),
      ).resolves.toBe('false');
      await expect(page.getByTestId('groups').textContent()).resolves.toContain('test');
      await screenshot(page, 'admin', true);
      // Keyboard: the sign-out button is reachable and works.
      await page.getByRole('button', { name: 'Sign out' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Sign in to callwatch' }).waitFor();
      expect(errors).toEqual([]);
    });
  }, 60000);
});
