/**
 * Turns a leg's RFC 4733 telephone-event packets into digits: exactly one report per
 * event, however many packets carry it. A pure processor (docs/architecture.md §15.5):
 * `push` per packet returns the digits it completes; `expire` is called from the owner's
 * timer. No clock, no I/O.
 *
 * An event is identified by its RTP timestamp (§2.5.1.2: every packet of an event carries
 * the event's start timestamp). Policy:
 * - the digit is reported on the first packet with the E bit (§2.5.1.4 sends the end
 *   three times; the retransmissions, and any late packet of a reported event, are
 *   ignored). Lost start packets don't matter: any packet of the event opens it.
 * - if every end packet is lost, the event is reported when the next event starts
 *   (`ended: 'next-event'`) or when `expire` finds it silent for `timeoutMs`
 *   (`ended: 'timeout'`).
 * - a packet with a new timestamp, the same event code, no marker and the current event
 *   still open is a long-event segment (§2.5.1.5, events over 0xFFFF units): the same
 *   event continues, nothing is reported.
 * - packets with a timestamp older than the current event's are late and ignored.
 * - events that are not DTMF digits (codes above 15, e.g. 16 flash) are tracked, so
 *   their packets don't disturb the digits, but not reported.
 */
import {
  rtpMarker,
  rtpPayloadEnd,
  rtpPayloadOffset,
  rtpTimestamp,
  RTP_INVALID,
} from '../rtp/rtpHeader.js';
import {
  dtmfEventToChar,
  eventCode,
  eventDuration,
  eventEnd,
  eventVolume,
  TELEPHONE_EVENT_SIZE,
} from './telephoneEvent.js';

export interface DtmfDigit {
  digit: string;
  event: number;
  /** The event's RTP timestamp (of its last segment, for a long event). */
  timestamp: number;
  /** The longest duration seen, in timestamp units (segments of a long event added). */
  duration: number;
  /** 0–63, as −dBm0. */
  volume: number;
  /** How the end was known: an E-bit packet, the next event, or `expire`. */
  ended: 'end' | 'next-event' | 'timeout';
}

export interface DtmfReceiverOptions {
  /** Silence after which an event with no end packet is reported by `expire` (default 500). */
  timeoutMs?: number;
}

const NONE: readonly DtmfDigit[] = Object.freeze([]);

export class DtmfReceiver {
  readonly timeoutMs: number;

  private active = false;
  private reported = false;
  private timestamp = 0;
  private event = 0;
  private duration = 0;
  /** Duration of the earlier segments of a long event. */
  private baseDuration = 0;
  private volume = 0;
  private lastPacketMs = 0;

  constructor(options: DtmfReceiverOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 500;
  }

  /** One telephone-event packet, its fields already read. */
  push(
    timestamp: number,
    marker: boolean,
    event: number,
    end: boolean,
    volume: number,
    duration: number,
    nowMs: number,
  ): readonly DtmfDigit[] {
    const ts = timestamp >>> 0;
    if (this.active) {
      if (ts === this.timestamp) {
        if (this.reported) return NONE;
        this.note(volume, duration, nowMs);
        return end ? this.finish('end') : NONE;
      }
      if (((ts - this.timestamp) | 0) < 0) return NONE;
      if (!this.reported && event === this.event && !marker) {
        // §2.5.1.5 long-event segment: same event under a new timestamp.
        this.timestamp = ts;
        this.baseDuration += this.duration;
        this.duration = 0;
        this.note(volume, duration, nowMs);
        return end ? this.finish('end') : NONE;
      }
    }
    const previous = this.active && !this.reported ? this.finish('next-event') : NONE;
    this.active = true;
    this.reported = false;
    this.timestamp = ts;
    this.event = event;
    this.duration = 0;
    this.baseDuration = 0;
    this.note(volume, duration, nowMs);
    if (!end) return previous;
    const current = this.finish('end');
    if (previous.length === 0) return current;
    return current.length === 0 ? previous : [...previous, ...current];
  }

  /**
   * A whole RTP packet whose payload type is telephone-event. Malformed packets (bad RTP
   * header, payload shorter than 4 bytes) are ignored.
   */
  pushPacket(buf: Uint8Array, length: number, nowMs: number): readonly DtmfDigit[] {
    const offset = rtpPayloadOffset(buf, length);
    if (offset === RTP_INVALID) return NONE;
    const end = rtpPayloadEnd(buf, length);
    if (end === RTP_INVALID || end - offset < TELEPHONE_EVENT_SIZE) return NONE;
    return this.push(
      rtpTimestamp(buf),
      rtpMarker(buf),
      eventCode(buf, offset),
      eventEnd(buf, offset),
      eventVolume(buf, offset),
      eventDuration(buf, offset),
      nowMs,
    );
  }

  /** Reports an open event that has been silent for `timeoutMs`. */
  expire(nowMs: number): readonly DtmfDigit[] {
    if (!this.active || this.reported || nowMs - this.lastPacketMs < this.timeoutMs) return NONE;
    return this.finish('timeout');
  }

  private note(volume: number, duration: number, nowMs: number): void {
    if (duration > this.duration) this.duration = duration;
    this.volume = volume;
    this.lastPacketMs = nowMs;
  }

  private finish(ended: DtmfDigit['ended']): readonly DtmfDigit[] {
    this.reported = true;
    const digit = dtmfEventToChar(this.event);
    if (digit === undefined) return NONE;
    return [
      {
        digit,
        event: this.event,
        timestamp: this.timestamp,
        duration: this.baseDuration + this.duration,
        volume: this.volume,
        ended,
      },
    ];
  }
}
