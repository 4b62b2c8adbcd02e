/**
 * A monitored call for mixer tests: three fake phones (customer, agent, supervisor), a leg
 * each on one worker (one group), and a room. Each phone can talk its own tone,
 * continuously, paced by a drift-free timer; what each phone received is cut into the
 * time windows of the test's phases and judged by tone detection.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Leg } from '../../../media/engine/leg.js';
import type { MediaLogger } from '../../../media/engine/logger.js';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import type { Room, RoomRoutesSpec } from '../../../media/engine/room.js';
import type { MonitorMode } from '../../../src/monitoring/modes.js';
import { roomRoutes } from '../../../src/monitoring/routeMatrix.js';
import type { Participant } from '../../../src/monitoring/routeMatrix.js';
import { createLegFor } from './callFixture.js';
import { FakePhone, Tone } from './fakePhone.js';
import type { Law, RtpIn } from './fakePhone.js';

/** Mixer test tones (docs/architecture.md §13.2): customer 440 Hz, agent 1000 Hz, supervisor 1800 Hz. */
export const CUSTOMER_HZ = 440;
export const AGENT_HZ = 1000;
export const SUPERVISOR_HZ = 1800;

/**
 * Who hears which tone in each mode (docs/architecture.md §6.1); `none` is an unmonitored
 * call, and after a takeover the released agent hears nothing.
 */
export const HEARS: Record<
  MonitorMode | 'none',
  Record<'customer' | 'agent' | 'supervisor', number[]>
> = {
  none: { customer: [AGENT_HZ], agent: [CUSTOMER_HZ], supervisor: [] },
  listen: { customer: [AGENT_HZ], agent: [CUSTOMER_HZ], supervisor: [CUSTOMER_HZ, AGENT_HZ] },
  whisper: {
    customer: [AGENT_HZ],
    agent: [CUSTOMER_HZ, SUPERVISOR_HZ],
    supervisor: [CUSTOMER_HZ, AGENT_HZ],
  },
  barge: {
    customer: [AGENT_HZ, SUPERVISOR_HZ],
    agent: [CUSTOMER_HZ, SUPERVISOR_HZ],
    supervisor: [CUSTOMER_HZ, AGENT_HZ],
  },
  takeover: { customer: [SUPERVISOR_HZ], agent: [], supervisor: [CUSTOMER_HZ] },
};

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg: string | undefined;
}

/** A MediaLogger that keeps every entry (tests assert no errors were logged). */
export function captureLogger(entries: LogEntry[] = []): MediaLogger & { entries: LogEntry[] } {
  const make = (bindings: object): MediaLogger & { entries: LogEntry[] } => {
    const at =
      (level: LogEntry['level']) =>
      (obj: object, msg?: string): void => {
        entries.push({ level, obj: { ...bindings, ...obj }, msg });
      };
    return {
      entries,
      child: (more) => make({ ...bindings, ...more }),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
    };
  };
  return make({});
}

/** Errors and warnings only, readable in an assertion message. */
export function problems(entries: readonly LogEntry[]): string[] {
  return entries
    .filter((e) => e.level === 'error' || e.level === 'warn')
    .map((e) => `${e.level}: ${e.msg ?? ''} ${JSON.stringify(e.obj)}`);
}

/**
 * A phone talking continuously: one PCMU packet per 20 ms on a drift-free schedule, until
 * stop(). Packets go to `port` (its leg's RTP port).
 */
export class Talker {
  private timer: NodeJS.Timeout | undefined;
  private readonly tone: Tone;
  private sent = 0;
  private start = 0;

  constructor(
    readonly phone: FakePhone,
    readonly port: number,
    freq: number,
    readonly law: Law = 'PCMU',
  ) {
    this.tone = new Tone(law, freq);
  }

  get packets(): number {
    return this.sent;
  }

  begin(): this {
    if (this.timer !== undefined) return this;
    this.start = performance.now() - this.sent * 20;
    const tick = (): void => {
      const now = performance.now();
      // Catch up (a stalled test thread), but never burst more than a few packets.
      while (this.start + this.sent * 20 <= now + 1) {
        this.phone.sendRtp(
          this.port,
          this.law === 'PCMU' ? 0 : 8,
          this.tone.frame(),
          this.sent === 0,
        );
        this.sent++;
      }
      this.timer = setTimeout(tick, Math.max(1, this.start + this.sent * 20 - performance.now()));
    };
    tick();
    return this;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export interface MonitoredCall {
  customer: FakePhone;
  agent: FakePhone;
  supervisor: FakePhone;
  customerLeg: Leg;
  agentLeg: Leg;
  supervisorLeg: Leg;
  room: Room;
  /** Talkers (not started): customer 440, agent 1000, supervisor 1800 Hz. */
  talkers: { customer: Talker; agent: Talker; supervisor: Talker };
  /** Room routes with the supervisor in `mode`, or without it when mode is null. */
  routes(mode: MonitorMode | null): RoomRoutesSpec;
}

let calls = 0;

export interface MonitoredCallOptions {
  /** telephone-event payload type on every leg (the supervisor's digits are consumed). */
  te?: number;
  /** The supervisor's codec (default PCMU, payload type 0; PCMA is 8). */
  supervisorLaw?: Law;
  /**
   * Where the customer's and agent's media really come from, when not from their fake
   * phones (e.g. senders in another process, media/pacedPhones.ts): the legs' remotes.
   */
  remotePorts?: { customer: number; agent: number };
}

/** Three phones and legs in one group, and an empty room on their worker. */
export async function monitoredCall(
  engine: MediaEngine,
  phones: FakePhone[],
  options: MonitoredCallOptions = {},
): Promise<MonitoredCall> {
  const group = `room-call-${++calls}`;
  const [customer, agent, supervisor] = await Promise.all([
    FakePhone.open(),
    FakePhone.open(),
    FakePhone.open(),
  ]);
  phones.push(customer, agent, supervisor);
  const te = options.te;
  const side = { law: 'PCMU', pt: 0, ...(te === undefined ? {} : { te }) } as const;
  const supLaw = options.supervisorLaw ?? 'PCMU';
  const remote = (port: number | undefined) =>
    port === undefined ? {} : { remote: { address: '127.0.0.1', port } };
  const customerLeg = await createLegFor(
    engine,
    customer,
    { ...side, ...remote(options.remotePorts?.customer) },
    group,
  );
  const agentLeg = await createLegFor(
    engine,
    agent,
    { ...side, ...remote(options.remotePorts?.agent) },
    group,
  );
  const supervisorLeg = await createLegFor(
    engine,
    supervisor,
    { ...side, law: supLaw, pt: supLaw === 'PCMU' ? 0 : 8, forwardDtmf: false },
    group,
  );
  const room = await engine.createRoom({ group });
  return {
    customer,
    agent,
    supervisor,
    customerLeg,
    agentLeg,
    supervisorLeg,
    room,
    talkers: {
      customer: new Talker(customer, customerLeg.localPort, CUSTOMER_HZ),
      agent: new Talker(agent, agentLeg.localPort, AGENT_HZ),
      supervisor: new Talker(supervisor, supervisorLeg.localPort, SUPERVISOR_HZ, supLaw),
    },
    routes(mode) {
      const base: Participant<Leg>[] = [
        { id: customerLeg, role: 'customer' },
        { id: agentLeg, role: 'agent' },
      ];
      return routesOf(
        mode === null ? base : [...base, { id: supervisorLeg, role: 'supervisor', mode }],
      );
    },
  };
}

/** The room routes of legs in roles and modes, as the product computes them. */
export function routesOf(participants: Participant<Leg>[]): RoomRoutesSpec {
  return roomRoutes(participants);
}

/** Packets that arrived in [fromMs, toMs) (performance.now() times). */
export function between(packets: readonly RtpIn[], fromMs: number, toMs: number): RtpIn[] {
  return packets.filter((p) => p.at >= fromMs && p.at < toMs);
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'callwatch-mixer-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
