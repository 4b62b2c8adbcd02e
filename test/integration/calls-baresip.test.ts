/**
 * Calls through the B2BUA between two real phones (baresip), both registered with
 * digest auth: each phone plays its own tone, and what each one heard (its sndfile
 * `dec` recording) must carry the other's tone and not its own. Hang-up from either
 * side ends both legs; afterwards no call is live and no RTP port of the range is bound.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type BaresipPhone } from '../helpers/baresip.js';
import { analyzeTone, describeTone, hasTone, lacksTone } from '../helpers/goertzel.js';
import {
  dialAndAnswer,
  heardAudio,
  PhonePool,
  rtpPortRange,
  sleep,
  startPhoneServer,
  waitFor,
} from '../helpers/phoneScene.js';
import { boundUdpPorts } from '../helpers/ports.js';
import { type ServerHandle } from '../helpers/server.js';

const EXTENSIONS = [
  { number: '1001', password: 'pw1001' },
  { number: '1002', password: 'pw1002' },
];
const CALLER_HZ = 1000;
const CALLEE_HZ = 440;

let server: ServerHandle;
/** The server's RTP range. */
let rtp: { min: number; max: number };
const phones = new PhonePool(() => server);

beforeAll(async () => {
  server = await startPhoneServer({}, EXTENSIONS, 40);
  rtp = rtpPortRange(server);
}, 30000);

afterEach(async () => {
  await phones.killAll();
});

afterAll(async () => {
  await server?.stop();
});

async function liveCalls(): Promise<unknown[]> {
  const r = await server.httpGet('/v1/calls');
  expect(r.status).toBe(200);
  return (r.json as { calls: unknown[] }).calls;
}

async function twoPhones(calleeCodecs = 'pcmu'): Promise<[BaresipPhone, BaresipPhone]> {
  const caller = await phones.spawn('1001', CALLER_HZ);
  const callee = await phones.spawn('1002', CALLEE_HZ, calleeCodecs);
  await caller.waitForRegistration(10000);
  await callee.waitForRegistration(10000);
  return [caller, callee];
}

function expectHeard(phone: BaresipPhone, own: number, other: number): void {
  const heard = heardAudio(phone);
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
      await dialAndAnswer(server, caller, callee, '1002');
      expect(await liveCalls()).toHaveLength(1);
      // The call's two legs hold RTP + RTCP each in the range (so the check below can fail);
      // counted on the server's own sockets, not a peer's that happens to sit in the range.
      expect(boundUdpPorts(rtp.min, rtp.max, server.pid)).toHaveLength(4);
      await sleep(3000);

      const [ender, other] = hangup === 'caller' ? [caller, callee] : [callee, caller];
      await ender.command('hangup');
      await ender.waitForEvent('CALL_CLOSED', 10000);
      await other.waitForEvent('CALL_CLOSED', 10000);

      expectHeard(caller, CALLER_HZ, CALLEE_HZ);
      expectHeard(callee, CALLEE_HZ, CALLER_HZ);

      expect(await waitFor(async () => (await liveCalls()).length === 0, 3000)).toBe(true);
      // Both media legs closed: no socket of the server's RTP range is left.
      expect(
        await waitFor(async () => boundUdpPorts(rtp.min, rtp.max, server.pid).length === 0, 3000),
      ).toBe(true);
      expect(await caller.quit()).toBe(0);
      expect(await callee.quit()).toBe(0);
    }, 60000);
  }

  it('transcodes a PCMU phone to a PCMA phone, tone verified at both ends', async () => {
    const [caller, callee] = await twoPhones('pcma');
    await dialAndAnswer(server, caller, callee, '1002');
    // The caller offers PCMU only and the callee accepts PCMA only: each leg has its
    // own codec, so the tones below can only pass if the server transcodes.
    await sleep(3000);
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
