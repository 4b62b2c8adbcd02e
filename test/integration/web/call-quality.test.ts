/**
 * Call quality on the supervisor's screen, end to end: the real server, two calls from
 * raw desk phones on two trunks (test/helpers/rawDesk.ts, a 440 Hz PCMU tone each) to
 * real baresip agents (1001 and 1003), the Call Monitor in Debian's Chromium signed in as
 * the supervisor 1005. The customer of one call leaves out 5 % of its RTP (one packet
 * in every 20, at a random place drawn from a fixed seed: the same packets every run),
 * as a lossy path to the server would; the other call is clean. Within a few seconds of the answer the page shows the
 * lossy call as poor (its customer leg poor) and the clean one as good (both legs), and
 * keeps showing that. Checked on what the page shows, not on the API.
 *
 * The lossy call's agent leg is not asserted: the server relays the customer's packets
 * with their sequence numbers, so the agent's RTCP receiver reports count the same gaps
 * (RFC 3550 §7.1, a translator) and its leg may be rated poor too.
 */
import { describe, expect, it } from '@jest/globals';
import type { Locator, Page } from 'playwright-core';
import { withBrowser } from '../../helpers/browser.js';
import { AGENT_HZ, CUSTOMER_HZ, sleep } from '../../helpers/phoneScene.js';
import { allocatePort } from '../../helpers/ports.js';
import { RawDesk } from '../../helpers/rawDesk.js';
import { useWebScene } from '../../helpers/webScene.js';
import { consoleErrors, screenshot, signIn } from './helpers.js';

const EXTENSIONS = [
  { number: '1001', password: 'pw1001', displayName: 'Alice', role: 'agent' as const },
  { number: '1003', password: 'pw1003', displayName: 'Carol', role: 'agent' as const },
  { number: '1005', password: 'pw1005', displayName: 'Sam', role: 'supervisor' as const },
];
/** The lossy customer's DID rings Alice (1001), the clean one's Carol (1003). */
const LOSSY_DID = '5550101';
const CLEAN_DID = '5550103';
const LOSS = { oneIn: 20, seed: 13 };
/** "Within a few seconds": stats rounds come every 2 s, the first may cover part of one. */
const SHOWN_WITHIN_MS = 6000;

const desks: RawDesk[] = [];
let lossyTrunkPort = 0;
let cleanTrunkPort = 0;

const scene = useWebScene(
  async () => {
    lossyTrunkPort = await allocatePort();
    cleanTrunkPort = await allocatePort();
    const trunk = (name: string, port: number, did: string, to: string) => ({
      name,
      host: '127.0.0.1',
      port,
      sourcePort: port,
      dids: { [did]: to },
    });
    return {
      monitoring: { enabled: true },
      trunks: [
        trunk('lossy', lossyTrunkPort, LOSSY_DID, '1001'),
        trunk('clean', cleanTrunkPort, CLEAN_DID, '1003'),
      ],
    };
  },
  EXTENSIONS,
  async () => {
    await Promise.all(desks.splice(0).map((d) => d.close()));
  },
);
const { phones } = scene;

/** The row of the call whose agent is `agentCell` (e.g. 'Alice (1001)'). */
const rowOfAgent = (page: Page, agentCell: string): Locator =>
  page.locator('tr[data-call-id]', {
    has: page.locator('td:nth-child(4)', { hasText: agentCell }),
  });

/** The quality badge of a row: its rating and what it says per leg. */
async function badgeOf(row: Locator): Promise<{ rating: string | null; legs: string }> {
  const badge = row.locator('[data-quality]');
  if ((await badge.count()) === 0) return { rating: null, legs: '' };
  return {
    rating: await badge.textContent(),
    legs: (await badge.getAttribute('title')) ?? '',
  };
}

describe('call quality on the supervisor’s screen', () => {
  it('shows the call whose customer loses 5 % as poor within a few seconds, the clean one as good', async () => {
    await withBrowser({}, async (browser) => {
      const sup = await browser.context.newPage();
      const errors = consoleErrors(sup);
      await signIn(sup, scene.supervisorBase(), '1005', 'pw1005');
      await sup.locator('[data-testid="stream"][data-connected="true"]').waitFor();

      await phones.phone('1001', AGENT_HZ);
      await phones.phone('1003', AGENT_HZ);
      const lossy = await RawDesk.open(lossyTrunkPort, scene.server.sipPort);
      desks.push(lossy);
      const clean = await RawDesk.open(cleanTrunkPort, scene.server.sipPort);
      desks.push(clean);
      await Promise.all([
        lossy.dial(LOSSY_DID, CUSTOMER_HZ, 15000, LOSS),
        clean.dial(CLEAN_DID, CUSTOMER_HZ),
      ]);
      const answeredAt = Date.now();
      const lossyRow = rowOfAgent(sup, 'Alice (1001)');
      const cleanRow = rowOfAgent(sup, 'Carol (1003)');
      await lossyRow.waitFor({ timeout: 5000 });
      await cleanRow.waitFor({ timeout: 5000 });

      // Poor within a few seconds, for the customer's leg; good once both legs of the
      // clean call have figures.
      await lossyRow
        .locator('[data-quality="poor"][title^="Customer: poor"]')
        .waitFor({ timeout: SHOWN_WITHIN_MS });
      const poorAfterMs = Date.now() - answeredAt;
      await cleanRow
        .locator('[data-quality="good"][title*="Customer:"][title*="Agent:"]')
        .waitFor({ timeout: Math.max(1, answeredAt + SHOWN_WITHIN_MS - Date.now()) });
      const goodAfterMs = Date.now() - answeredAt;
      expect(poorAfterMs).toBeLessThanOrEqual(SHOWN_WITHIN_MS);
      expect(goodAfterMs).toBeLessThanOrEqual(SHOWN_WITHIN_MS);
      await screenshot(sup, 'call-monitor-quality');

      // It stays so over the next rounds: two more reports of each leg (2 s apart).
      for (let round = 0; round < 3; round++) {
        await sleep(2000);
        const [l, c] = [await badgeOf(lossyRow), await badgeOf(cleanRow)];
        expect({ round, lossy: l, clean: c }).toEqual({
          round,
          lossy: {
            rating: 'poor',
            legs: expect.stringMatching(/^Customer: poor, loss \d+\.\d %.*\nAgent: /),
          },
          clean: {
            rating: 'good',
            legs: expect.stringMatching(/^Customer: good, loss 0\.0 %.*\nAgent: good, loss 0\.0 %/),
          },
        });
      }
      // A whole round's loss is about what the desk phone left out.
      const lossyLegs = (await badgeOf(lossyRow)).legs;
      const lossPct = Number(/^Customer: poor, loss (\d+\.\d) %/.exec(lossyLegs)?.[1]);
      expect(lossPct).toBeGreaterThanOrEqual(3);
      expect(lossPct).toBeLessThanOrEqual(7);
      expect(lossy.dropped).toBeGreaterThan(0);
      expect(clean.dropped).toBe(0);

      await Promise.all([lossy.hangUp(), clean.hangUp()]);
      await lossyRow.waitFor({ state: 'detached', timeout: 5000 });
      await cleanRow.waitFor({ state: 'detached', timeout: 5000 });
      expect(errors).toEqual([]);
    });
  }, 90000);
});
