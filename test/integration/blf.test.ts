/**
 * BLF keys against the running server: a raw-SIP subscriber (test/helpers/blfWatcher.ts)
 * watches extension 1002 with the dialog event package (RFC 4235 over RFC 6665) while
 * real baresip phones call it. Every NOTIFY body is checked against the RFC 4235 schema
 * (test/helpers/dialogInfoSchema.ts). Then refresh, expiry and un-subscribe; a watcher
 * the monitoring groups do not allow (403); bad requests (489, 400, 415, 423, 404); a
 * NOTIFY answered 481; a flood of subscriptions from one address (bounded, 503); and,
 * on a second server with `presence.blf: all`, a watcher outside the monitoring groups,
 * whose subscription the server's shutdown ends with a last NOTIFY.
 *
 * The monitoring group is the test server's (test/helpers/server.ts): supervisor 1005
 * monitors 1001–1003, so it may watch them; 1001 may not watch 1002.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  startBaresip,
  tracedRequest,
  type BaresipPhone,
  type TracedSip,
} from '../helpers/baresip.js';
import { BlfWatcher } from '../helpers/blfWatcher.js';
import { dialogInfoProblems, summarizeDialogInfo } from '../helpers/dialogInfoSchema.js';
import { PhonePool, sleep, startPhoneServer, waitFor } from '../helpers/phoneScene.js';
import { startServer, PEER_AUTH, type ServerHandle } from '../helpers/server.js';
import type { SipMessageView } from '../helpers/sipClient.js';

const EXTENSIONS = ['1001', '1002', '1003', '1005'].map((number) => ({
  number,
  password: `pw${number}`,
  displayName: `Ext ${number}`,
  role: number === '1005' ? ('supervisor' as const) : ('agent' as const),
}));
const MAX_PER_SOURCE = 6;

let server: ServerHandle;
const phones = new PhonePool(() => server);
const extra: BaresipPhone[] = [];
const watchers: BlfWatcher[] = [];

beforeAll(async () => {
  server = await startPhoneServer(
    {
      // The overload guard (docs/architecture.md §8.5, tested in register-overload) sheds
      // new requests with its own 503 while the machine is busy; a phone retries after
      // Retry-After, this raw subscriber does not, and the 503s here must be the limits'.
      sip: { overload: { enabled: false } },
      presence: {
        minExpiresSec: 2,
        maxExpiresSec: 600,
        defaultExpiresSec: 600,
        maxPerSource: MAX_PER_SOURCE,
        retryAfterSec: 7,
      },
    },
    EXTENSIONS,
    40,
  );
}, 30000);

afterEach(async () => {
  await phones.killAll();
  await Promise.all(extra.splice(0).map((p) => p.kill()));
  await Promise.all(watchers.splice(0).map((w) => w.close()));
});

afterAll(async () => {
  await server?.stop();
});

async function watcher(user = '1005'): Promise<BlfWatcher> {
  const w = await BlfWatcher.open(server.sipPort, user, `pw${user}`);
  watchers.push(w);
  return w;
}

async function activeSubscriptions(): Promise<number | undefined> {
  return server.metric('callwatch_blf_subscriptions_active');
}

async function refusals(reason: string): Promise<number> {
  const samples = await server.metrics();
  return (
    samples.find((s) => s.name === 'callwatch_blf_refusals_total' && s.labels.reason === reason)
      ?.value ?? 0
  );
}

/** A NOTIFY's parts, its body checked against the RFC 4235 schema. */
function read(notify: SipMessageView) {
  expect(notify.header('Event')).toBe('dialog');
  expect(notify.header('Content-Type')).toBe('application/dialog-info+xml');
  expect(dialogInfoProblems(notify.body)).toEqual([]);
  return { state: notify.header('Subscription-State'), doc: summarizeDialogInfo(notify.body) };
}

/** Waits for a NOTIFY whose document shows a dialog in `state`. */
async function notifyWith(w: BlfWatcher, state: string, timeoutMs = 10000) {
  const m = await w.waitFor(
    (n) =>
      n.method === 'NOTIFY' &&
      dialogInfoProblems(n.body).length === 0 &&
      summarizeDialogInfo(n.body).dialogs.some((d) => d.state === state),
    timeoutMs,
  );
  return read(m);
}

describe('BLF: the dialog event package', () => {
  it('a watcher sees 1002 ring, answer and hang up, then un-subscribes', async () => {
    const w = await watcher('1005');
    const ok = await w.subscribe('1002', { expires: 120 });
    expect(ok.status).toBe(200);
    expect(ok.header('Expires')).toBe('120');
    expect(w.dialogToTag).toBeDefined();
    const first = read(await w.nextNotify(0));
    expect(first.state).toMatch(/^active;expires=(119|120)$/);
    expect(first.doc).toMatchObject({ version: 0, state: 'full', dialogs: [] });
    expect(first.doc.entity).toMatch(/^sip:1002@/);

    const caller = await phones.phone('1001', 1000);
    const callee = await startBaresip({
      user: '1002',
      password: 'pw1002',
      serverPort: server.sipPort,
      toneHz: 440,
      answerMode: 'manual',
    });
    extra.push(callee);
    await callee.waitForRegistration(10000);
    expect((await caller.command('dial', `sip:1002@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
    await callee.waitForEvent('CALL_INCOMING', 10000);

    const early = await notifyWith(w, 'early');
    expect(early.state).toMatch(/^active;expires=\d+$/);
    expect(early.doc.dialogs).toEqual([
      expect.objectContaining({
        state: 'early',
        direction: 'recipient',
        remoteIdentity: expect.stringMatching(/^sip:1001@/),
        remoteDisplay: 'Ext 1001',
        localIdentity: expect.stringMatching(/^sip:1002@/),
      }),
    ]);

    expect((await callee.command('accept')).ok).toBe(true);
    await callee.waitForEvent('CALL_ESTABLISHED', 10000);
    const confirmed = await notifyWith(w, 'confirmed');
    const dialog = confirmed.doc.dialogs[0]!;
    expect(dialog).toMatchObject({
      state: 'confirmed',
      direction: 'recipient',
      id: early.doc.dialogs[0]!.id,
    });
    // The ids of the phone's own dialog with the server: what it got in our INVITE.
    const sent200 = (t: TracedSip): boolean =>
      t.direction === 'sent' && t.message.status === 200 && t.message.cseqMethod === 'INVITE';
    const traced = await callee.waitForTrace(sent200);
    const invite = traced.find(tracedRequest('received', 'INVITE'))!.message;
    expect(dialog.callId).toBe(invite.callId);
    expect(invite.header('From')).toContain(`tag=${dialog.remoteTag}`);
    const ok200 = traced.find(sent200)!.message;
    expect(ok200.header('To')).toContain(`tag=${dialog.localTag}`);

    expect((await caller.command('hangup')).ok).toBe(true);
    await callee.waitForEvent('CALL_CLOSED', 10000);
    const ended = await notifyWith(w, 'terminated');
    expect(ended.doc.dialogs).toEqual([
      expect.objectContaining({ id: dialog.id, state: 'terminated', event: 'remote-bye' }),
    ]);
    expect(ended.state).toMatch(/^active;/);

    // Each document one version above the last (RFC 4235 §4.1.2).
    const versions = w.distinctNotifies().map((n) => summarizeDialogInfo(n.body).version);
    expect(versions).toEqual(versions.map((_, i) => i));
    expect(versions.length).toBeGreaterThanOrEqual(4);

    // After the call: back to no dialogs, then the un-subscribe's last NOTIFY.
    const before = w.notifyKeys().size;
    const bye = await w.refresh(0);
    expect(bye.status).toBe(200);
    expect(bye.header('Expires')).toBe('0');
    const last = read(await w.nextNotify(before));
    expect(last.state).toBe('terminated');
    expect(last.doc.dialogs).toEqual([]);
    expect(await waitFor(async () => (await activeSubscriptions()) === 0)).toBe(true);
    // The dialog is gone: a refresh in it is 481.
    expect((await w.refresh(60)).status).toBe(481);
  }, 60000);

  it('refresh re-arms the subscription; without one it expires with reason=timeout', async () => {
    const w = await watcher('1005');
    expect((await w.subscribe('1001', { expires: 3 })).status).toBe(200);
    expect(read(await w.nextNotify(0)).state).toMatch(/^active;expires=[23]$/);
    await sleep(1500);
    const refreshed = await w.refresh(3);
    expect(refreshed.status).toBe(200);
    expect(refreshed.header('Expires')).toBe('3');
    const refreshedAt = Date.now();
    expect(read(await w.nextNotify(1)).state).toMatch(/^active;expires=[23]$/);
    const expired = read(await w.nextNotify(2, 6000));
    // Not before the refreshed time ran out (the first expiry would have been ~1.5 s ago).
    expect(Date.now() - refreshedAt).toBeGreaterThanOrEqual(2500);
    expect(expired.state).toBe('terminated;reason=timeout');
    expect(await waitFor(async () => (await activeSubscriptions()) === 0)).toBe(true);
    expect((await w.refresh(3)).status).toBe(481);
  }, 30000);

  it('refuses too short a subscription with 423 and Min-Expires', async () => {
    const w = await watcher('1005');
    const r = await w.subscribe('1001', { expires: 1 });
    expect(r.status).toBe(423);
    expect(r.header('Min-Expires')).toBe('2');
    expect(w.notifies).toEqual([]);
  });

  it('a watcher the monitoring groups do not allow gets 403 and no NOTIFY', async () => {
    const before = await refusals('not-permitted');
    const w = await watcher('1001');
    const r = await w.subscribe('1002', { expires: 60 });
    expect(r.status).toBe(403);
    expect(await refusals('not-permitted')).toBe(before + 1);
    await sleep(300);
    expect(w.notifies).toEqual([]);
    // Watching oneself is allowed.
    expect((await w.subscribe('1001', { expires: 60 })).status).toBe(200);
    await w.nextNotify(0);
    expect((await w.refresh(0)).status).toBe(200);
    expect(read(await w.nextNotify(1)).state).toBe('terminated');
    expect(await waitFor(async () => (await activeSubscriptions()) === 0)).toBe(true);
  });

  it('answers bad SUBSCRIBEs: unknown or missing Event 489, unreadable 400, filters 415, no such user 404', async () => {
    const w = await watcher('1005');
    const unknown = await w.subscribe('1002', { event: 'presence', authenticate: false });
    expect(unknown.status).toBe(489);
    expect(unknown.header('Allow-Events')).toBe('dialog');
    const missing = await w.subscribe('1002', { event: null, authenticate: false });
    expect(missing.status).toBe(489);
    expect(missing.header('Allow-Events')).toBe('dialog');
    expect((await w.subscribe('1002', { event: 'dia log', authenticate: false })).status).toBe(400);
    expect((await w.subscribe('1002', { expires: -1 as number, authenticate: false })).status).toBe(
      400,
    );
    expect((await w.subscribe('1002', { body: '<filter/>', authenticate: false })).status).toBe(
      400,
    );
    const filter = await w.subscribe('1002', {
      body: '<filter-set/>',
      headers: ['Content-Type: application/simple-filter+xml'],
      authenticate: false,
    });
    expect(filter.status).toBe(415);
    expect((await w.subscribe('9999', { authenticate: false })).status).toBe(404);
    expect(await refusals('bad-event')).toBeGreaterThanOrEqual(2);
    expect(w.notifies).toEqual([]);
  });

  it('a NOTIFY answered 481 ends the subscription', async () => {
    const w = await watcher('1005');
    w.notifyStatus = 481;
    expect((await w.subscribe('1003', { expires: 60 })).status).toBe(200);
    await w.nextNotify(0);
    expect(await waitFor(async () => (await activeSubscriptions()) === 0)).toBe(true);
    w.notifyStatus = 200;
    expect((await w.refresh(60)).status).toBe(481);
  });

  it(`bounds a flood of subscriptions from one address (${MAX_PER_SOURCE}), then 503 with Retry-After`, async () => {
    expect(await waitFor(async () => (await activeSubscriptions()) === 0)).toBe(true);
    const before = await refusals('limit-source');
    const statuses: number[] = [];
    const accepted: BlfWatcher[] = [];
    for (let i = 0; i < MAX_PER_SOURCE + 4; i++) {
      const w = await watcher('1005');
      const r = await w.subscribe('1001', { expires: 60 });
      statuses.push(r.status ?? 0);
      if (r.status === 200) accepted.push(w);
      else expect(r.header('Retry-After')).toBe('7');
    }
    expect(statuses).toEqual([...Array(MAX_PER_SOURCE).fill(200), ...Array(4).fill(503)]);
    expect(await refusals('limit-source')).toBe(before + 4);
    expect(await activeSubscriptions()).toBe(MAX_PER_SOURCE);
    // One ends: one more fits.
    expect((await accepted[0]!.refresh(0)).status).toBe(200);
    expect(await waitFor(async () => (await activeSubscriptions()) === MAX_PER_SOURCE - 1)).toBe(
      true,
    );
    expect((await (await watcher('1005')).subscribe('1001', { expires: 60 })).status).toBe(200);
  }, 30000);
});

describe('BLF with presence.blf: all, and at shutdown', () => {
  it('any extension watches any other; stopping the server ends the subscription (deactivated)', async () => {
    const other = await startServer(
      { ...PEER_AUTH, sip: { overload: { enabled: false } }, presence: { blf: 'all' } },
      { extensions: EXTENSIONS },
    );
    const w = await BlfWatcher.open(other.sipPort, '1001', 'pw1001');
    try {
      // 1001 monitors nobody, yet may watch 1002 here.
      expect((await w.subscribe('1002', { expires: 300 })).status).toBe(200);
      expect(read(await w.nextNotify(0)).state).toMatch(/^active;expires=(299|300)$/);
      expect(await other.stop()).toBe(0);
      const last = read(await w.nextNotify(1));
      expect(last.state).toBe('terminated;reason=deactivated');
      expect(last.doc.version).toBe(1);
    } finally {
      await other.stop({ expectCode: null });
      await w.close();
    }
  }, 30000);
});
