/**
 * RFC 4733 telephone-event payloads (DTMF), §2.3:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     event     |E|R| volume    |          duration             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * event: 0–9, * = 10, # = 11, A–D = 12–15 (RFC 4734 §3.2); E: end of event; R: reserved;
 * volume: 0 to −63 dBm0 as 0–63; duration: in timestamp units since the event's
 * timestamp. All packets of one event carry the same RTP timestamp (the event's start,
 * §2.5.1.2), the first has the marker bit (§2.5.1.3), and the end packet is sent three
 * times (§2.5.1.4).
 */

export const TELEPHONE_EVENT_SIZE = 4;

const EVENT_CHARS = '0123456789*#ABCD';

/** '0'–'9', '*', '#', 'A'–'D' (case-insensitive) → event code; -1 for anything else. */
export function dtmfCharToEvent(ch: string): number {
  return ch.length === 1 ? EVENT_CHARS.indexOf(ch.toUpperCase()) : -1;
}

/** Event code → character; undefined for codes that are not DTMF digits (e.g. 16 flash). */
export function dtmfEventToChar(event: number): string | undefined {
  return event >= 0 && event < EVENT_CHARS.length ? EVENT_CHARS[event] : undefined;
}

/** The fields below read at `offset` (the RTP payload offset); check the size first. */
export function eventCode(buf: Uint8Array, offset: number): number {
  return buf[offset]!;
}

export function eventEnd(buf: Uint8Array, offset: number): boolean {
  return (buf[offset + 1]! & 0x80) !== 0;
}

export function eventVolume(buf: Uint8Array, offset: number): number {
  return buf[offset + 1]! & 0x3f;
}

export function eventDuration(buf: Uint8Array, offset: number): number {
  return (buf[offset + 2]! << 8) | buf[offset + 3]!;
}

/** Writes the 4-byte payload at `offset`; returns 4. R is written as 0. */
export function writeTelephoneEvent(
  buf: Uint8Array,
  offset: number,
  event: number,
  end: boolean,
  volume: number,
  duration: number,
): number {
  buf[offset] = event & 0xff;
  buf[offset + 1] = (end ? 0x80 : 0) | (volume & 0x3f);
  buf[offset + 2] = (duration >>> 8) & 0xff;
  buf[offset + 3] = duration & 0xff;
  return TELEPHONE_EVENT_SIZE;
}
