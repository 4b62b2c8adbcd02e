/**
 * A fake phone for media tests: one plain dgram socket on 127.0.0.1 that sends paced RTP
 * (a G.711 tone, RFC 4733 events, raw bytes) and records what it receives. Tests read
 * like the protocol (docs/architecture.md §15.11).
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { encodeAlawInto, encodeUlawInto } from '../../../media/codecs/g711.js';
import { dtmfCharToEvent, writeTelephoneEvent } from '../../../media/dtmf/telephoneEvent.js';
import {
  isRtcp,
  rtpMarker,
  rtpPayloadOffset,
  rtpPayloadType,
  rtpSequence,
  rtpSsrc,
  rtpTimestamp,
} from '../../../media/rtp/rtpHeader.js';
import { rtp } from '../../unit/media/rtpFixture.js';

export type Law = 'PCMU' | 'PCMA';

/** A received RTP packet. */
export interface RtpIn {
  pt: number;
  marker: boolean;
  seq: number;
  ts: number;
  ssrc: number;
  payload: Buffer;
  /** Arrival, performance.now() ms. */
  at: number;
}

/**
 * performance.now() once the datagrams this process has already received are handled.
 * A phone stamps a datagram (`at`) when this process handles it, and after a stall of
 * the test process the timer that ends a window runs before the poll that handles what
 * arrived meanwhile: a window ending at this time holds those datagrams too (late
 * stamps, right count). Two turns: one poll handles up to 32 datagrams per socket.
 */
export async function receivedNow(): Promise<number> {
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  return performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 10 ms; rejects with `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 3000,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A continuous sine, 20 ms of G.711 per frame. */
export class Tone {
  private n = 0;
  constructor(
    readonly law: Law,
    readonly freq: number,
    readonly amplitude = 0.4,
  ) {}

  frame(samples = 160): Buffer {
    const pcm = new Int16Array(samples);
    for (let i = 0; i < samples; i++) {
      pcm[i] = Math.round(
        this.amplitude * 32767 * Math.sin((2 * Math.PI * this.freq * (this.n + i)) / 8000),
      );
    }
    this.n += samples;
    const out = Buffer.alloc(samples);
    if (this.law === 'PCMU') encodeUlawInto(pcm, out);
    else encodeAlawInto(pcm, out);
    return out;
  }
}

export interface StreamOptions {
  pt: number;
  tone: Tone;
  packets: number;
  /** Called before packet i is sent (e.g. to change a leg's direction mid-stream). */
  before?: (i: number) => void | Promise<void>;
}

export class FakePhone {
  readonly rtp: RtpIn[] = [];
  readonly rtcp: Buffer[] = [];
  /** This phone's outgoing stream state (one SSRC, seq and ts advancing). */
  ssrc: number;
  seq: number;
  ts: number;

  private constructor(readonly socket: dgram.Socket) {
    this.ssrc = (Math.random() * 0xffffffff) >>> 0;
    this.seq = Math.floor(Math.random() * 60000);
    this.ts = (Math.random() * 0xffffffff) >>> 0;
    socket.on('message', (msg) => {
      if (isRtcp(msg)) {
        this.rtcp.push(msg);
        return;
      }
      const offset = rtpPayloadOffset(msg);
      if (offset < 0) return;
      this.rtp.push({
        pt: rtpPayloadType(msg),
        marker: rtpMarker(msg),
        seq: rtpSequence(msg),
        ts: rtpTimestamp(msg),
        ssrc: rtpSsrc(msg),
        payload: Buffer.from(msg.subarray(offset)),
        at: performance.now(),
      });
    });
  }

  static async open(): Promise<FakePhone> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new FakePhone(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Raw bytes to 127.0.0.1:`port`. */
  send(buf: Buffer, port: number): void {
    this.socket.send(buf, port, '127.0.0.1');
  }

  /** One RTP packet of this phone's stream; seq + 1, ts + 160 afterwards. */
  sendRtp(port: number, pt: number, payload: Buffer, marker = false): void {
    this.send(rtp({ pt, marker, seq: this.seq, ts: this.ts, ssrc: this.ssrc, payload }), port);
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + payload.length) >>> 0;
  }

  /** `packets` frames of `tone`, one per 20 ms, paced without drift. */
  async stream(port: number, options: StreamOptions): Promise<void> {
    const start = performance.now();
    for (let i = 0; i < options.packets; i++) {
      await options.before?.(i);
      const due = start + i * 20;
      if (due > performance.now()) await sleep(due - performance.now());
      this.sendRtp(port, options.pt, options.tone.frame(), i === 0);
    }
  }

  /**
   * One RFC 4733 key press (§2.5.1): `updates` packets 20 ms apart with the marker on the
   * first, all carrying the event's start timestamp, then the end packet three times.
   */
  async sendDigit(port: number, pt: number, digit: string, updates = 5): Promise<void> {
    const ts = this.ts;
    const payload = Buffer.alloc(4);
    const event = dtmfCharToEvent(digit);
    for (let i = 0; i < updates + 3; i++) {
      const end = i >= updates;
      const duration = (end ? updates : i + 1) * 160;
      writeTelephoneEvent(payload, 0, event, end, 10, duration);
      this.send(rtp({ pt, marker: i === 0, seq: this.seq, ts, ssrc: this.ssrc, payload }), port);
      this.seq = (this.seq + 1) & 0xffff;
      await sleep(20);
    }
    this.ts = (ts + updates * 160) >>> 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
