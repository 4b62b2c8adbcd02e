/**
 * Scaffolding for the integration tests that drive real baresip phones through the
 * server: a server with a media port block of its own, a pool of registered phones
 * playing tones, tone checks on what a phone (or a recording) heard, and polling.
 *
 *   server = await startPhoneServer({ monitoring: { … } }, EXTENSIONS);
 *   const phones = new PhonePool(() => server);
 *   const agent = await phones.phone('1001', 1000);
 *   …
 *   expectTones('agent, listen', toneWindow(heard, callAt, from, to), [440], [1800]);
 *   afterEach(() => phones.killAll());
 */
import { expect } from '@jest/globals';
import { startBaresip, type BaresipPhone } from './baresip.js';
import {
  analyzeTone,
  describeTone,
  hasTone,
  lacksTone,
  readWav,
  type PcmAudio,
} from './goertzel.js';
import { allocatePortBlock } from './ports.js';
import {
  PEER_AUTH,
  startServer,
  type ConfigObject,
  type ExtensionSpec,
  type ServerHandle,
} from './server.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` every 100 ms until it holds (true) or `timeoutMs` has passed (false).
 */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await sleep(100);
  }
}

/**
 * Starts the server for real phones: MD5-only digest (PEER_AUTH), one media worker and an
 * RTP range of its own — a free block of `portSpan` ports, from its first even port to
 * `portSpan - 3` above it — beside the given overrides (`media` merges with that) and
 * extensions.
 */
export async function startPhoneServer(
  overrides: ConfigObject,
  extensions: readonly ExtensionSpec[],
  portSpan = 60,
): Promise<ServerHandle> {
  let min = await allocatePortBlock(portSpan);
  if (min % 2 === 1) min += 1;
  const { media, ...rest } = overrides;
  return startServer(
    {
      ...PEER_AUTH,
      media: {
        portRange: { min, max: min + portSpan - 3 },
        workers: 1,
        ...(media as ConfigObject | undefined),
      },
      ...rest,
    },
    { extensions },
  );
}

/** The RTP port range a server was started with (`media.portRange`). */
export function rtpPortRange(server: ServerHandle): { min: number; max: number } {
  return (server.config.media as { portRange: { min: number; max: number } }).portRange;
}

/**
 * Baresip phones registered to a server, each playing its own tone, remembered so a
 * test's afterEach / afterAll can kill whatever is left.
 */
export class PhonePool {
  private phones: BaresipPhone[] = [];

  /** `server`: read when a phone starts (the server is usually started in beforeAll). */
  constructor(private readonly server: () => ServerHandle) {}

  /** The phones started and not yet forgotten, oldest first. */
  get all(): readonly BaresipPhone[] {
    return [...this.phones];
  }

  /** Starts a phone for extension `user` (password `pw<user>`) without waiting for it to register. */
  async spawn(user: string, toneHz: number, audioCodecs = 'pcmu'): Promise<BaresipPhone> {
    const p = await startBaresip({
      user,
      password: `pw${user}`,
      serverPort: this.server().sipPort,
      toneHz,
      audioCodecs,
    });
    this.phones.push(p);
    return p;
  }

  /** Starts a phone and waits (up to 10 s) until it registered. */
  async phone(user: string, toneHz: number, audioCodecs = 'pcmu'): Promise<BaresipPhone> {
    const p = await this.spawn(user, toneHz, audioCodecs);
    await p.waitForRegistration(10000);
    return p;
  }

  /** Forgets every phone (after the test quit them itself). */
  forget(): void {
    this.phones = [];
  }

  /** Kills every phone at once and forgets them. */
  async killAll(): Promise<void> {
    await Promise.all(this.phones.map((p) => p.kill()));
    this.phones = [];
  }
}

/** The tones of the monitoring scenes: a customer calls an agent, a supervisor joins. */
export const CUSTOMER_HZ = 440;
export const AGENT_HZ = 1000;
export const SUPERVISOR_HZ = 1800;

/** Tone windows start this long after a change (beeps, jitter buffers, DTMF end). */
export const SETTLE_MS = 800;
/** How long a scene stays in one phase (a monitoring mode) before the next change. */
export const PHASE_MS = 3000;

export interface MonitoringPhones {
  readonly agent: BaresipPhone;
  readonly customer: BaresipPhone;
  readonly supervisor: BaresipPhone;
}

/**
 * Starts and registers a monitoring scene's phones, in this order: the agent (1001,
 * AGENT_HZ), the customer (1002, CUSTOMER_HZ) and the supervisor (1005, SUPERVISOR_HZ).
 */
export async function startMonitoringPhones(pool: PhonePool): Promise<MonitoringPhones> {
  const agent = await pool.phone('1001', AGENT_HZ);
  const customer = await pool.phone('1002', CUSTOMER_HZ);
  const supervisor = await pool.phone('1005', SUPERVISOR_HZ);
  return { agent, customer, supervisor };
}

/** Samples of `audio` between two wall-clock times, given when its recording began. */
export function toneWindow(audio: PcmAudio, startedAt: number, from: number, to: number): PcmAudio {
  const rate = audio.sampleRate;
  const a = Math.max(0, Math.round(((from - startedAt) / 1000) * rate));
  const b = Math.max(a, Math.round(((to - startedAt) / 1000) * rate));
  return { sampleRate: rate, samples: audio.samples.subarray(a, b) };
}

/** A readable verdict for expect(): which tones a stretch of audio carries. */
export function describeTones(audio: PcmAudio, hz: readonly number[]): Record<number, string> {
  return Object.fromEntries(hz.map((f) => [f, describeTone(analyzeTone(audio, f))]));
}

/** Asserts that `audio` carries every tone of `present` and none of `absent`. */
export function expectTones(
  label: string,
  audio: PcmAudio,
  present: readonly number[],
  absent: readonly number[],
): void {
  const verdict = {
    label,
    present: present.filter((f) => !hasTone(audio, f)),
    absent: absent.filter((f) => !lacksTone(audio, f)),
  };
  expect({ ...verdict, detail: describeTones(audio, [...present, ...absent]) }).toMatchObject({
    label,
    present: [],
    absent: [],
  });
}

/** What a phone heard: its single `dec` recording (asserts there is exactly one). */
export function heardAudio(phone: BaresipPhone): PcmAudio {
  const { dec } = phone.recordings();
  expect(dec).toHaveLength(1);
  return readWav(dec[0]!);
}

/** One channel of a (multi-channel) WAV file, e.g. a call recording's customer or agent track. */
export function wavChannel(file: string, ch: number): PcmAudio {
  const wav = readWav(file);
  return { sampleRate: wav.sampleRate, samples: wav.channelData[ch]! };
}

/** The value of `callwatch_monitor_sessions_active{mode}` (undefined while absent). */
export async function activeSessions(
  server: ServerHandle,
  mode: string,
): Promise<number | undefined> {
  const samples = await server.metrics();
  return samples.find(
    (s) => s.name === 'callwatch_monitor_sessions_active' && s.labels.mode === mode,
  )?.value;
}

/** `caller` dials `number` on the server; resolves once both phones have the call up. */
export async function dialAndAnswer(
  server: ServerHandle,
  caller: BaresipPhone,
  callee: BaresipPhone,
  number: string,
): Promise<void> {
  expect((await caller.command('dial', `sip:${number}@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
  await caller.waitForEvent('CALL_ESTABLISHED', 10000);
  await callee.waitForEvent('CALL_ESTABLISHED', 10000);
}
