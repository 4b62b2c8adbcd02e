/**
 * What the mix needs to know of a leg's codecs, read from the codec table
 * (media/codecs/table.ts) by the leg's PayloadMap kinds: the codec of a payload kind, the
 * codec a leg is sent, the clock of its RFC 4733 telephone-events, and from these the
 * rate a room mixes at. Control plane only (the hot path reads what these returned).
 */
import type { Codec } from '../codecs/codec.js';
import { codecOf, hasCodec } from '../codecs/table.js';
import { CODEC_OF_KIND as NAME_OF_KIND } from './payloadMap.js';
import type { WorkerLeg } from './workerLeg.js';

/** The narrowband and wideband mix rates (Hz). */
export const NARROWBAND_RATE = 8000;
export const WIDEBAND_RATE = 16000;

/** PayloadMap kind → the table's codec, null for a kind that is no codec (or one we lack). */
const CODEC_OF_KIND: readonly (Codec | null)[] = NAME_OF_KIND.map((name) =>
  name !== undefined && hasCodec(name) ? codecOf(name) : null,
);

/** The codec of payload kind `kind` (KIND_*), or null (telephone-event, none, unknown). */
export function codecOfKind(kind: number): Codec | null {
  return CODEC_OF_KIND[kind] ?? null;
}

/** The codec `leg` is sent (its preferred one), or null if the table lacks it. */
export function sendCodec(leg: WorkerLeg): Codec | null {
  return codecOfKind(leg.payloads.sendKind);
}

/**
 * The RTP clock of `leg`'s telephone-events (RFC 4733 §7.1.1: the audio's clock; 8000 for
 * G.711 and G.722, 48000 for Opus), as negotiated (TelephoneEventSpec.clockRate); 8000 for
 * a leg without telephone-event.
 */
export function eventClockRate(leg: WorkerLeg): number {
  const rate = leg.payloads.telephoneEventClockRate;
  return rate > 0 ? rate : NARROWBAND_RATE;
}

/**
 * The rate a room of `legs` mixes at: wideband (16 kHz) when any leg is sent a wideband
 * codec, else narrowband (8 kHz: nothing above 4 kHz to keep, half the cost); never below
 * `minRate` (a deployment or test may force wideband).
 */
export function roomRate(legs: readonly WorkerLeg[], minRate = NARROWBAND_RATE): number {
  let rate = minRate >= WIDEBAND_RATE ? WIDEBAND_RATE : NARROWBAND_RATE;
  for (const leg of legs) {
    if (sendCodec(leg)?.wideband === true) rate = WIDEBAND_RATE;
  }
  return rate;
}

/**
 * Rescales the duration field of every RFC 4733 event block in `buf[offset, end)` from a
 * `from` Hz telephone-event clock to a `to` Hz one (8000 ↔ 48000), in place; a duration
 * that no longer fits 16 bits saturates at 0xffff (RFC 4733 §2.5.1.3 segments long
 * events; the sender's next segment carries on).
 */
export function rescaleEventDurations(
  buf: Uint8Array,
  offset: number,
  end: number,
  from: number,
  to: number,
): void {
  for (let o = offset; o + 4 <= end; o += 4) {
    const duration = (buf[o + 2]! << 8) | buf[o + 3]!;
    let scaled = Math.round((duration * to) / from);
    if (scaled > 0xffff) scaled = 0xffff;
    buf[o + 2] = scaled >>> 8;
    buf[o + 3] = scaled & 0xff;
  }
}
