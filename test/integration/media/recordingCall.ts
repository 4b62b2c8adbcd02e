/**
 * A recorded call for recording tests: each party sends PCMU (20 ms) on a drift-free
 * schedule from the moment the test says, silence until its tone starts at a known time,
 * and a per-packet plan may drop, hold back (reorder) or delay packets. The recording is
 * read back and judged by length and tone onsets.
 */
import { performance } from 'node:perf_hooks';
import { encodeUlawInto } from '../../../media/codecs/g711.js';
import type { FakePhone } from './fakePhone.js';
import { Tone } from './fakePhone.js';

/** What happens to packet `i` (0-based) of a party's stream. */
export type PacketFate = 'send' | 'drop' | { holdFor: number };

export interface PartyPlan {
  phone: FakePhone;
  port: number;
  hz: number;
  /** The tone starts with the packet sent this many ms after `t0`. */
  toneAtMs: number;
  fate?: (i: number) => PacketFate;
}

const SILENCE = (() => {
  const out = Buffer.alloc(160);
  encodeUlawInto(new Int16Array(160), out);
  return out;
})();

/** Sends one party's stream from `t0` (performance.now ms) until stop(). */
export class ScheduledParty {
  private timer: NodeJS.Timeout | undefined;
  private readonly tone: Tone;
  private sent = 0;
  /** Packets held back: sent after the given packet index went out. */
  private readonly held: { after: number; packet: Buffer }[] = [];

  constructor(
    readonly plan: PartyPlan,
    readonly t0: number,
  ) {
    this.tone = new Tone('PCMU', plan.hz);
  }

  get packets(): number {
    return this.sent;
  }

  begin(): this {
    const tick = (): void => {
      const now = performance.now();
      while (this.t0 + this.sent * 20 <= now + 1) this.one(this.sent++);
      this.timer = setTimeout(tick, Math.max(1, this.t0 + this.sent * 20 - performance.now()));
    };
    this.timer = setTimeout(tick, Math.max(0, this.t0 - performance.now()));
    return this;
  }

  private one(i: number): void {
    const { phone, port, toneAtMs } = this.plan;
    const payload = i * 20 >= toneAtMs ? this.tone.frame() : SILENCE;
    const fate = this.plan.fate?.(i) ?? 'send';
    if (fate === 'drop') {
      // Lost in the network: the stream's seq and ts still advance.
      phone.seq = (phone.seq + 1) & 0xffff;
      phone.ts = (phone.ts + 160) >>> 0;
    } else if (fate === 'send') {
      phone.sendRtp(port, 0, payload, i === 0);
    } else {
      // Reordered: build it now, send it after packet i + holdFor.
      const captured: Buffer[] = [];
      const send = phone.send.bind(phone);
      phone.send = (buf: Buffer) => captured.push(Buffer.from(buf));
      phone.sendRtp(port, 0, payload, i === 0);
      phone.send = send;
      this.held.push({ after: i + fate.holdFor, packet: captured[0]! });
    }
    for (let k = this.held.length - 1; k >= 0; k--) {
      if (this.held[k]!.after <= i) {
        phone.send(this.held[k]!.packet, port);
        this.held.splice(k, 1);
      }
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Position (s) of the first sample louder than `threshold` at or after `fromSec`, or -1. */
export function onsetSec(
  samples: Int16Array,
  sampleRate: number,
  threshold = 3000,
  fromSec = 0,
): number {
  for (let i = Math.floor(fromSec * sampleRate); i < samples.length; i++) {
    const v = samples[i]!;
    if (v > threshold || v < -threshold) return i / sampleRate;
  }
  return -1;
}

/** RMS of `samples` over [fromSec, toSec). */
export function rms(
  samples: Int16Array,
  sampleRate: number,
  fromSec: number,
  toSec: number,
): number {
  const a = Math.max(0, Math.floor(fromSec * sampleRate));
  const b = Math.min(samples.length, Math.floor(toSec * sampleRate));
  let sum = 0;
  for (let i = a; i < b; i++) sum += samples[i]! * samples[i]!;
  return b > a ? Math.sqrt(sum / (b - a)) : 0;
}
