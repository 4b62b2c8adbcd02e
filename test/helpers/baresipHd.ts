/**
 * Baresip phones on wideband codecs (G.722, Opus) or G.711, and the checks of what they
 * heard, for the HD media tests.
 *
 *   const pool = new HdPhonePool(() => server);
 *   const agent = await pool.phone('1001', 'g722', HD_AGENT);
 *   …
 *   expectVoices('agent hears the customer', heardHd(agent), [HD_CUSTOMER], [HD_SUPERVISOR]);
 *
 * Every speaker is a *voice*: a low tone every codec carries and a high tone above 4 kHz
 * that only a wideband path keeps. A phone's microphone (baresip's `aufile`) is a WAV at
 * its codec's own rate and channel count (verified: G.722 wants 16 kHz mono, Opus 48 kHz
 * stereo, G.711 8 kHz mono; otherwise baresip sends no audio), made with sox; a G.711
 * phone's WAV cannot hold the high tone, so it plays the low one alone. What a phone heard
 * (`dump-*-dec.wav`) is written by baresip at its codec's rate (8, 16 or 48 kHz) and is
 * analysed at that rate.
 *
 * The tones are chosen so that every by-product of a bad resampler lands on a frequency of
 * its own: a 16 kHz mix decimated to 8 kHz without a low-pass folds a high tone f onto
 * 8000 − f (the *alias*: 5200 → 2800, 6000 → 2000, 6600 → 1400); an 8 kHz source upsampled
 * to 16 kHz without an interpolation filter mirrors a low tone f onto 8000 − f (the
 * *image*: 440 → 7560, 1000 → 7000, 1800 → 6200). None of these is within 100 Hz of
 * another tone (the detector's resolution, see goertzel.ts), all high tones sit inside
 * G.722's upper band (4–7 kHz) with room below its 7 kHz roll-off, and 7000 Hz is left out
 * on purpose (its alias would be the agent's 1000 Hz).
 */
import { expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startBaresip, type BaresipPhone } from './baresip.js';
import {
  analyzeTone,
  describeTone,
  hasTone,
  lacksTone,
  readWav,
  type PcmAudio,
} from './goertzel.js';
import { makeTempDir } from './processes.js';
import { type ServerHandle } from './server.js';

/** The codecs a test phone can run (baresip's names). */
export type PhoneCodec = 'pcmu' | 'pcma' | 'g722' | 'opus';

export interface CodecProfile {
  readonly codec: PhoneCodec;
  /** The account's `audio_codecs` value (the rate is needed: `g722` alone is refused). */
  readonly audioCodecs: string;
  /** The microphone WAV's rate and channels, which aufile requires to match the codec. */
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  /** Whether the codec carries audio above 4 kHz. */
  readonly wideband: boolean;
  /** Baresip modules the codec needs beside the recipe's g711.so. */
  readonly modules: readonly string[];
}

export const CODEC_PROFILES: Readonly<Record<PhoneCodec, CodecProfile>> = {
  pcmu: {
    codec: 'pcmu',
    audioCodecs: 'pcmu',
    sampleRate: 8000,
    channels: 1,
    wideband: false,
    modules: [],
  },
  pcma: {
    codec: 'pcma',
    audioCodecs: 'pcma',
    sampleRate: 8000,
    channels: 1,
    wideband: false,
    modules: [],
  },
  g722: {
    codec: 'g722',
    audioCodecs: 'g722/16000/1',
    sampleRate: 16000,
    channels: 1,
    wideband: true,
    modules: ['g722.so'],
  },
  opus: {
    codec: 'opus',
    audioCodecs: 'opus/48000/2',
    sampleRate: 48000,
    channels: 2,
    wideband: true,
    modules: ['opus.so'],
  },
};

/**
 * The server's codec list for the HD tests: every codec the server should offer and
 * accept, stated in full (the default may stay G.711 only).
 */
export const HD_CODECS = ['G722', 'opus', 'PCMU', 'PCMA'] as const;

/** The config override that enables HD_CODECS (one place, should the key move). */
export function hdCodecConfig(codecs: readonly string[] = HD_CODECS): {
  calls: { codecs: string[] };
} {
  return { calls: { codecs: [...codecs] } };
}

/** A speaker: a low tone (any codec) and a high one above 4 kHz (wideband only). */
export interface Voice {
  readonly name: string;
  readonly low: number;
  readonly high: number;
}

export const HD_CUSTOMER: Voice = { name: 'customer', low: 440, high: 5200 };
export const HD_AGENT: Voice = { name: 'agent', low: 1000, high: 6000 };
export const HD_SUPERVISOR: Voice = { name: 'supervisor', low: 1800, high: 6600 };

/** Where a tone above 4 kHz lands when a 16 kHz signal is decimated with no low-pass. */
export const aliasOf = (hz: number): number => 8000 - hz;
/** Where a tone below 4 kHz is mirrored when 8 kHz audio is upsampled with no filter. */
export const imageOf = (hz: number): number => 8000 - hz;

/** The tones a phone on `codec` plays for `voice` (the high one only when wideband). */
export function voiceTones(voice: Voice, codec: PhoneCodec): number[] {
  return CODEC_PROFILES[codec].wideband ? [voice.low, voice.high] : [voice.low];
}

/**
 * Writes the microphone WAV for `codec` with sox: 16-bit at the codec's rate and channel
 * count, each of the (one or two) tones at `amplitude` of full scale (default 0.2, so that
 * four voices' tones mixed stay below full scale).
 */
export function makeCodecToneWav(
  file: string,
  tones: readonly number[],
  seconds: number,
  codec: PhoneCodec,
  amplitude = 0.2,
): string {
  if (tones.length < 1 || tones.length > 2) throw new Error('one or two tones per WAV');
  const p = CODEC_PROFILES[codec];
  for (const f of tones) {
    if (f <= 0 || f >= p.sampleRate / 2 - 100) {
      throw new Error(`${f} Hz does not fit a ${p.sampleRate} Hz WAV`);
    }
  }
  // One synth per tone: the first makes the tone, the second `mix`es its own onto it; a
  // single synth with two specs would put them on separate channels (or drop the second
  // in a mono file). The mix halves each tone, so `vol` is twice the per-tone amplitude.
  // Mono first, then `channels` copies it to both sides for Opus.
  const args = ['-r', String(p.sampleRate), '-c', '1', '-n', '-b', '16', file];
  args.push('synth', String(seconds), 'sine', String(tones[0]));
  if (tones.length === 2) args.push('synth', String(seconds), 'sine', 'mix', String(tones[1]));
  args.push('vol', String(tones.length === 2 ? 2 * amplitude : amplitude));
  if (p.channels === 2) args.push('channels', '2');
  const r = spawnSync('sox', args, { encoding: 'utf8', timeout: 30000 });
  if (r.error || r.status !== 0) {
    throw new Error(`sox ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  }
  return file;
}

export interface HdPhoneOptions {
  readonly user: string;
  readonly password?: string;
  /** Where the account's AOR points (the server's SIP port; any port for a direct call). */
  readonly serverPort: number;
  readonly codec: PhoneCodec;
  readonly voice: Voice;
  /** Length of the microphone WAV (default 60 s; aufile hangs up when it ends). */
  readonly seconds?: number;
  /** 0: do not register (a phone called directly). Default 60. */
  readonly regint?: number;
  readonly lifetimeSec?: number;
}

/** A baresip phone on `codec`, playing `voice`'s tones from a WAV at the codec's rate. */
export async function startHdPhone(opts: HdPhoneOptions): Promise<BaresipPhone> {
  const p = CODEC_PROFILES[opts.codec];
  const dir = makeTempDir(`hdtone-${opts.user}`);
  const wav = makeCodecToneWav(
    path.join(dir, `${opts.voice.name}-${opts.codec}.wav`),
    voiceTones(opts.voice, opts.codec),
    opts.seconds ?? 60,
    opts.codec,
  );
  return startBaresip({
    user: opts.user,
    password: opts.password ?? `pw${opts.user}`,
    serverPort: opts.serverPort,
    toneWav: wav,
    alsoRemove: dir,
    audioCodecs: p.audioCodecs,
    modules: p.modules,
    ...(opts.regint !== undefined ? { regint: opts.regint } : {}),
    ...(opts.lifetimeSec !== undefined ? { lifetimeSec: opts.lifetimeSec } : {}),
  });
}

/** HD phones registered to a server, killed together by a test's afterEach. */
export class HdPhonePool {
  private phones: BaresipPhone[] = [];

  constructor(private readonly server: () => ServerHandle) {}

  get all(): readonly BaresipPhone[] {
    return [...this.phones];
  }

  /** Starts a phone for extension `user` (password pw<user>) and waits until it registered. */
  async phone(user: string, codec: PhoneCodec, voice: Voice): Promise<BaresipPhone> {
    const p = await startHdPhone({ user, serverPort: this.server().sipPort, codec, voice });
    this.phones.push(p);
    await p.waitForRegistration(10000);
    return p;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.phones.map((p) => p.kill()));
    this.phones = [];
  }
}

/** What a phone heard: its single `dec` recording, at the rate baresip wrote it. */
export function heardHd(phone: BaresipPhone): PcmAudio {
  const { dec } = phone.recordings();
  expect(dec).toHaveLength(1);
  return readWav(dec[0]!);
}

/** Whether audio at this rate can carry a tone above 4 kHz at all. */
export const isWidebandAudio = (audio: PcmAudio): boolean => audio.sampleRate >= 16000;

export interface VoiceExpectation {
  /** Tones that must be there. */
  readonly present: number[];
  /** Tones (and aliases, images) that must not be. */
  readonly absent: number[];
}

/**
 * The tones a stretch of audio must and must not carry when it should hold the voices
 * `present` (heard from phones on codecs `from`, by name) and never `absent`:
 *
 * - a present voice's low tone is there; its high tone is there when the listener's audio
 *   is wideband and the speaker's codec is (HD kept end to end); in any case the high
 *   tone's alias is not (a 16 kHz mix decimated with a proper low-pass drops the tone,
 *   it does not fold it), nor, in wideband audio, the low tone's image (a narrowband
 *   source upsampled with an interpolation filter);
 * - an absent voice: none of its tones, nor the alias of its high tone.
 */
export function voiceExpectation(
  audio: PcmAudio,
  present: readonly { voice: Voice; codec: PhoneCodec }[],
  absent: readonly Voice[],
): VoiceExpectation {
  const wide = isWidebandAudio(audio);
  const out: VoiceExpectation = { present: [], absent: [] };
  for (const { voice, codec } of present) {
    out.present.push(voice.low);
    if (wide && CODEC_PROFILES[codec].wideband) out.present.push(voice.high);
    out.absent.push(aliasOf(voice.high));
    if (wide && !CODEC_PROFILES[codec].wideband) out.absent.push(imageOf(voice.low));
  }
  for (const voice of absent) {
    out.absent.push(voice.low, aliasOf(voice.high));
    if (wide) out.absent.push(voice.high);
  }
  return out;
}

/** Asserts voiceExpectation's verdict, with the tone analysis in the failure message. */
export function expectVoices(
  label: string,
  audio: PcmAudio,
  present: readonly { voice: Voice; codec: PhoneCodec }[],
  absent: readonly Voice[],
): void {
  const want = voiceExpectation(audio, present, absent);
  const verdict = {
    label,
    sampleRate: audio.sampleRate,
    missing: want.present.filter((f) => !hasTone(audio, f)),
    leaked: want.absent.filter((f) => !lacksTone(audio, f)),
  };
  const detail = [...want.present, ...want.absent].map((f) => describeTone(analyzeTone(audio, f)));
  expect({ ...verdict, detail }).toMatchObject({ label, missing: [], leaked: [] });
}
