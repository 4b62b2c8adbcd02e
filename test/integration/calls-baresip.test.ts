/**
 * Calls through the B2BUA between two real phones (baresip), both registered with
 * digest auth: each phone plays its own tone, and what each one heard (its sndfile
 * `dec` recording) must carry the other's tone and not its own. Hang-up from either
 * side ends both legs; afterwards no call is live and no RTP port of the range is bound.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.js';
import { analyzeTone, describeTone, hasTone, lacksTone, readWav } from '../helpers/goertzel.js';
import { allocatePortBlock, boundUdpPorts } from '../helpers/ports.js';
import { PEER_AUTH, startServer, type ServerHandle } from '../helpers/server.js';

const EXTENSIONS = [
  { number: '1001', password: 'pw1001' },
  { number: '1002', password: 'pw1002' },
];
const CALLER_HZ = 1000;
const CALLEE_HZ = 440;

let server: ServerHandle;
let portMin: number;
const PORT_SPAN = 40;
let phones: BaresipPhone[] = [];

beforeAll(async () => {
  portMin = await allocatePortBlock(PORT_SPAN);
  if (portMin % 2 === 1) portMin += 1;
  server = await startServer(
    {
      ...PEER_AUTH,
      media: { portRange: { min: portMin, max: portMin + PORT_SPAN - 3 }, workers: 1 },
    },
    { extensions: EXTENSIONS },
  );
}, 30000);

afterEach(async () => {
  await Promise.all(phones.map((p) => p.kill()));
  phones = [];
});

afterAll(async () => {
  await server?.stop();
});

async function liveCalls(): Promise<unknown[]> {
  const r = await server.httpGet('/v1/calls');
  expect(r.status).toBe(200);
  return (r.json as { calls: unknown[] }).calls;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

async function twoPhones(calleeCodecs = 'pcmu'): Promise<[BaresipPhone, BaresipPhone]> {
  const caller = await startBaresip({
    user: '1001',
    password: 'pw1001',
    serverPort: server.sipPort,
    toneHz: CALLER_HZ,
    audioCodecs: 'pcmu',
  });
  phones.push(caller);
  const callee = await startBaresip({
    user: '1002',
    password: 'pw1002',
    serverPort: server.sipPort,
    toneHz: CALLEE_HZ,
    audioCodecs: calleeCodecs,
  });
  phones.push(callee);
  await caller.waitForRegistration(10000);
  await callee.waitForRegistration(10000);
  return [caller, callee];
}

function expectHeard(phone: BaresipPhone, own: number, other: number): void {
  const { dec } = phone.recordings();
  expect(dec).toHaveLength(1);
  const heard = readWav(dec[0] as string);
  expect({
    phone: phone.user,
    heard: describeTone(analyzeTone(heard, other)),
    ok: hasTone(heard, other),
  }).toMatchObject({
    ok: true,
  });
  expect(lacksTone(heard, own)).toBe(true);
}

describe('calls between two baresip phones through the server', () => {
  for (const hangup of ['caller', 'callee'] as const) {
    it(`relays audio both ways; hang-up by the ${hangup} ends both legs`, async () => {
      const [caller, callee] = await twoPhones();
      const dial = await caller.command('dial', `sip:1002@127.0.0.1:${server.sipPort}`);
      expect(dial.ok).toBe(true);
      await caller.waitForEvent('CALL_ESTABLISHED', 10000);
      await callee.waitForEvent('CALL_ESTABLISHED', 10000);
      expect(await liveCalls()).toHaveLength(1);
      // The call's two legs hold RTP + RTCP each in the range (so the check below can fail).
      expect(boundUdpPorts(portMin, portMin + PORT_SPAN - 3)).toHaveLength(4);
      await new Promise((r) => setTimeout(r, 3000));

      const [ender, other] = hangup === 'caller' ? [caller, callee] : [callee, caller];
      await ender.command('hangup');
      await ender.waitForEvent('CALL_CLOSED', 10000);
      await other.waitForEvent('CALL_CLOSED', 10000);

      expectHeard(caller, CALLER_HZ, CALLEE_HZ);
      expectHeard(callee, CALLEE_HZ, CALLER_HZ);

      expect(await waitFor(async () => (await liveCalls()).length === 0, 3000)).toBe(true);
      // Both media legs closed: no socket of the server's RTP range is left.
      expect(
        await waitFor(
          async () => boundUdpPorts(portMin, portMin + PORT_SPAN - 3).length === 0,
          3000,
        ),
      ).toBe(true);
      expect(await caller.quit()).toBe(0);
      expect(await callee.quit()).toBe(0);
    }, 60000);
  }

  it('transcodes a PCMU phone to a PCMA phone, tone verified at both ends', async () => {
    const [caller, callee] = await twoPhones('pcma');
    expect((await caller.command('dial', `sip:1002@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
    await caller.waitForEvent('CALL_ESTABLISHED', 10000);
    await callee.waitForEvent('CALL_ESTABLISHED', 10000);
    // The caller offers PCMU only and the callee accepts PCMA only: each leg has its
    // own codec, so the tones below can only pass if the server transcodes.
    await new Promise((r) => setTimeout(r, 3000));
    await caller.command('hangup');
    await caller.waitForEvent('CALL_CLOSED', 10000);
    await callee.waitForEvent('CALL_CLOSED', 10000);
    expectHeard(caller, CALLER_HZ, CALLEE_HZ);
    expectHeard(callee, CALLEE_HZ, CALLER_HZ);
    expect(await waitFor(async () => (await liveCalls()).length === 0, 3000)).toBe(true);
    expect(await caller.quit()).toBe(0);
    expect(await callee.quit()).toBe(0);
  }, 60000);
});
