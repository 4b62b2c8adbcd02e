/**
 * The monitoring soak's scene (monitoring-soak.test.ts): lanes of three real baresip
 * phones (customer, agent, supervisor, each sending its own tone) on one server, a
 * seeded PRNG that picks what happens next, and tone checks on what each phone actually
 * received in windows cut by the bytes its `dec` recording had at the window's ends (so a
 * window is exactly the audio heard between two instants, whatever the phone's clock).
 *
 *   const rng = prng(seed);
 *   const lane = await SoakLane.start(server, { agent: '1001', customer: '1002', supervisor: '1005' });
 *   await lane.newCall();  …  lane.expectRoutes(label)  …  await lane.endCall('agent');
 *   await lane.close();
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { apiRequest } from '../helpers/api.js';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.js';
import { EventStreamClient, type StreamEvent } from '../helpers/eventStream.js';
import { analyzeTone, describeTone, hasTone, lacksTone, parseWav } from '../helpers/goertzel.js';
import { sleep } from '../helpers/phoneScene.js';
import { TEST_ADMIN_TOKEN, type HttpResult, type ServerHandle } from '../helpers/server.js';

export const CUSTOMER_HZ = 440;
export const AGENT_HZ = 1000;
export const SUPERVISOR_HZ = 1800;

export type Mode = 'listen' | 'whisper' | 'barge';
export const MODES: readonly Mode[] = ['listen', 'whisper', 'barge'];

export { prng } from '../helpers/prng.js';

/** Who must hear whom (DESIGN's route matrix), by the supervisor's mode (null: none). */
export function expectedRoutes(
  mode: Mode | null,
): Record<'customer' | 'agent' | 'supervisor', { present: number[]; absent: number[] }> {
  const C = CUSTOMER_HZ;
  const A = AGENT_HZ;
  const S = SUPERVISOR_HZ;
  return {
    customer:
      mode === 'barge' ? { present: [A, S], absent: [C] } : { present: [A], absent: [C, S] },
    agent:
      mode === 'whisper' || mode === 'barge'
        ? { present: [C, S], absent: [A] }
        : { present: [C], absent: [A, S] },
    supervisor: { present: [C, A], absent: [S] },
  };
}

/** Byte offset of the `data` chunk's samples in a (possibly still written) WAV. */
function dataOffset(buf: Buffer): number {
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'data') return off + 8;
    off += 8 + size + (size & 1);
  }
  throw new Error('no data chunk');
}

/** The audio of one call of one phone: its `dec` WAV, found once it appears. */
class HeardFile {
  private file: string | undefined;

  constructor(
    private readonly phone: BaresipPhone,
    private readonly before: ReadonlySet<string>,
    /** `dec`: what the phone heard; `enc`: what it sent. */
    private readonly kind: 'dec' | 'enc' = 'dec',
  ) {}

  static mark(phone: BaresipPhone, kind: 'dec' | 'enc' = 'dec'): Set<string> {
    return new Set(phone.recordings()[kind]);
  }

  /** Waits until the call's new dec file exists (sndfile opens it when audio starts). */
  async resolve(timeoutMs = 3000): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (this.file === undefined) {
      const fresh = this.phone.recordings()[this.kind].filter((f) => !this.before.has(f));
      if (fresh.length === 1) this.file = fresh[0]!;
      else if (fresh.length > 1)
        throw new Error(`${this.phone.user}: ${fresh.length} new ${this.kind} files`);
      else if (Date.now() > end)
        throw new Error(`${this.phone.user}: no ${this.kind} file for the call`);
      else await sleep(20);
    }
    return this.file;
  }

  size(): number {
    return this.file === undefined ? 0 : statSync(this.file).size;
  }

  /** Samples heard between two sizes of the file. */
  samples(from: number, to: number): { samples: Int16Array; sampleRate: number } {
    const buf = readFileSync(this.file!);
    const data = dataOffset(buf);
    const rate = parseWav(buf.subarray(0, Math.min(buf.length, data))).sampleRate;
    const a = Math.max(data, from);
    const b = Math.min(buf.length, to);
    const n = Math.max(0, Math.floor((b - a) / 2));
    const samples = new Int16Array(n);
    const start = a + ((a - data) & 1);
    for (let i = 0; i < n && start + i * 2 + 1 < buf.length; i++) {
      samples[i] = buf.readInt16LE(start + i * 2);
    }
    return { samples, sampleRate: rate };
  }
}

export interface LaneExtensions {
  agent: string;
  customer: string;
  supervisor: string;
}

export interface RouteFailure {
  label: string;
  phone: string;
  missing: number[];
  leaked: number[];
  detail: string[];
}

/** The tone verdict of one window for one phone. */
function verdict(
  label: string,
  phone: string,
  audio: { samples: Int16Array; sampleRate: number },
  present: readonly number[],
  absent: readonly number[],
): RouteFailure | undefined {
  const missing = present.filter((f) => !hasTone(audio, f));
  const leaked = absent.filter((f) => !lacksTone(audio, f));
  if (missing.length === 0 && leaked.length === 0) return undefined;
  return {
    label,
    phone,
    missing,
    leaked,
    detail: [...present, ...absent].map((f) => describeTone(analyzeTone(audio, f))),
  };
}

export interface Window {
  label: string;
  mode: Mode | null;
}

/**
 * One lane: its three phones, the call between customer and agent, and the supervisor's
 * session on it. Every step waits for the server's acknowledgement (an API reply, an
 * event of the event stream, a monitor's state) before its window opens.
 */
export class SoakLane {
  callId: string | undefined;
  /** The supervisor's session: its id and mode, null when not monitoring. */
  session: { id: string; mode: Mode } | null = null;
  private heard: Partial<Record<'customer' | 'agent' | 'supervisor', HeardFile>> = {};
  /** What each phone sent (its `enc` recording): a silent phone vs a lost route. */
  private sent: Partial<Record<'customer' | 'agent' | 'supervisor', HeardFile>> = {};
  private supervisorSentMark: Set<string> = new Set();
  private supervisorMark: Set<string> = new Set();
  /** Every window's failure so far (the test asserts there are none). */
  readonly failures: RouteFailure[] = [];
  readonly log: string[] = [];

  private constructor(
    readonly name: string,
    readonly server: ServerHandle,
    readonly ext: LaneExtensions,
    readonly phones: Record<'customer' | 'agent' | 'supervisor', BaresipPhone>,
    readonly events: EventStreamClient,
  ) {}

  static async start(
    name: string,
    server: ServerHandle,
    ext: LaneExtensions,
    started: BaresipPhone[],
  ): Promise<SoakLane> {
    const phone = async (user: string, hz: number): Promise<BaresipPhone> => {
      const p = await startBaresip({
        user,
        password: `pw${user}`,
        serverPort: server.sipPort,
        toneHz: hz,
        toneSeconds: 120,
        lifetimeSec: 900,
      });
      started.push(p);
      await p.waitForRegistration(10000);
      return p;
    };
    const agent = await phone(ext.agent, AGENT_HZ);
    const customer = await phone(ext.customer, CUSTOMER_HZ);
    const supervisor = await phone(ext.supervisor, SUPERVISOR_HZ);
    const events = await EventStreamClient.connect(server.httpPort, {
      token: TEST_ADMIN_TOKEN.token,
    });
    return new SoakLane(name, server, ext, { agent, customer, supervisor }, events);
  }

  async close(): Promise<void> {
    await this.events.close();
  }

  note(text: string): void {
    this.log.push(`${new Date().toISOString()} ${this.name} ${text}`);
  }

  private api(method: string, url: string, body?: unknown): Promise<HttpResult> {
    return apiRequest(this.server.httpPort, method, url, body === undefined ? {} : { body });
  }

  /** Where the event stream is now: events after this mark answer a step's wait. */
  private mark(): number {
    return this.events.received.length;
  }

  /** The first event after `mark` that matches (events before it belong to earlier steps). */
  private async event(
    mark: number,
    match: (e: StreamEvent) => boolean,
    what: string,
    timeoutMs = 8000,
  ): Promise<StreamEvent> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.received.slice(mark).find(match);
      if (found !== undefined) return found;
      if (Date.now() > end) {
        const seen = this.events.received
          .slice(mark)
          .map((e) => `${e.type} ${String(e.sessionId)}`);
        throw new Error(
          `${this.name}: no ${what} within ${timeoutMs} ms (after: ${seen.join(', ')})`,
        );
      }
      await sleep(20);
    }
  }

  // -------------------------------------------------------------------------------------
  // Calls

  /**
   * A call between customer and agent (`direction` 'to-agent': the customer calls the
   * agent; 'from-agent': the agent calls the customer — in an internal call the callee
   * is the agent until a supervisor targets the caller, so the roles swap at attach);
   * resolves once both phones are up and the call is listed.
   */
  async newCall(direction: 'to-agent' | 'from-agent' = 'to-agent'): Promise<void> {
    const { customer, agent } = this.phones;
    const marks = { customer: HeardFile.mark(customer), agent: HeardFile.mark(agent) };
    const sentMarks = {
      customer: HeardFile.mark(customer, 'enc'),
      agent: HeardFile.mark(agent, 'enc'),
    };
    const [caller, callee] = direction === 'to-agent' ? [customer, agent] : [agent, customer];
    const r = await caller.command('dial', `sip:${callee.user}@127.0.0.1:${this.server.sipPort}`);
    if (!r.ok) throw new Error(`${this.name}: dial failed: ${r.data}`);
    await caller.waitForEvent('CALL_ESTABLISHED', 10000);
    await callee.waitForEvent('CALL_ESTABLISHED', 10000);
    this.heard.customer = new HeardFile(customer, marks.customer);
    this.heard.agent = new HeardFile(agent, marks.agent);
    this.sent.customer = new HeardFile(customer, sentMarks.customer, 'enc');
    this.sent.agent = new HeardFile(agent, sentMarks.agent, 'enc');
    await Promise.all([this.heard.customer.resolve(), this.heard.agent.resolve()]);
    const end = Date.now() + 5000;
    for (;;) {
      // An internal call's listed agent is its callee: the agent's call is found by
      // either side.
      const calls = (await this.api('GET', `/v1/calls?agent=${callee.user}`)).json as {
        calls: Array<{ id: string; state: string }>;
      };
      const live = calls.calls.find((c) => c.state === 'answered');
      if (live !== undefined) {
        this.callId = live.id;
        break;
      }
      if (Date.now() > end) throw new Error(`${this.name}: the call is not listed`);
      await sleep(50);
    }
    this.note(`call ${this.callId} (${direction})`);
  }

  /** `who` hangs up; resolves once every phone of the call (the supervisor's too) closed it. */
  async endCall(who: 'agent' | 'customer'): Promise<string> {
    const callId = this.callId!;
    const other = who === 'agent' ? 'customer' : 'agent';
    const session = this.session;
    const mark = this.mark();
    this.note(`${who} hangs up`);
    await this.phones[who].command('hangup');
    await this.phones[who].waitForEvent('CALL_CLOSED', 10000);
    await this.phones[other].waitForEvent('CALL_CLOSED', 10000);
    if (session !== null) {
      await this.event(
        mark,
        (e) => e.type === 'monitor.ended' && e.sessionId === session.id,
        'monitor.ended after the call',
      );
      await this.phones.supervisor.waitForEvent('CALL_CLOSED', 10000);
    }
    this.session = null;
    this.callId = undefined;
    this.heard = {};
    this.sent = {};
    return callId;
  }

  // -------------------------------------------------------------------------------------
  // The supervisor

  private beforeJoin(): void {
    this.supervisorMark = HeardFile.mark(this.phones.supervisor);
    this.supervisorSentMark = HeardFile.mark(this.phones.supervisor, 'enc');
  }

  private async joined(id: string, mode: Mode): Promise<void> {
    this.session = { id, mode };
    this.heard.supervisor = new HeardFile(this.phones.supervisor, this.supervisorMark);
    this.sent.supervisor = new HeardFile(this.phones.supervisor, this.supervisorSentMark, 'enc');
    await this.heard.supervisor.resolve();
  }

  /** Waits until the call lists the session as active in `mode` (attached, applied). */
  private async active(id: string, mode: Mode): Promise<void> {
    const end = Date.now() + 8000;
    for (;;) {
      const call = (await this.api('GET', `/v1/calls/${this.callId!}`)).json as {
        monitors?: Array<{ id: string; state: string; mode: string }>;
      };
      const m = call.monitors?.find((x) => x.id === id);
      if (m?.state === 'active' && m.mode === mode) return;
      if (Date.now() > end) {
        throw new Error(
          `${this.name}: session ${id} not active in ${mode}: ${JSON.stringify(call)}`,
        );
      }
      await sleep(30);
    }
  }

  /** The supervisor dials the feature code (*90 listen, *91 whisper, *92 barge). */
  async joinByFeatureCode(mode: Mode): Promise<void> {
    this.beforeJoin();
    const code = { listen: '*90', whisper: '*91', barge: '*92' }[mode];
    this.note(`join ${mode} by feature code`);
    const mark = this.mark();
    const sup = this.phones.supervisor;
    const r = await sup.command(
      'dial',
      `sip:${code}${this.ext.agent}@127.0.0.1:${this.server.sipPort}`,
    );
    if (!r.ok) throw new Error(`${this.name}: dial ${code} failed: ${r.data}`);
    // 'monitor.started' is published once the leg is in the room in its mode.
    const e = await this.event(
      mark,
      (x) => x.type === 'monitor.started' && x.supervisor === this.ext.supervisor,
      'monitor.started (feature code)',
    );
    await sup.waitForEvent('CALL_ESTABLISHED', 10000);
    await this.joined(String(e.sessionId), mode);
  }

  /**
   * A PATCH sent right after the start was accepted (the phone is being called, or
   * answering): the session must end up attached in the new mode.
   */
  private async racingChange(id: string, mode: Mode, racing: Mode | null): Promise<Mode> {
    if (racing === null) return mode;
    this.note(`  racing PATCH → ${racing}`);
    const r = await this.api('PATCH', `/v1/monitors/${id}`, { mode: racing });
    if (r.status !== 200) throw new Error(`${this.name}: racing PATCH ${r.status} ${r.body}`);
    return racing;
  }

  /** POST /v1/calls/{id}/monitors: the server calls the supervisor's phone. */
  async joinByApi(mode: Mode, racing: Mode | null = null): Promise<void> {
    this.beforeJoin();
    this.note(`join ${mode} by REST`);
    const r = await this.api('POST', `/v1/calls/${this.callId!}/monitors`, {
      supervisor: this.ext.supervisor,
      mode,
    });
    if (r.status !== 201) throw new Error(`${this.name}: POST monitors ${r.status} ${r.body}`);
    const id = (r.json as { id: string }).id;
    const final = await this.racingChange(id, mode, racing);
    await this.phones.supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    await this.active(id, final);
    await this.joined(id, final);
  }

  /** The Yeastar endpoint (POST /api/v1.1.0/extension/{mode}?token=…). */
  async joinByYeastar(mode: Mode, racing: Mode | null = null): Promise<void> {
    this.beforeJoin();
    this.note(`join ${mode} by Yeastar`);
    const fields = {
      listen: ['listener', 'listenedext'],
      whisper: ['whisperer', 'whisperedext'],
      barge: ['bargein', 'bargedext'],
    }[mode];
    const mark = this.mark();
    const url = `/api/v1.1.0/extension/${mode}?token=${encodeURIComponent(TEST_ADMIN_TOKEN.token)}`;
    const r = await apiRequest(this.server.httpPort, 'POST', url, {
      token: null,
      body: { [fields[0]!]: this.ext.supervisor, [fields[1]!]: this.ext.agent },
    });
    if ((r.json as { status?: string } | undefined)?.status !== 'Success') {
      throw new Error(`${this.name}: Yeastar ${mode}: ${r.status} ${r.body}`);
    }
    const e = await this.event(
      mark,
      (x) => x.type === 'monitor.started' && x.supervisor === this.ext.supervisor,
      'monitor.started (Yeastar)',
    );
    const id = String(e.sessionId);
    const final = await this.racingChange(id, mode, racing);
    await this.phones.supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    await this.active(id, final);
    await this.joined(id, final);
  }

  /** A DTMF digit from the supervisor's phone (4 listen, 5 whisper, 6 barge). */
  async modeByDtmf(mode: Mode): Promise<void> {
    const s = this.session!;
    this.note(`${s.mode} → ${mode} by DTMF`);
    const digit = { listen: '4', whisper: '5', barge: '6' }[mode];
    const mark = this.mark();
    const r = await this.phones.supervisor.command('sndcode', digit);
    if (!r.ok) throw new Error(`${this.name}: sndcode failed`);
    await this.event(
      mark,
      (e) => e.type === 'monitor.mode-changed' && e.sessionId === s.id && e.mode === mode,
      `monitor.mode-changed to ${mode}`,
    );
    s.mode = mode;
  }

  /** PATCH /v1/monitors/{id}: replies once the room has the new mode. */
  async modeByApi(mode: Mode): Promise<void> {
    const s = this.session!;
    this.note(`${s.mode} → ${mode} by PATCH`);
    const r = await this.api('PATCH', `/v1/monitors/${s.id}`, { mode });
    if (r.status !== 200) throw new Error(`${this.name}: PATCH ${r.status} ${r.body}`);
    s.mode = mode;
  }

  /** DELETE /v1/monitors/{id}: the supervisor's leg leaves and gets a BYE. */
  async leaveByApi(): Promise<void> {
    const s = this.session!;
    this.note('leave by DELETE');
    const r = await this.api('DELETE', `/v1/monitors/${s.id}`);
    if (r.status !== 204) throw new Error(`${this.name}: DELETE ${r.status} ${r.body}`);
    await this.phones.supervisor.waitForEvent('CALL_CLOSED', 10000);
    this.session = null;
    delete this.heard.supervisor;
    delete this.sent.supervisor;
  }

  /** The supervisor hangs up. */
  async leaveByHangup(): Promise<void> {
    const s = this.session!;
    this.note('leave by hang-up');
    const mark = this.mark();
    await this.phones.supervisor.command('hangup');
    await this.event(
      mark,
      (e) => e.type === 'monitor.ended' && e.sessionId === s.id,
      'monitor.ended (hang-up)',
    );
    await this.phones.supervisor.waitForEvent('CALL_CLOSED', 10000);
    this.session = null;
    delete this.heard.supervisor;
    delete this.sent.supervisor;
  }

  // -------------------------------------------------------------------------------------
  // Checks

  /**
   * Lets the change settle (`settleMs`: jitter buffers, beeps), then listens for
   * `windowMs` and checks every route of the current state on what each phone received.
   * Failures are collected (with the lane's log) rather than thrown, so the run goes on.
   */
  async checkRoutes(label: string, settleMs: number, windowMs: number): Promise<boolean> {
    const mode = this.session?.mode ?? null;
    await sleep(settleMs);
    const who = (['customer', 'agent', 'supervisor'] as const).filter((w) => this.heard[w]);
    const from = Object.fromEntries(who.map((w) => [w, this.heard[w]!.size()]));
    const sentFrom = await this.sentSizes();
    const metricsFrom = await this.metrics();
    await sleep(windowMs);
    // A phone starved of CPU (the machine is shared) may have written less than the
    // window's audio: listen on (the state is stable) until each has 80 % of it, or give
    // up at three windows and judge what there is.
    const want = (windowMs * 8000 * 2 * 0.8) / 1000;
    for (let extra = 0; extra < 2 * windowMs; extra += 100) {
      if (who.every((w) => this.heard[w]!.size() - from[w]! >= want)) break;
      await sleep(100);
    }
    const to = Object.fromEntries(who.map((w) => [w, this.heard[w]!.size()]));
    const routes = expectedRoutes(mode);
    let ok = true;
    for (const w of who) {
      const audio = this.heard[w]!.samples(from[w]!, to[w]!);
      const v = verdict(
        `${this.name} ${label} [${mode ?? 'unmonitored'}]`,
        w,
        audio,
        routes[w].present,
        routes[w].absent,
      );
      if (v !== undefined) {
        ok = false;
        this.failures.push(v);
        this.note(`FAILED ${w}: ${JSON.stringify(v)}`);
      }
    }
    if (!ok) {
      const sentTo = await this.sentSizes();
      const sent = Object.keys(sentTo).map(
        (w) => `${w} sent ${sentTo[w]! - (sentFrom[w] ?? 0)} B (heard ${to[w]! - from[w]!} B)`,
      );
      this.note(`  in the window: ${sent.join('; ')}`);
      await this.diagnose(metricsFrom);
    }
    return ok;
  }

  /** Sizes of the phones' `enc` recordings now (what each has sent so far). */
  private async sentSizes(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const w of ['customer', 'agent', 'supervisor'] as const) {
      const f = this.sent[w];
      if (f === undefined) continue;
      try {
        await f.resolve(200);
        out[w] = f.size();
      } catch {
        out[w] = -1; // the phone has not opened its encoder file: it sent nothing yet
      }
    }
    return out;
  }

  /** The server's media counters (/metrics): RTP drops by reason, jitter, mixer. */
  private async metrics(): Promise<Map<string, number>> {
    const r = await apiRequest(this.server.httpPort, 'GET', '/metrics', {});
    const out = new Map<string, number>();
    for (const line of r.body.split('\n')) {
      if (!/^callwatch_(rtp|mixer|media|jitter)/.test(line)) continue;
      const at = line.lastIndexOf(' ');
      const value = Number(line.slice(at + 1));
      if (Number.isFinite(value)) out.set(line.slice(0, at), value);
    }
    return out;
  }

  /**
   * What the server knows after a failed window: the call as the API lists it, the media
   * counters that moved since the window opened (drops by reason, jitter buffers: late,
   * concealed, resets…) and the server's warnings and errors about the call.
   */
  async diagnose(before: Map<string, number>): Promise<void> {
    const id = this.callId;
    if (id !== undefined) {
      const call = await this.api('GET', `/v1/calls/${id}`);
      this.note(`  GET /v1/calls/${id}: ${call.status} ${call.body}`);
    }
    // Workers report every few seconds: let the window's last report arrive.
    await sleep(2500);
    const after = await this.metrics();
    const moved = [...after]
      .filter(([k, v]) => v !== (before.get(k) ?? 0) && !k.includes('_bucket'))
      .map(([k, v]) => `${k} ${before.get(k) ?? 0} → ${v}`);
    this.note(`  metrics moved: ${moved.join('\n    ')}`);
    const logs = this.server
      .logs()
      .filter(
        (e) => (e.level as number) >= 40 || (id !== undefined && JSON.stringify(e).includes(id)),
      )
      .slice(-30)
      .map((e) => JSON.stringify(e));
    this.note(`  server logs (warn+ and this call's):\n    ${logs.join('\n    ')}`);
  }

  /**
   * The call's recording (customer left, agent right): the supervisor on neither track,
   * each track its own party only. `dir` is the server's recording directory.
   */
  checkRecording(file: string, label: string): void {
    const wav = parseWav(readFileSync(file));
    const skip = Math.round(wav.sampleRate * 0.5);
    const tracks: Array<[string, Int16Array, number[], number[]]> = [
      ['recording customer track', wav.channelData[0]!, [CUSTOMER_HZ], [AGENT_HZ, SUPERVISOR_HZ]],
      ['recording agent track', wav.channelData[1]!, [AGENT_HZ], [CUSTOMER_HZ, SUPERVISOR_HZ]],
    ];
    for (const [name, samples, present, absent] of tracks) {
      const audio = { samples: samples.subarray(skip), sampleRate: wav.sampleRate };
      const v = verdict(`${this.name} ${label}`, name, audio, present, absent);
      if (v !== undefined) {
        this.failures.push(v);
        this.note(`FAILED ${name}: ${JSON.stringify(v)}`);
      }
    }
  }
}

/** The completed recording (WAV) of call `callId`, once its sidecar says it ended. */
export async function recordingOf(dir: string, callId: string, timeoutMs = 5000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      try {
        const doc = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
          callId: string;
          endedAt: string | null;
        };
        if (doc.callId === callId && doc.endedAt !== null) {
          return path.join(dir, f.replace(/\.json$/, '.wav'));
        }
      } catch {
        // being written
      }
    }
    if (Date.now() > end) throw new Error(`no completed recording for ${callId}`);
    await sleep(50);
  }
}
