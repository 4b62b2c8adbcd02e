/**
 * Two-party calls through the server with wideband phones (baresip): G.722 to G.722 keeps
 * the band above 4 kHz both ways; Opus to PCMU (and back) is transcoded, each phone hearing
 * the other's tone, the G.711 side without any alias of the Opus side's high tone and the
 * Opus side without any image of the G.711 side's tone. What each phone heard is its
 * sndfile `dec` recording, analysed at the rate baresip wrote it (8, 16 or 48 kHz).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type BaresipPhone } from '../helpers/baresip.js';
import {
  CODEC_PROFILES,
  HD_AGENT,
  HD_CUSTOMER,
  HdPhonePool,
  expectVoices,
  hdCodecConfig,
  heardHd,
  type PhoneCodec,
} from '../helpers/baresipHd.js';
import { type PcmAudio } from '../helpers/goertzel.js';
import { SETTLE_MS, sleep, startPhoneServer, toneWindow, waitFor } from '../helpers/phoneScene.js';
import { type ServerHandle } from '../helpers/server.js';

const EXTENSIONS = [
  { number: '1001', password: 'pw1001' },
  { number: '1002', password: 'pw1002' },
];

let server: ServerHandle;
const phones = new HdPhonePool(() => server);

beforeAll(async () => {
  server = await startPhoneServer(hdCodecConfig(), EXTENSIONS, 40);
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

/**
 * 1001 (HD_AGENT's tones, on `callerCodec`) calls 1002 (HD_CUSTOMER's, on `calleeCodec`)
 * for 3 s; returns what each heard after the call was up and settled.
 */
async function call(
  callerCodec: PhoneCodec,
  calleeCodec: PhoneCodec,
): Promise<{ caller: PcmAudio; callee: PcmAudio; phones: BaresipPhone[] }> {
  const caller = await phones.phone('1001', callerCodec, HD_AGENT);
  const callee = await phones.phone('1002', calleeCodec, HD_CUSTOMER);
  expect((await caller.command('dial', `sip:1002@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
  await caller.waitForEvent('CALL_ESTABLISHED', 10000);
  await callee.waitForEvent('CALL_ESTABLISHED', 10000);
  const upAt = Date.now();
  await sleep(3000);
  const endAt = Date.now();
  await caller.command('hangup');
  await caller.waitForEvent('CALL_CLOSED', 10000);
  await callee.waitForEvent('CALL_CLOSED', 10000);
  expect(await waitFor(async () => (await liveCalls()).length === 0, 3000)).toBe(true);
  const window = (a: PcmAudio): PcmAudio => toneWindow(a, upAt, upAt + SETTLE_MS, endAt);
  const callerHeard = heardHd(caller);
  const calleeHeard = heardHd(callee);
  // baresip writes what it heard at its codec's rate: the codec really was negotiated.
  expect(callerHeard.sampleRate).toBe(CODEC_PROFILES[callerCodec].sampleRate);
  expect(calleeHeard.sampleRate).toBe(CODEC_PROFILES[calleeCodec].sampleRate);
  return { caller: window(callerHeard), callee: window(calleeHeard), phones: [caller, callee] };
}

describe('wideband calls between baresip phones through the server', () => {
  it('G.722 ↔ G.722: each hears the other, the tones above 4 kHz included', async () => {
    const r = await call('g722', 'g722');
    expectVoices('caller (G.722)', r.caller, [{ voice: HD_CUSTOMER, codec: 'g722' }], [HD_AGENT]);
    expectVoices('callee (G.722)', r.callee, [{ voice: HD_AGENT, codec: 'g722' }], [HD_CUSTOMER]);
    for (const p of r.phones) expect(await p.quit()).toBe(0);
  }, 60000);

  it('Opus calls PCMU: transcoded both ways, no alias in the G.711 leg', async () => {
    const r = await call('opus', 'pcmu');
    expectVoices('caller (Opus)', r.caller, [{ voice: HD_CUSTOMER, codec: 'pcmu' }], [HD_AGENT]);
    expectVoices('callee (PCMU)', r.callee, [{ voice: HD_AGENT, codec: 'opus' }], [HD_CUSTOMER]);
    for (const p of r.phones) expect(await p.quit()).toBe(0);
  }, 60000);

  it('PCMU calls Opus: transcoded both ways, no alias in the G.711 leg', async () => {
    const r = await call('pcmu', 'opus');
    expectVoices('caller (PCMU)', r.caller, [{ voice: HD_CUSTOMER, codec: 'opus' }], [HD_AGENT]);
    expectVoices('callee (Opus)', r.callee, [{ voice: HD_AGENT, codec: 'pcmu' }], [HD_CUSTOMER]);
    for (const p of r.phones) expect(await p.quit()).toBe(0);
  }, 60000);
});
