/**
 * The HD test rig itself, without the server: the microphone WAVs sox makes for each
 * codec (rate, channels, both tones at the level asked), the voice checks catching what a
 * bad resampler does (a high tone folded onto its alias, a low tone mirrored onto its
 * image) and passing a proper one (sox's), and two baresip phones calling each other
 * directly in G.722 and in Opus: each hears the other's tones, the one above 4 kHz
 * included, and never its own. If this file fails, the hd-* tests through the server say
 * nothing about the server.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { type BaresipPhone } from '../helpers/baresip.js';
import {
  CODEC_PROFILES,
  HD_AGENT,
  HD_CUSTOMER,
  HD_SUPERVISOR,
  aliasOf,
  expectVoices,
  heardHd,
  imageOf,
  makeCodecToneWav,
  startHdPhone,
  voiceExpectation,
  type PhoneCodec,
} from '../helpers/baresipHd.js';
import {
  hasTone,
  lacksTone,
  levelDbfs,
  readWav,
  relativeTonePower,
  type PcmAudio,
} from '../helpers/goertzel.js';
import { sleep } from '../helpers/phoneScene.js';
import { allocatePort } from '../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../helpers/processes.js';

const phones: BaresipPhone[] = [];

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.kill()));
});

/** Whether `audio` passes voiceExpectation (the same verdict expectVoices asserts). */
function passes(
  audio: PcmAudio,
  present: Parameters<typeof voiceExpectation>[1],
  absent: Parameters<typeof voiceExpectation>[2],
): boolean {
  const want = voiceExpectation(audio, present, absent);
  return (
    want.present.every((f) => hasTone(audio, f)) && want.absent.every((f) => lacksTone(audio, f))
  );
}

describe('HD rig: tone files and their analysis', () => {
  const dir = makeTempDir('hd-rig');
  afterAll(() => removeTempDir(dir));

  for (const codec of ['pcmu', 'g722', 'opus'] as PhoneCodec[]) {
    it(`${codec}: a WAV at the codec's rate and channels, each tone at the level asked`, () => {
      const p = CODEC_PROFILES[codec];
      const tones = p.wideband ? [HD_AGENT.low, HD_AGENT.high] : [HD_AGENT.low];
      const wav = readWav(makeCodecToneWav(path.join(dir, `${codec}.wav`), tones, 2, codec));
      expect([wav.sampleRate, wav.channels]).toEqual([p.sampleRate, p.channels]);
      expect(wav.samples.length).toBe(2 * p.sampleRate);
      for (const ch of wav.channelData) {
        // A sine of amplitude a holds a²/2 of the power; with two tones each is half of it.
        for (const f of tones) {
          const rel = relativeTonePower(ch, wav.sampleRate, f, 0, p.sampleRate / 10);
          expect(rel).toBeGreaterThan(tones.length === 2 ? 0.45 : 0.95);
        }
        // Each tone at 0.2 of full scale: RMS 0.2·√(n/2) for n tones.
        const want = 20 * Math.log10(0.2 * Math.sqrt(tones.length / 2));
        expect(Math.abs(levelDbfs(ch) - want)).toBeLessThan(0.2);
      }
    });
  }

  it('a high tone folded by a decimation without low-pass is caught; sox resampling passes', () => {
    const wide = makeCodecToneWav(
      path.join(dir, 'wide.wav'),
      [HD_CUSTOMER.low, HD_CUSTOMER.high],
      2,
      'g722',
    );
    const src = readWav(wide);
    // Every second sample, no filter: 5200 Hz folds onto 2800 Hz.
    const naive: PcmAudio = {
      sampleRate: 8000,
      samples: src.samples.filter((_, i) => i % 2 === 0),
    };
    expect(hasTone(naive, aliasOf(HD_CUSTOMER.high))).toBe(true);
    const heard = [{ voice: HD_CUSTOMER, codec: 'g722' as const }];
    expect(passes(naive, heard, [HD_AGENT, HD_SUPERVISOR])).toBe(false);

    const good = path.join(dir, 'wide-8k.wav');
    const r = spawnSync('sox', [wide, '-r', '8000', good], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(passes(readWav(good), heard, [HD_AGENT, HD_SUPERVISOR])).toBe(true);
  });

  it('a low tone mirrored by an upsampling without filter is caught; sox resampling passes', () => {
    const narrow = makeCodecToneWav(path.join(dir, 'narrow.wav'), [HD_AGENT.low], 2, 'pcmu');
    const src = readWav(narrow);
    // Zero-stuffing, no interpolation filter: 1000 Hz gets a mirror at 7000 Hz.
    const stuffed = new Int16Array(src.samples.length * 2);
    src.samples.forEach((s, i) => (stuffed[2 * i] = s));
    const naive: PcmAudio = { sampleRate: 16000, samples: stuffed };
    expect(hasTone(naive, imageOf(HD_AGENT.low))).toBe(true);
    const heard = [{ voice: HD_AGENT, codec: 'pcmu' as const }];
    expect(passes(naive, heard, [HD_CUSTOMER])).toBe(false);

    const good = path.join(dir, 'narrow-16k.wav');
    const r = spawnSync('sox', [narrow, '-r', '16000', good], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(passes(readWav(good), heard, [HD_CUSTOMER])).toBe(true);
  });
});

describe('HD rig: two baresip phones calling each other directly (no server)', () => {
  for (const codec of ['g722', 'opus'] as PhoneCodec[]) {
    it(`${codec}: each hears the other's tones, the one above 4 kHz included`, async () => {
      // The AORs point at a port nobody answers; regint 0: no registration, the caller
      // dials the callee's own SIP address.
      const nowhere = await allocatePort();
      const opts = { serverPort: nowhere, codec, regint: 0, seconds: 30 };
      const caller = await startHdPhone({ ...opts, user: '1001', voice: HD_AGENT });
      phones.push(caller);
      const callee = await startHdPhone({ ...opts, user: '1002', voice: HD_CUSTOMER });
      phones.push(callee);
      expect((await caller.command('dial', `sip:1002@${callee.address}`)).ok).toBe(true);
      await caller.waitForEvent('CALL_ESTABLISHED', 10000);
      await callee.waitForEvent('CALL_ESTABLISHED', 10000);
      await sleep(3000);
      await caller.command('hangup');
      await callee.waitForEvent('CALL_CLOSED', 10000);

      const callerHeard = heardHd(caller);
      const calleeHeard = heardHd(callee);
      expect(callerHeard.sampleRate).toBe(CODEC_PROFILES[codec].sampleRate);
      expect(calleeHeard.sampleRate).toBe(CODEC_PROFILES[codec].sampleRate);
      const skip = { startSec: 0.5 };
      const cut = (a: PcmAudio): PcmAudio => ({
        sampleRate: a.sampleRate,
        samples: a.samples.subarray(Math.round(skip.startSec * a.sampleRate)),
      });
      expectVoices(
        `${codec} caller`,
        cut(callerHeard),
        [{ voice: HD_CUSTOMER, codec }],
        [HD_AGENT],
      );
      expectVoices(
        `${codec} callee`,
        cut(calleeHeard),
        [{ voice: HD_AGENT, codec }],
        [HD_CUSTOMER],
      );
      for (const p of phones.splice(0)) expect(await p.quit()).toBe(0);
    }, 40000);
  }
});
