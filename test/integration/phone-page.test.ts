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

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer(
    {
      ...PEER_AUTH,
      media: { workers: 1, portRange: await allocateRtpRange() },
      // No overload shedding: a busy test machine must not turn the REGISTER into a 503.
      sip: { overload: { enabled: false } },
    },
    { extensions: [{ number: '1002', password: 'pw1002' }] },
  );
}, 30000);

afterAll(async () => {
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
