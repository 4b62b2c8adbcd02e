/**
 * NTP timestamps as RTCP carries them (RFC 3550 §4): 32-bit seconds since 1900 and a
 * 32-bit binary fraction; report blocks carry the "compact" middle 32 bits (16.16, §6.4.1
 * LSR) and delays in units of 1/65536 s (DLSR). Pure arithmetic, no allocation.
 */

/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
export const NTP_UNIX_OFFSET_SECONDS = 2208988800;

/** NTP seconds (mod 2^32) of a Unix time in milliseconds. */
export function ntpSeconds(unixMs: number): number {
  return (Math.floor(unixMs / 1000) + NTP_UNIX_OFFSET_SECONDS) >>> 0;
}

/** NTP fraction (units of 2^-32 s) of a Unix time in milliseconds. */
export function ntpFraction(unixMs: number): number {
  const ms = unixMs - Math.floor(unixMs / 1000) * 1000;
  return Math.floor((ms / 1000) * 0x100000000) >>> 0;
}

/** The middle 32 bits of a 64-bit NTP timestamp (§6.4.1: the LSR field). */
export function ntpCompact(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

/** Milliseconds → units of 1/65536 s (§6.4.1: the DLSR field), saturated to 32 bits. */
export function toCompactDuration(ms: number): number {
  const units = Math.round((ms * 65536) / 1000);
  return units < 0 ? 0 : units > 0xffffffff ? 0xffffffff : units;
}

/**
 * Round-trip time in ms from a report block received at `arrivalCompact` (the receiver's
 * NTP time, compact form) echoing `lastSr` and `delaySinceLastSr` (§6.4.1, Figure 2).
 * Undefined semantics when lastSr is 0 (no SR received yet): callers skip those.
 */
export function roundTripMs(
  arrivalCompact: number,
  lastSr: number,
  delaySinceLastSr: number,
): number {
  return (((arrivalCompact - lastSr - delaySinceLastSr) >>> 0) * 1000) / 65536;
}
